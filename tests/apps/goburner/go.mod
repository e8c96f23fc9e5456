module glimpse.test/goburner

go 1.26.0

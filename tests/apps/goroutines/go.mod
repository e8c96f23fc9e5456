module glimpse.test/goroutines

go 1.26.0

module glimpse.test/demoapp

go 1.26.0

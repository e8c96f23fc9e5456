module glimpse.test/httpsvc

go 1.26.0

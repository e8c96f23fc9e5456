module glimpse.test/logsvc

go 1.26.0

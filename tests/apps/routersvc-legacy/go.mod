module glimpse.test/routersvc

// The same service with only the routers whose modules Go 1.23 builds (gorilla/mux and
// httprouter; the sources are routersvc's): Go 1.23 binaries keep maps in buckets.
go 1.23

require (
	github.com/gorilla/mux v1.8.1
	github.com/julienschmidt/httprouter v1.3.0
)

// SPDX-License-Identifier: Apache-2.0
package main

import (
	"net/http"

	"github.com/julienschmidt/httprouter"
)

func init() { routers["httprouter"] = httpRouter }

// instrumentHTTPRouter wraps the router (the `-tags otel` build's otelhttp: httprouter has no
// OpenTelemetry instrumentation of its own).
var instrumentHTTPRouter = func(h http.Handler) http.Handler { return h }

// httprouter (v1.3.0, its newest release) does not tell a handler its route: each handler is
// registered with the template it answers.
func httpRouter() http.Handler {
	r := httprouter.New()
	h := func(route string) httprouter.Handle {
		return func(w http.ResponseWriter, req *http.Request, ps httprouter.Params) {
			answer(w, "httprouter", route, req.Method, status(route, req.Method, ps.ByName("id")), "ok")
		}
	}
	unmatched := func(code int) http.HandlerFunc {
		return func(w http.ResponseWriter, req *http.Request) {
			answer(w, "httprouter", "", req.Method, code, "no route")
		}
	}
	for _, route := range []struct{ method, path string }{
		{http.MethodGet, "/health"}, {http.MethodGet, "/users/:id"}, {http.MethodPost, "/users"},
		{http.MethodGet, "/counts"}, {http.MethodGet, "/api/v1/items/:id"},
	} {
		r.Handle(route.method, route.path, h(route.path))
	}
	r.NotFound = unmatched(http.StatusNotFound)
	r.MethodNotAllowed = unmatched(http.StatusMethodNotAllowed)
	return instrumentHTTPRouter(r)
}

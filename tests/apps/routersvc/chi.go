// SPDX-License-Identifier: Apache-2.0
package main

import (
	"net/http"

	"github.com/go-chi/chi/v5"
)

func init() { routers["chi"] = chiRouter }

// instrumentChi adds middleware before any route (the `-tags otel` build's otelchi).
var instrumentChi = func(*chi.Mux) {}

func chiRouter() http.Handler {
	r := chi.NewRouter()
	instrumentChi(r)
	h := func(w http.ResponseWriter, req *http.Request) {
		route := chi.RouteContext(req.Context()).RoutePattern()
		answer(w, "chi", route, req.Method, status(route, req.Method, chi.URLParam(req, "id")), "ok")
	}
	unmatched := func(code int) http.HandlerFunc {
		return func(w http.ResponseWriter, req *http.Request) { answer(w, "chi", "", req.Method, code, "no route") }
	}
	r.Get("/health", h)
	r.Get("/users/{id}", h)
	r.Post("/users", h)
	r.Get("/counts", h)
	api := chi.NewRouter()
	api.Get("/items/{id}", h)
	api.NotFound(unmatched(http.StatusNotFound))
	api.MethodNotAllowed(unmatched(http.StatusMethodNotAllowed))
	r.Mount("/api/v1", api)
	r.NotFound(unmatched(http.StatusNotFound))
	r.MethodNotAllowed(unmatched(http.StatusMethodNotAllowed))
	return r
}

// SPDX-License-Identifier: Apache-2.0
package main

import (
	"net/http"

	"github.com/gorilla/mux"
)

func init() { routers["mux"] = muxRouter }

// instrumentMux adds middleware (the `-tags otel` build's otelmux).
var instrumentMux = func(*mux.Router) {}

func muxRouter() http.Handler {
	r := mux.NewRouter()
	instrumentMux(r)
	h := func(w http.ResponseWriter, req *http.Request) {
		route, _ := mux.CurrentRoute(req).GetPathTemplate()
		answer(w, "mux", route, req.Method, status(route, req.Method, mux.Vars(req)["id"]), "ok")
	}
	unmatched := func(code int) http.HandlerFunc {
		return func(w http.ResponseWriter, req *http.Request) { answer(w, "mux", "", req.Method, code, "no route") }
	}
	r.HandleFunc("/health", h).Methods(http.MethodGet)
	r.HandleFunc("/users/{id}", h).Methods(http.MethodGet)
	r.HandleFunc("/users", h).Methods(http.MethodPost)
	r.HandleFunc("/counts", h).Methods(http.MethodGet)
	r.PathPrefix("/api/v1").Subrouter().HandleFunc("/items/{id}", h).Methods(http.MethodGet)
	r.NotFoundHandler = unmatched(http.StatusNotFound)
	r.MethodNotAllowedHandler = unmatched(http.StatusMethodNotAllowed)
	return r
}

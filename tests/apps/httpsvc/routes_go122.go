// SPDX-License-Identifier: Apache-2.0
//go:build go1.22
// +build go1.22

// GOPATH builds default to the Go 1.16 GODEBUG settings, which keep the pre-1.22 ServeMux:
// turn the pattern syntax on.
//go:debug httpmuxgo121=0

package main

import "net/http"

// registerPathRoutes registers the wildcard routes as Go 1.22 ServeMux patterns.
func registerPathRoutes(mux *http.ServeMux) {
	mux.HandleFunc("/users/{id}", func(w http.ResponseWriter, r *http.Request) {
		user(w, r, r.PathValue("id"))
	})
	mux.HandleFunc("/status/{code}", func(w http.ResponseWriter, r *http.Request) {
		status(w, r, r.PathValue("code"))
	})
}

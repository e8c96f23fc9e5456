// SPDX-License-Identifier: Apache-2.0
//go:build !go1.22
// +build !go1.22

package main

import (
	"net/http"
	"net/url"
	"strings"
)

// registerPathRoutes registers the wildcard routes as prefix routes that parse the path by
// hand, matching what the Go 1.22 patterns /users/{id} and /status/{code} accept: exactly
// one non-empty segment after the prefix, unescaped; anything else is 404.
func registerPathRoutes(mux *http.ServeMux) {
	mux.HandleFunc("/users/", func(w http.ResponseWriter, r *http.Request) {
		if id, ok := segment(r, "/users/"); ok {
			user(w, r, id)
		} else {
			http.NotFound(w, r)
		}
	})
	mux.HandleFunc("/status/", func(w http.ResponseWriter, r *http.Request) {
		if code, ok := segment(r, "/status/"); ok {
			status(w, r, code)
		} else {
			http.NotFound(w, r)
		}
	})
	// Without these the old mux redirects /users to /users/; the 1.22 patterns give 404.
	mux.Handle("/users", http.NotFoundHandler())
	mux.Handle("/status", http.NotFoundHandler())
}

// segment returns the single path segment after prefix, unescaped.
func segment(r *http.Request, prefix string) (string, bool) {
	rest := strings.TrimPrefix(r.URL.EscapedPath(), prefix)
	if rest == "" || strings.Contains(rest, "/") {
		return "", false
	}
	s, err := url.PathUnescape(rest)
	if err != nil {
		return "", false
	}
	return s, true
}

// SPDX-License-Identifier: Apache-2.0
//go:build xnet

package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/h2c"
)

// xnetH2C serves handler through golang.org/x/net/http2 itself, not net/http's bundled copy:
// h2c.NewHandler takes cleartext HTTP/2 (prior knowledge, and HTTP/1.1's Upgrade: h2c) and
// hands each such connection to http2.Server.ServeConn. Every request it serves is counted by
// protocol, path and status; GET /counts answers those counts (itself not included).
func xnetH2C(handler http.Handler) http.Handler {
	c := &counter{n: map[string]int{}}
	mux := http.NewServeMux()
	mux.Handle("/", handler)
	mux.HandleFunc("/counts", c.serve)
	return h2c.NewHandler(c.wrap(mux), &http2.Server{})
}

// xnetTLS has golang.org/x/net/http2 serve srv's HTTPS HTTP/2 (http2.ConfigureServer: its
// Server takes the h2 connections ALPN picks), as services did before net/http bundled it.
func xnetTLS(srv *http.Server) bool {
	return http2.ConfigureServer(srv, &http2.Server{}) == nil
}

type counter struct {
	mu sync.Mutex
	n  map[string]int
}

type recorder struct {
	http.ResponseWriter
	status int
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

func (c *counter) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &recorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if r.URL.Path == "/counts" {
			return
		}
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		c.mu.Lock()
		c.n[fmt.Sprintf("%s %s %d", r.Proto, r.URL.Path, rec.status)]++
		c.mu.Unlock()
	})
}

func (c *counter) serve(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	json.NewEncoder(w).Encode(c.n)
}

// SPDX-License-Identifier: Apache-2.0
package main

import (
	"io"
	"net/http"
	"strconv"
)

// deepCall serves /deepcall?depth=N: on a new goroutine (a fresh, small stack), N frames of
// recursion and then GET <peer>/fast straight through the Transport, as a reverse proxy does
// (httputil.ReverseProxy), with nothing but small frames between the recursion and
// roundTrip's large one: across depths the stack must grow exactly where roundTrip starts,
// whose prologue then runs twice (Go's morestack re-runs the function from its entry). A probe
// on that entry must not count it twice. Answers the peer's status.
func deepCall(w http.ResponseWriter, r *http.Request) {
	depth, err := strconv.Atoi(r.URL.Query().Get("depth"))
	if err != nil || depth < 0 || depth > 10000 || peer == "" {
		http.Error(w, "depth must be 0..10000, with -peer", http.StatusBadRequest)
		return
	}
	req, err := http.NewRequest(http.MethodGet, peer+"/fast", nil)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	status := make(chan int, 1)
	go func() { status <- deep(depth, req) }()
	w.WriteHeader(<-status)
}

// deep recurses n frames of a few words each (not inlined: it calls itself), then calls.
func deep(n int, req *http.Request) int {
	var pad [4]int
	pad[n%4] = n
	if n > 0 {
		return deep(n-1, req) + pad[(n+1)%4]*0
	}
	return roundTrip(req) + pad[0]*0
}

//go:noinline
func roundTrip(req *http.Request) int {
	resp, err := client.Transport.RoundTrip(req)
	if err != nil {
		return http.StatusBadGateway
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

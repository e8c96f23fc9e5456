// SPDX-License-Identifier: Apache-2.0
//go:build go1.24

package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
)

// drive GETs url n times, one after another on one connection: HTTP/1.1, or cleartext
// HTTP/2 with prior knowledge (h2c). A load for scripts/bench-proto.sh; exits 1 on a failure.
func drive(url string, n int, h2c bool) {
	var p http.Protocols
	p.SetHTTP1(!h2c)
	p.SetUnencryptedHTTP2(h2c)
	c := &http.Client{Transport: &http.Transport{Protocols: &p, MaxIdleConnsPerHost: 1}}
	for i := 0; i < n; i++ {
		resp, err := c.Get(url)
		if err != nil {
			fmt.Fprintln(os.Stderr, "httpsvc:", err)
			os.Exit(1)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

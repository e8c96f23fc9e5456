// SPDX-License-Identifier: Apache-2.0
//go:build go1.24

package main

import "net/http"

// enableH2C makes the server take cleartext HTTP/2 (prior knowledge) beside HTTP/1.1: Go 1.24+
// serves it with the same HTTP/2 server as over TLS.
func enableH2C(srv *http.Server) bool {
	var p http.Protocols
	p.SetHTTP1(true)
	p.SetUnencryptedHTTP2(true)
	srv.Protocols = &p
	return true
}

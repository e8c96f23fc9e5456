// SPDX-License-Identifier: Apache-2.0
//go:build !xnet

package main

import "net/http"

// Only the httpsvc-xnet builds (-tags xnet, module builds) link golang.org/x/net: the others
// stay what a plain net/http service is.
func xnetH2C(handler http.Handler) http.Handler { return nil }

func xnetTLS(srv *http.Server) bool { return false }

// SPDX-License-Identifier: Apache-2.0
//go:build !go1.24 || !xnet

package main

import "net/http"

// Only the httpsvc-xnet builds (-tags xnet, Go 1.24+ modules) link golang.org/x/net: the others
// stay what a plain net/http service is.
func xnetH2C(handler http.Handler) http.Handler { return nil }

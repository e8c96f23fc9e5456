// SPDX-License-Identifier: Apache-2.0
//go:build !go1.24

package main

import "net/http"

// Before Go 1.24 net/http has no cleartext HTTP/2 of its own.
func enableH2C(srv *http.Server) bool { return false }

// SPDX-License-Identifier: Apache-2.0
//go:build !go1.24

package main

import (
	"fmt"
	"os"
)

// Before Go 1.24 net/http's client has no cleartext HTTP/2: the driver is a Go 1.24+ build's.
func drive(url string, n int, h2c bool) {
	fmt.Fprintln(os.Stderr, "httpsvc: -drive needs a Go 1.24+ build")
	os.Exit(2)
}

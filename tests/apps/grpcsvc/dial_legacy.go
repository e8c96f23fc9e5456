// SPDX-License-Identifier: Apache-2.0
//go:build !go1.24

package main

import "google.golang.org/grpc"

// connect makes a client the way grpc-go 1.33 (Debian's) does.
func connect(addr string, opts ...grpc.DialOption) (*grpc.ClientConn, error) {
	return grpc.Dial(addr, append(opts, grpc.WithInsecure())...)
}

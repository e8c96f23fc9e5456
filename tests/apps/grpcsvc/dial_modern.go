// SPDX-License-Identifier: Apache-2.0
//go:build go1.24

package main

import (
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// connect makes a client (grpc.NewClient: grpc-go 1.63+).
func connect(addr string, opts ...grpc.DialOption) (*grpc.ClientConn, error) {
	return grpc.NewClient(addr, append(opts, grpc.WithTransportCredentials(insecure.NewCredentials()))...)
}

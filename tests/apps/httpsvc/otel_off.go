// SPDX-License-Identifier: Apache-2.0
//go:build !otel
// +build !otel

// The plain build (the one glimpse attaches to): no instrumentation. otel_on.go is the
// `-tags otel` build's.
package main

import "net/http"

func instrument(h http.Handler) http.Handler { return h }

func instrumentClient(c *http.Client) {}

func startTelemetry() func() { return func() {} }

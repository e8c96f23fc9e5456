// SPDX-License-Identifier: Apache-2.0
//go:build otel

// The `-tags otel` build: pgx traced by otelpgx (the instrumentation pgx's users reach for),
// go-redis by its own redisotel (tracing and metrics), net/http by otelhttp, and the SDK of
// tests/apps/otelsetup: the judge tests/e2e/test_otel_judge.py compares glimpse with. Built
// with -modfile=go.otel.mod.
package main

import (
	"fmt"
	"net/http"
	"os"

	"github.com/exaring/otelpgx"
	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/extra/redisotel/v9"
	"github.com/redis/go-redis/v9"
	"glimpse.test/otelsetup"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
)

func init() {
	startTelemetry = func() func() { return otelsetup.Start("godb") }
	instrumentPgx = func(c *pgx.ConnConfig) { c.Tracer = otelpgx.NewTracer() }
	instrumentRedis = func(c *redis.Client) {
		if err := redisotel.InstrumentTracing(c); err != nil {
			fmt.Fprintln(os.Stderr, "redisotel:", err)
			os.Exit(1)
		}
		if err := redisotel.InstrumentMetrics(c); err != nil {
			fmt.Fprintln(os.Stderr, "redisotel:", err)
			os.Exit(1)
		}
	}
	instrumentHandler = func(h http.Handler) http.Handler { return otelhttp.NewHandler(h, "godb") }
}

// SPDX-License-Identifier: Apache-2.0
//go:build otel

// The `-tags otel` build: each router instrumented as its users would, with the instrumentation
// its OpenTelemetry docs point to (otelgin, otelchi, otelecho, otelmux; otelhttp around
// httprouter, which has none) and the SDK of tests/apps/otelsetup; the judge that
// tests/e2e/test_otel_judge.py compares glimpse with. Built with -modfile=go.otel.mod.
package main

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/go-chi/chi/v5"
	"github.com/gorilla/mux"
	"github.com/labstack/echo/v4"
	"github.com/riandyrn/otelchi"
	"glimpse.test/otelsetup"
	"go.opentelemetry.io/contrib/instrumentation/github.com/gin-gonic/gin/otelgin"
	"go.opentelemetry.io/contrib/instrumentation/github.com/gorilla/mux/otelmux"
	"go.opentelemetry.io/contrib/instrumentation/github.com/labstack/echo/otelecho"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
)

const service = "routersvc"

func init() {
	startTelemetry = func() func() { return otelsetup.Start(service) }
	instrumentGin = func(r *gin.Engine) { r.Use(otelgin.Middleware(service)) }
	instrumentChi = func(r *chi.Mux) { r.Use(otelchi.Middleware(service, otelchi.WithChiRoutes(r))) }
	instrumentEcho = func(e *echo.Echo) { e.Use(otelecho.Middleware(service)) }
	instrumentMux = func(r *mux.Router) { r.Use(otelmux.Middleware(service)) }
	instrumentHTTPRouter = func(h http.Handler) http.Handler { return otelhttp.NewHandler(h, service) }
}

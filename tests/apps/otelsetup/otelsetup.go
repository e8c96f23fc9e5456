// SPDX-License-Identifier: Apache-2.0
// Package otelsetup starts the OpenTelemetry Go SDK the way a service's authors would, for the
// `-tags otel` builds of the test apps (the judge glimpse is compared with): a tracer provider
// with a batch span processor and a meter provider with a periodic reader, each exporting OTLP
// over HTTP/protobuf to OTEL_EXPORTER_OTLP_ENDPOINT; the Go runtime metrics (contrib
// instrumentation/runtime); W3C trace context propagation. The SDK's own environment variables
// (OTEL_BSP_SCHEDULE_DELAY, OTEL_METRIC_EXPORT_INTERVAL, OTEL_SERVICE_NAME, ...) apply as they
// do for any SDK user.
package otelsetup

import (
	"context"
	"fmt"
	"os"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/runtime"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// Start installs the global tracer and meter providers; the returned function flushes and
// shuts them down (call it before exiting).
func Start(service string) func() {
	ctx := context.Background()
	if os.Getenv("OTEL_SERVICE_NAME") == "" {
		os.Setenv("OTEL_SERVICE_NAME", service)
	}
	res := resource.Default() // service.name, telemetry.sdk.*, OTEL_RESOURCE_ATTRIBUTES
	spans, err := otlptracehttp.New(ctx)
	if err != nil {
		fail(err)
	}
	metrics, err := otlpmetrichttp.New(ctx)
	if err != nil {
		fail(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(spans), sdktrace.WithResource(res))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewPeriodicReader(metrics)),
		sdkmetric.WithResource(res))
	otel.SetTracerProvider(tp)
	otel.SetMeterProvider(mp)
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{},
		propagation.Baggage{}))
	if err := runtime.Start(); err != nil { // go.memory.*, go.goroutine.count, ...
		fail(err)
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		tp.Shutdown(ctx)
		mp.Shutdown(ctx)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "otelsetup:", err)
	os.Exit(1)
}

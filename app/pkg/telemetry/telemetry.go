// Package telemetry sets up what every CityOps process reports about
// itself: structured logs that carry trace ids, and OpenTelemetry traces
// that can be pointed at a collector.
package telemetry

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/go-kratos/kratos/v2/log"
	"github.com/go-kratos/kratos/v2/middleware/tracing"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
)

// NewLogger returns a logger writing key=value lines to w, with the service
// name, trace and span ids on every line, filtered at level.
func NewLogger(w io.Writer, service, level string) log.Logger {
	base := log.With(log.NewStdLogger(w),
		"ts", log.DefaultTimestamp,
		"service", service,
		"trace_id", tracing.TraceID(),
		"span_id", tracing.SpanID(),
	)
	return log.NewFilter(base, log.FilterLevel(log.ParseLevel(strings.ToUpper(level))))
}

// TracingConfig says where traces go.
type TracingConfig struct {
	Service string
	// Endpoint is an OTLP/HTTP collector (host:port); empty keeps traces in
	// the process (ids are still made so logs can be correlated).
	Endpoint    string
	Insecure    bool
	SampleRatio float64
}

// NewTracerProvider returns a tracer provider and its shutdown, which
// flushes spans still buffered.
func NewTracerProvider(ctx context.Context, c TracingConfig) (*sdktrace.TracerProvider, func(context.Context) error, error) {
	res := resource.NewSchemaless(semconv.ServiceName(c.Service))
	opts := []sdktrace.TracerProviderOption{
		sdktrace.WithResource(res),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(c.SampleRatio))),
	}
	if c.Endpoint != "" {
		eopts := []otlptracehttp.Option{otlptracehttp.WithEndpoint(c.Endpoint)}
		if c.Insecure {
			eopts = append(eopts, otlptracehttp.WithInsecure())
		}
		exp, err := otlptracehttp.New(ctx, eopts...)
		if err != nil {
			return nil, nil, fmt.Errorf("telemetry: otlp exporter: %w", err)
		}
		opts = append(opts, sdktrace.WithBatcher(exp))
	}
	tp := sdktrace.NewTracerProvider(opts...)
	return tp, tp.Shutdown, nil
}

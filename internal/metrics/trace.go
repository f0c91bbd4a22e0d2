// SPDX-License-Identifier: Apache-2.0

package metrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sort"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// TraceConfig configures tracing. The zero value turns it off.
type TraceConfig struct {
	// Endpoint is the OTLP/HTTP collector: its base URL
	// ("http://otel-collector:4318", which gets the standard /v1/traces
	// path) or the full traces URL. Empty: tracing is off.
	Endpoint string
	// ServiceName is the service.name resource attribute. Empty: "keygate".
	ServiceName string
	// SampleRatio is the fraction of new traces sampled, in (0, 1]; a
	// call that arrives inside a sampled trace is always sampled. Zero
	// means 1 (every call): to trace nothing, leave Endpoint empty.
	SampleRatio float64
	// Headers are sent with every export (a collector's auth token, for
	// instance). They are never printed: String and LogValue redact their
	// values.
	Headers map[string]string
	// Logger receives export failures (a collector that is down), at
	// warning level. Nil: they go to OpenTelemetry's global error handler,
	// which prints them to standard error.
	Logger *slog.Logger
}

// String describes c with header values redacted.
func (c TraceConfig) String() string {
	names := make([]string, 0, len(c.Headers))
	for k := range c.Headers {
		names = append(names, k+"="+Redacted)
	}
	sort.Strings(names)
	return fmt.Sprintf("TraceConfig{Endpoint:%q ServiceName:%q SampleRatio:%g Headers:[%s]}",
		c.Endpoint, c.ServiceName, c.SampleRatio, strings.Join(names, " "))
}

// GoString is String, so %#v redacts too.
func (c TraceConfig) GoString() string { return c.String() }

// LogValue logs c with header values redacted.
func (c TraceConfig) LogValue() slog.Value { return slog.StringValue(c.String()) }

// tracesURL validates the endpoint and adds the standard path when it has
// none.
func (c TraceConfig) tracesURL() (string, error) {
	u, err := url.Parse(c.Endpoint)
	if err != nil {
		return "", errors.New("tracing endpoint is not a URL")
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("tracing endpoint must be an http:// or https:// URL with a host, not scheme %q", u.Scheme)
	}
	if u.User != nil {
		return "", errors.New("tracing endpoint must not carry credentials in the URL; use headers")
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/v1/traces"
	}
	return u.String(), nil
}

// NewTracer returns the tracer provider for cfg and the function that
// flushes and stops it (call it on shutdown; it is safe to call once).
// With no Endpoint it returns a no-op provider and a no-op shutdown. It
// fails on an invalid endpoint (the error never repeats header values) or
// a sample ratio outside [0, 1]. Nothing is sent until spans end: an
// unreachable collector is reported by the exporter, not here.
//
// The provider is not installed globally: the caller hands it to whatever
// starts spans.
func NewTracer(ctx context.Context, cfg TraceConfig) (trace.TracerProvider, func(context.Context) error, error) {
	if cfg.Endpoint == "" {
		return noop.NewTracerProvider(), func(context.Context) error { return nil }, nil
	}
	endpoint, err := cfg.tracesURL()
	if err != nil {
		return nil, nil, err
	}
	ratio := cfg.SampleRatio
	if ratio < 0 || ratio > 1 {
		return nil, nil, fmt.Errorf("tracing sample ratio %g is outside [0, 1]", ratio)
	}
	if ratio == 0 {
		ratio = 1
	}
	name := cfg.ServiceName
	if name == "" {
		name = "keygate"
	}
	opts := []otlptracehttp.Option{otlptracehttp.WithEndpointURL(endpoint)}
	if len(cfg.Headers) > 0 {
		opts = append(opts, otlptracehttp.WithHeaders(cfg.Headers))
	}
	otlp, err := otlptracehttp.New(ctx, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("create OTLP trace exporter for %s: %w", endpoint, err)
	}
	var exp sdktrace.SpanExporter = otlp
	if cfg.Logger != nil {
		exp = loggedExporter{SpanExporter: otlp, logger: cfg.Logger}
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp),
		sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", name))),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(ratio))),
	)
	shutdown := func(ctx context.Context) error {
		if err := tp.Shutdown(ctx); err != nil {
			return fmt.Errorf("shut down tracing: %w", err)
		}
		return nil
	}
	return tp, shutdown, nil
}

// loggedExporter reports export failures to keygate's logger instead of
// OpenTelemetry's process-wide error handler. The exporter's errors name
// the endpoint, never the headers.
type loggedExporter struct {
	sdktrace.SpanExporter
	logger *slog.Logger
}

func (e loggedExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	if err := e.SpanExporter.ExportSpans(ctx, spans); err != nil {
		e.logger.WarnContext(ctx, "export traces", "spans", len(spans), "err", err)
	}
	return nil
}

// SPDX-License-Identifier: Apache-2.0

package metrics_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/metrics"
	"github.com/keygate/keygate/internal/testkit"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// MustRecorder returns a tracer whose spans land, once ended, in the
// returned in-memory exporter.
func MustRecorder(tb testing.TB) (trace.Tracer, *tracetest.InMemoryExporter) {
	tb.Helper()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	tb.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return tp.Tracer(metrics.TracerName), exp
}

func attrs(kvs []attribute.KeyValue) map[string]string {
	out := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		out[string(kv.Key)] = kv.Value.String()
	}
	return out
}

func TestCallSpan(t *testing.T) {
	tests := []struct {
		name       string
		ev         keygate.UsageEvent
		want       map[string]string
		wantStatus codes.Code
	}{
		{
			name: "OKTenantKey",
			ev:   call("openai", "chat", keygate.SourceTenant, 200),
			want: map[string]string{
				"keygate.key_source": "tenant", "keygate.provider": "openai", "keygate.model": "gpt-4o-mini",
				"keygate.tenant_id": "tn_AbCdEf0123456789", "keygate.route": "chat",
				"keygate.request_id": "req_0123456789abcdef01234567",
				"keygate.key_id":     "pk_AbCdEf0123456789", "keygate.key_version": "2",
				"http.response.status_code": "200",
				"gen_ai.usage.input_tokens": "100", "gen_ai.usage.output_tokens": "20", "keygate.usage.cached_tokens": "40",
				"keygate.streamed": "false", "keygate.canceled": "false", "keygate.cost_micros": "2500",
			},
			wantStatus: codes.Unset,
		},
		{
			name: "RequestKeyUpstreamError",
			ev: func() keygate.UsageEvent {
				ev := call("anthropic", "messages", keygate.SourceRequest, 502)
				ev.KeyID, ev.KeyVersion, ev.CostMicros, ev.Model = "", 0, 0, "claude-3-5-haiku-latest"
				ev.InputTokens, ev.OutputTokens, ev.CachedTokens, ev.Streamed = 0, 0, 0, true
				return ev
			}(),
			want: map[string]string{
				"keygate.key_source": "request", "keygate.provider": "anthropic", "keygate.model": "claude-3-5-haiku-latest",
				"keygate.tenant_id": "tn_AbCdEf0123456789", "keygate.route": "messages",
				"keygate.request_id":        "req_0123456789abcdef01234567",
				"http.response.status_code": "502",
				"gen_ai.usage.input_tokens": "0", "gen_ai.usage.output_tokens": "0", "keygate.usage.cached_tokens": "0",
				"keygate.streamed": "true", "keygate.canceled": "false",
			},
			wantStatus: codes.Error,
		},
		{
			name: "ModelIsAKey",
			ev: func() keygate.UsageEvent {
				ev := call("openai", "chat", keygate.SourcePlatform, 499)
				ev.Model, ev.Canceled, ev.KeyID = testkit.CanaryOpenAIKey, true, ""
				return ev
			}(),
			want: map[string]string{
				"keygate.key_source": "platform", "keygate.provider": "openai", "keygate.model": metrics.Redacted,
				"keygate.tenant_id": "tn_AbCdEf0123456789", "keygate.route": "chat",
				"keygate.request_id":        "req_0123456789abcdef01234567",
				"http.response.status_code": "499",
				"gen_ai.usage.input_tokens": "100", "gen_ai.usage.output_tokens": "20", "keygate.usage.cached_tokens": "40",
				"keygate.streamed": "false", "keygate.canceled": "true", "keygate.cost_micros": "2500",
			},
			wantStatus: codes.Unset,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tracer, exp := MustRecorder(t)
			_, span := metrics.StartCallSpan(context.Background(), tracer, "POST /v1/chat/completions")
			metrics.EndCallSpan(span, tc.ev)
			spans := exp.GetSpans()
			if len(spans) != 1 {
				t.Fatalf("got %d spans, want 1", len(spans))
			}
			s := spans[0]
			if diff := cmp.Diff(tc.want, attrs(s.Attributes)); diff != "" {
				t.Errorf("attributes (-want +got):\n%s", diff)
			}
			if s.Status.Code != tc.wantStatus {
				t.Errorf("status = %v, want %v", s.Status.Code, tc.wantStatus)
			}
			if s.SpanKind != trace.SpanKindServer || s.Name != "POST /v1/chat/completions" {
				t.Errorf("span %q kind %v, want server span %q", s.Name, s.SpanKind, "POST /v1/chat/completions")
			}
		})
	}
}

// TestCallSpanCanary plants the canary key in every string field of the
// usage event: no span attribute, name or event carries it.
func TestCallSpanCanary(t *testing.T) {
	key := testkit.CanaryOpenAIKey
	fields := []struct {
		name string
		edit func(ev *keygate.UsageEvent)
	}{
		{"RequestID", func(ev *keygate.UsageEvent) { ev.RequestID = key }},
		{"Tenant", func(ev *keygate.UsageEvent) { ev.Tenant = keygate.TenantID(key) }},
		{"Provider", func(ev *keygate.UsageEvent) { ev.Provider = key }},
		{"Model", func(ev *keygate.UsageEvent) { ev.Model = key }},
		{"ModelMarker", func(ev *keygate.UsageEvent) { ev.Model = "gpt-4o/" + testkit.CanaryMarker }},
		{"Route", func(ev *keygate.UsageEvent) { ev.Route = key }},
		{"Source", func(ev *keygate.UsageEvent) { ev.Source = keygate.KeySource(key) }},
		{"KeyID", func(ev *keygate.UsageEvent) { ev.KeyID = key }},
	}
	for _, f := range fields {
		t.Run(f.name, func(t *testing.T) {
			tracer, exp := MustRecorder(t)
			ev := call("openai", "chat", keygate.SourceTenant, 200)
			f.edit(&ev)
			_, span := metrics.StartCallSpan(context.Background(), tracer, "POST /v1/chat/completions")
			metrics.EndCallSpan(span, ev)
			for _, s := range exp.GetSpans() {
				var buf bytes.Buffer
				fmt.Fprintf(&buf, "%s %v %v %v", s.Name, s.Attributes, s.Events, s.Status)
				testkit.AssertNoCanary(t, "span", buf.Bytes())
			}
		})
	}
}

func TestStartCallSpanNilTracer(t *testing.T) {
	ctx := context.Background()
	got, span := metrics.StartCallSpan(ctx, nil, "x")
	if got != ctx || span.IsRecording() {
		t.Fatalf("nil tracer: got a recording span or a new context")
	}
	metrics.EndCallSpan(span, call("openai", "chat", keygate.SourceTenant, 200)) // must not panic
}

// MustCollector returns a fake OTLP/HTTP collector that accepts every
// export, and the requests it got.
func MustCollector(tb testing.TB) (*httptest.Server, *collected) {
	tb.Helper()
	got := &collected{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got.mu.Lock()
		got.paths, got.auth = append(got.paths, r.URL.Path), append(got.auth, r.Header.Get("Authorization"))
		got.bodies.Write(b)
		got.mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	tb.Cleanup(srv.Close)
	return srv, got
}

type collected struct {
	mu          sync.Mutex
	paths, auth []string
	bodies      bytes.Buffer
}

func TestNewTracer(t *testing.T) {
	collector, _ := MustCollector(t)
	tests := []struct {
		name    string
		cfg     metrics.TraceConfig
		wantErr string
	}{
		{"OffByDefault", metrics.TraceConfig{}, ""},
		{"OKSampleAll", metrics.TraceConfig{Endpoint: collector.URL + "/v1/traces", SampleRatio: 1}, ""},
		{"OKDefaultRatio", metrics.TraceConfig{Endpoint: collector.URL}, ""},
		{"ErrScheme", metrics.TraceConfig{Endpoint: "grpc://collector:4317"}, "http:// or https://"},
		{"ErrNoHost", metrics.TraceConfig{Endpoint: "http://"}, "with a host"},
		{"ErrNotURL", metrics.TraceConfig{Endpoint: "http://a b/%zz"}, "not a URL"},
		{"ErrCredentialsInURL", metrics.TraceConfig{Endpoint: "https://user:" + testkit.CanaryOpenAIKey + "@collector"}, "credentials"},
		{"ErrRatio", metrics.TraceConfig{Endpoint: "http://127.0.0.1:4318", SampleRatio: 1.5}, "sample ratio"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tp, shutdown, err := metrics.NewTracer(context.Background(), tc.cfg)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				testkit.AssertNoCanary(t, "error", []byte(err.Error()))
				return
			}
			if err != nil {
				t.Fatalf("NewTracer: %v", err)
			}
			_, span := tp.Tracer(metrics.TracerName).Start(context.Background(), "x")
			if recording := span.IsRecording(); recording != (tc.cfg.Endpoint != "") {
				t.Errorf("span recording = %t with endpoint %q", recording, tc.cfg.Endpoint)
			}
			span.End()
			if err := shutdown(context.Background()); err != nil {
				t.Errorf("shutdown: %v", err)
			}
		})
	}
}

// TestNewTracerExports points the OTLP exporter at a fake collector: spans
// arrive on /v1/traces with the configured headers, and carry no canary.
func TestNewTracerExports(t *testing.T) {
	collector, got := MustCollector(t)

	cfg := metrics.TraceConfig{Endpoint: collector.URL, ServiceName: "keygate-test", Headers: map[string]string{"Authorization": "Bearer collector-token"}}
	tp, shutdown, err := metrics.NewTracer(context.Background(), cfg)
	if err != nil {
		t.Fatalf("NewTracer: %v", err)
	}
	ev := call("openai", "chat", keygate.SourceRequest, 200)
	ev.Model = testkit.CanaryOpenAIKey
	_, span := metrics.StartCallSpan(context.Background(), tp.Tracer(metrics.TracerName), "POST /v1/chat/completions")
	metrics.EndCallSpan(span, ev)
	if err := shutdown(context.Background()); err != nil { // flushes the batch
		t.Fatalf("shutdown: %v", err)
	}
	got.mu.Lock()
	defer got.mu.Unlock()
	paths, auth, bodies := got.paths, got.auth, &got.bodies
	if diff := cmp.Diff([]string{"/v1/traces"}, paths); diff != "" {
		t.Errorf("export paths (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"Bearer collector-token"}, auth); diff != "" {
		t.Errorf("Authorization headers (-want +got):\n%s", diff)
	}
	for _, want := range []string{"keygate-test", "keygate.key_source", "tn_AbCdEf0123456789"} {
		if !bytes.Contains(bodies.Bytes(), []byte(want)) {
			t.Errorf("export lacks %q", want)
		}
	}
	testkit.AssertNoCanary(t, "OTLP export", bodies.Bytes())
}

func TestTraceConfigRedacts(t *testing.T) {
	cfg := metrics.TraceConfig{Endpoint: "http://c:4318", Headers: map[string]string{"Authorization": "Bearer " + testkit.CanaryOpenAIKey}}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("tracing", "config", cfg)
	for _, out := range []string{fmt.Sprint(cfg), fmt.Sprintf("%v %+v %#v %s", cfg, cfg, cfg, cfg), logged.String()} {
		testkit.AssertNoCanary(t, "printed TraceConfig", []byte(out))
		if !strings.Contains(out, "Authorization="+metrics.Redacted) {
			t.Errorf("printed config %q does not name the redacted header", out)
		}
	}
}

// TestNewTracerLogsExportFailure: with a Logger, a collector that is down
// is reported there (without the headers), not on standard error.
func TestNewTracerLogsExportFailure(t *testing.T) {
	down := httptest.NewServer(http.NotFoundHandler())
	endpoint := down.URL
	down.Close() // nothing listens there any more
	var logged bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewJSONHandler(&lockedWriter{w: &logged, mu: &mu}, nil))
	cfg := metrics.TraceConfig{Endpoint: endpoint, Logger: logger, Headers: map[string]string{"Authorization": "Bearer " + testkit.CanaryOpenAIKey}}
	tp, shutdown, err := metrics.NewTracer(context.Background(), cfg)
	if err != nil {
		t.Fatalf("NewTracer: %v", err)
	}
	_, span := tp.Tracer(metrics.TracerName).Start(context.Background(), "x")
	span.End()
	if err := shutdown(context.Background()); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(logged.String(), "export traces") {
		t.Errorf("no export failure logged: %q", logged.String())
	}
	testkit.AssertNoCanary(t, "log", logged.Bytes())
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

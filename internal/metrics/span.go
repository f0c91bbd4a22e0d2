// SPDX-License-Identifier: Apache-2.0

package metrics

import (
	"context"

	"github.com/keygate/keygate"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// TracerName is the instrumentation scope of keygate's spans.
const TracerName = "github.com/keygate/keygate"

// Span attribute keys set by EndCallSpan.
const (
	AttrKeySource    = "keygate.key_source"
	AttrProvider     = "keygate.provider"
	AttrModel        = "keygate.model"
	AttrTenantID     = "keygate.tenant_id"
	AttrRoute        = "keygate.route"
	AttrRequestID    = "keygate.request_id"
	AttrKeyID        = "keygate.key_id"
	AttrKeyVersion   = "keygate.key_version"
	AttrStreamed     = "keygate.streamed"
	AttrCanceled     = "keygate.canceled"
	AttrCachedTokens = "keygate.usage.cached_tokens"
	AttrCostMicros   = "keygate.cost_micros"
	AttrStatusCode   = "http.response.status_code"  // OTel HTTP semantic convention
	AttrInputTokens  = "gen_ai.usage.input_tokens"  // OTel GenAI semantic convention
	AttrOutputTokens = "gen_ai.usage.output_tokens" // OTel GenAI semantic convention
)

// StartCallSpan starts the span of one proxied call, a server span named
// name (the route, such as "POST /v1/chat/completions", never a raw path
// with ids in it), as a child of any span in ctx. End it with EndCallSpan.
// tracer comes from the provider NewTracer returned (tp.Tracer(TracerName));
// a nil tracer starts a no-op span.
func StartCallSpan(ctx context.Context, tracer trace.Tracer, name string) (context.Context, trace.Span) {
	if tracer == nil {
		return ctx, noop.Span{}
	}
	return tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindServer))
}

// EndCallSpan sets the call's attributes from its usage event and ends
// the span: key source, provider, model, tenant id, route, request id, key
// id and version (ids, never key material), HTTP status and tokens. A
// status of 500 or more (and 0, no answer) marks the span as an error.
// Every string attribute is passed through Scrub, so a key pasted into a
// field by mistake (a model name set to a key) is recorded as Redacted.
func EndCallSpan(span trace.Span, ev keygate.UsageEvent) {
	if !span.IsRecording() {
		span.End()
		return
	}
	span.SetAttributes(
		attribute.String(AttrKeySource, Scrub(string(ev.Source))),
		attribute.String(AttrProvider, Scrub(ev.Provider)),
		attribute.String(AttrModel, Scrub(ev.Model)),
		attribute.String(AttrTenantID, Scrub(string(ev.Tenant))),
		attribute.String(AttrRoute, Scrub(ev.Route)),
		attribute.String(AttrRequestID, Scrub(ev.RequestID)),
		attribute.Int(AttrStatusCode, ev.Status),
		attribute.Int64(AttrInputTokens, ev.InputTokens),
		attribute.Int64(AttrOutputTokens, ev.OutputTokens),
		attribute.Int64(AttrCachedTokens, ev.CachedTokens),
		attribute.Bool(AttrStreamed, ev.Streamed),
		attribute.Bool(AttrCanceled, ev.Canceled),
	)
	if ev.KeyID != "" {
		span.SetAttributes(
			attribute.String(AttrKeyID, Scrub(ev.KeyID)),
			attribute.Int(AttrKeyVersion, ev.KeyVersion),
		)
	}
	if ev.CostMicros > 0 {
		span.SetAttributes(attribute.Int64(AttrCostMicros, ev.CostMicros))
	}
	if ev.Status >= 500 || ev.Status == 0 {
		span.SetStatus(codes.Error, "HTTP "+statusLabel(ev.Status))
	}
	span.End()
}

// SPDX-License-Identifier: Apache-2.0

// Package metrics is keygate's observability adapter: Prometheus collectors
// registered on an injected prometheus.Registerer (never the default one),
// the /metrics handler, and OpenTelemetry tracing (an OTLP/HTTP exporter
// when configured, a no-op tracer otherwise) with one span per proxied call.
//
// Nothing here may carry a secret. Label values are bounded: each label
// takes its values from a fixed set or an allow-list handed over at
// construction (the provider catalog, the route table), and anything else is
// counted under "other". Tenant ids, models, key ids and request ids are
// never labels. Span attributes that could carry a caller-supplied string
// (the model) are scrubbed of anything shaped like a key or token.
//
// docs/observability.md lists every metric, its labels, and every span
// attribute.
package metrics

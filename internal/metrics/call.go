// SPDX-License-Identifier: Apache-2.0

package metrics

import (
	"time"

	"github.com/keygate/keygate"
	"github.com/prometheus/client_golang/prometheus"
)

// callKey is the raw label combination of a call, before bounding; the
// observer cache is keyed by it so that a hit needs no sanitising.
type callKey struct {
	provider, route string
	source          keygate.KeySource
	status          int
}

// callObservers are the series one label combination feeds, resolved
// once: observing a call is then a map lookup and atomic adds, with no
// allocation.
type callObservers struct {
	requests                       prometheus.Counter
	errors                         prometheus.Counter // nil below 400
	latency, upstream              prometheus.Observer
	tokensIn, tokensOut, tokensHit prometheus.Counter
	byok                           prometheus.Counter // nil for platform-paid calls
	cost, billable                 prometheus.Counter
}

// ObserveCall records one proxied call from its usage event: the request
// and error counts, its latency (ev.Latency) and the provider's share
// (upstream: from sending the upstream request to its response headers;
// zero or less when the provider was never asked, then not observed),
// tokens, BYOK use and cost. Only ev's provider, route, key source and
// status become labels, bounded (see Options); tenant, model, key and
// request ids never do.
func (m *Metrics) ObserveCall(ev keygate.UsageEvent, upstream time.Duration) {
	k := callKey{provider: ev.Provider, route: ev.Route, source: ev.Source, status: ev.Status}
	m.mu.RLock()
	o := m.calls[k]
	m.mu.RUnlock()
	if o == nil {
		o = m.callObservers(k)
	}
	o.requests.Inc()
	if o.errors != nil {
		o.errors.Inc()
	}
	o.latency.Observe(ev.Latency.Seconds())
	if upstream > 0 {
		o.upstream.Observe(upstream.Seconds())
	}
	if ev.InputTokens > 0 {
		o.tokensIn.Add(float64(ev.InputTokens))
	}
	if ev.OutputTokens > 0 {
		o.tokensOut.Add(float64(ev.OutputTokens))
	}
	if ev.CachedTokens > 0 {
		o.tokensHit.Add(float64(ev.CachedTokens))
	}
	if o.byok != nil {
		o.byok.Inc()
	}
	if ev.Priced == keygate.PricedEstimated || ev.Priced == keygate.PricedNone {
		m.unpriced.WithLabelValues(m.providers.value(ev.Provider)).Inc()
	}
	if ev.CostMicros > 0 {
		usd := float64(ev.CostMicros) / 1e6
		o.cost.Add(usd)
		if ev.Billable {
			o.billable.Add(usd)
		}
	}
}

// callObservers resolves (and caches, up to maxCachedCalls) the series of
// one raw label combination.
func (m *Metrics) callObservers(k callKey) *callObservers {
	provider, route := m.providers.value(k.provider), m.routes.value(k.route)
	source, status, class := sourceLabel(k.source), statusLabel(k.status), statusClass(k.status)
	o := &callObservers{
		requests:  m.requests.WithLabelValues(provider, route, source, status),
		latency:   m.latency.WithLabelValues(provider, route, source, class),
		upstream:  m.upstream.WithLabelValues(provider, route, source, class),
		tokensIn:  m.tokens.WithLabelValues(provider, source, "input"),
		tokensOut: m.tokens.WithLabelValues(provider, source, "output"),
		tokensHit: m.tokens.WithLabelValues(provider, source, "cached"),
		cost:      m.cost.WithLabelValues(provider, source),
		billable:  m.billable.WithLabelValues(provider, source),
	}
	if k.status >= 400 || k.status < 100 {
		o.errors = m.errors.WithLabelValues(provider, route, source, status)
	}
	if source == string(keygate.SourceTenant) || source == string(keygate.SourceRequest) {
		o.byok = m.byok.WithLabelValues(provider)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if prev := m.calls[k]; prev != nil {
		return prev
	}
	if len(m.calls) < maxCachedCalls {
		m.calls[k] = o
	}
	return o
}

// SPDX-License-Identifier: Apache-2.0

package metrics

import (
	"strconv"
	"strings"
	"time"
)

// ObserveRejection counts a call that governance refused before it reached
// the provider. kind is "budget" or "rate" (anything else counts as
// "other"); provider is the catalog name.
func (m *Metrics) ObserveRejection(kind, provider string) {
	switch kind {
	case "budget", "rate":
	default:
		kind = other
	}
	m.rejections.WithLabelValues(kind, m.providers.value(provider)).Inc()
}

// ObserveScrubs counts n copies of a call's credential that keygate
// replaced in a provider's answer. where is "header" or "body" (anything
// else counts as "other"); provider is the catalog name.
func (m *Metrics) ObserveScrubs(provider, where string, n int) {
	switch where {
	case "header", "body":
	default:
		where = other
	}
	if n > 0 {
		m.scrubs.WithLabelValues(m.providers.value(provider), where).Add(float64(n))
	}
}

// ObserveGatewayError counts a gateway call that keygate answered with an
// error of its own, before or instead of a provider's answer (a bad token,
// no key for the provider, a budget or rate refusal, an unreachable
// provider). route is the route family; code is the keygate.Error code
// (keygate.ErrorCode(err)); unknown codes count as "other".
func (m *Metrics) ObserveGatewayError(route, code string) {
	m.gatewayErrors.WithLabelValues(m.routes.value(route), m.codes.value(code)).Inc()
}

// CacheObserver returns what the named cache ("token", "tenant", "key":
// a fixed name chosen by the code, never data) calls on every lookup. Its
// counters are bound once, so that a lookup on the hot path costs one
// atomic add and no allocation.
func (m *Metrics) CacheObserver(cache string) func(hit bool) {
	name := m.caches.value(cache)
	hit, miss := m.cacheLookups.WithLabelValues(name, "hit"), m.cacheLookups.WithLabelValues(name, "miss")
	return func(h bool) {
		if h {
			hit.Inc()
		} else {
			miss.Inc()
		}
	}
}

// ObserveChange counts a change another replica (or this one) announced on
// the change feed: kind is keygate.ChangeKind ("key", "tenant", "token";
// anything else counts as "other").
func (m *Metrics) ObserveChange(kind string) {
	switch kind {
	case "key", "tenant", "token":
	default:
		kind = other
	}
	m.changes.WithLabelValues(kind).Inc()
}

// ObserveResync counts a (re)connection of the change feed, after which
// every cache is dropped since changes may have been missed meanwhile.
func (m *Metrics) ObserveResync() { m.resyncs.Inc() }

// ObserveConnection counts a client connection the server accepted
// (opened true) or closed (opened false), for the open_connections gauge.
func (m *Metrics) ObserveConnection(opened bool) {
	if opened {
		m.connections.Inc()
		return
	}
	m.connections.Dec()
}

// SetKeyHealth publishes the number of stored keys per health status
// (keygate.KeyStatus values). A status published before and absent from
// counts drops to 0, so a scrape never sees a stale count.
func (m *Metrics) SetKeyHealth(counts map[string]int) {
	m.healthMu.Lock()
	defer m.healthMu.Unlock()
	next := make(map[string]float64, len(counts))
	for status, n := range counts {
		next[m.health.value(status)] += float64(n)
	}
	for status := range m.healthSeen {
		if _, ok := next[status]; !ok {
			m.keyHealth.WithLabelValues(status).Set(0)
		}
	}
	for status, n := range next {
		m.keyHealth.WithLabelValues(status).Set(n)
		m.healthSeen[status] = true
	}
}

// ObserveAPI records one management API request. route must be the
// matched route pattern (http.Request.Pattern, such as
// "/api/v1/tenants/{tenant}/keys/{provider}"; a leading method is
// dropped), never the request path, which carries tenant names and ids;
// an empty route (nothing matched) counts as "unmatched".
func (m *Metrics) ObserveAPI(route, method string, status int, d time.Duration) {
	if _, rest, ok := strings.Cut(route, " "); ok {
		route = rest
	}
	route = strings.TrimSpace(route)
	if route == "" {
		route = "unmatched"
	} else {
		route = m.apiRoutes.value(route)
	}
	method = methodLabel(method)
	code := other
	if status >= 100 && status <= 599 {
		code = strconv.Itoa(status)
	}
	m.apiRequests.WithLabelValues(route, method, code).Inc()
	m.apiLatency.WithLabelValues(route, method).Observe(d.Seconds())
}

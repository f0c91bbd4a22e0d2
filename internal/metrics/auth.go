// SPDX-License-Identifier: Apache-2.0

package metrics

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Auth counts failed authentications and the requests refused because
// their client address is throttled (auth.Throttle), by surface (api,
// gateway). Label values are the surfaces keygate names, never input.
type Auth struct {
	failures, throttled *prometheus.CounterVec
}

// NewAuth registers the authentication counters on reg, with the given
// surfaces present from the start at zero.
func NewAuth(reg prometheus.Registerer, surfaces ...string) (*Auth, error) {
	a := &Auth{
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "auth_failures_total",
			Help: "Failed authentications (unknown, revoked or expired admin or gateway tokens), by surface (api, gateway).",
		}, []string{"surface"}),
		throttled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "auth_throttled_total",
			Help: "Requests refused with 429 auth_throttled because their client address failed to authenticate too often, by surface (api, gateway).",
		}, []string{"surface"}),
	}
	for _, c := range []prometheus.Collector{a.failures, a.throttled} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register auth metrics: %w", err)
		}
	}
	for _, s := range surfaces {
		a.failures.WithLabelValues(s)
		a.throttled.WithLabelValues(s)
	}
	return a, nil
}

// Failure counts a failed authentication on surface.
func (a *Auth) Failure(surface string) { a.failures.WithLabelValues(surface).Inc() }

// Throttled counts a request refused as throttled on surface.
func (a *Auth) Throttled(surface string) { a.throttled.WithLabelValues(surface).Inc() }

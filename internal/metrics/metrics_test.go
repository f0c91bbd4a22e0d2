// SPDX-License-Identifier: Apache-2.0

package metrics_test

import (
	"bytes"
	"fmt"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/metrics"
	"github.com/keygate/keygate/internal/testkit"
	"github.com/prometheus/client_golang/prometheus"
)

func TestNew(t *testing.T) {
	t.Run("ErrNilRegisterer", func(t *testing.T) {
		if _, err := metrics.NewWithOptions(nil, metrics.Options{}); err == nil {
			t.Fatal("New(nil) succeeded")
		}
	})
	t.Run("ErrRegisteredTwice", func(t *testing.T) {
		reg := prometheus.NewRegistry()
		if _, err := metrics.NewWithOptions(reg, metrics.Options{}); err != nil {
			t.Fatalf("first New: %v", err)
		}
		if _, err := metrics.NewWithOptions(reg, metrics.Options{}); err == nil {
			t.Fatal("second New on the same registry succeeded")
		}
	})
	t.Run("OKNothingObserved", func(t *testing.T) {
		m, reg := MustNew(t, metrics.Options{})
		MustParse(t, MustScrape(t, m, reg))
	})
}

// TestExposition observes a few calls and every other hook, then checks
// that /metrics parses with the Prometheus text parser and holds every
// specified series with the right value.
func TestExposition(t *testing.T) {
	m, reg := MustNew(t, metrics.Options{Providers: []string{"openai", "anthropic"}})
	m.ObserveCall(call("openai", "chat", keygate.SourcePlatform, 200), 1200*time.Millisecond)
	m.ObserveCall(call("openai", "chat", keygate.SourcePlatform, 200), 800*time.Millisecond)
	m.ObserveCall(call("anthropic", "messages", keygate.SourceTenant, 401), 300*time.Millisecond)
	m.ObserveCall(call("openai", "embeddings", keygate.SourceRequest, 499), 0)
	m.ObserveRejection("budget", "openai")
	m.ObserveRejection("rate", "anthropic")
	m.ObserveGatewayError("chat", keygate.CodeProviderKeyMissing)
	m.ObserveScrubs("openai", "body", 2)
	m.ObserveScrubs("openai", "body", 1)
	m.ObserveScrubs("anthropic", "header", 1)
	m.ObserveScrubs("anthropic", "nonsense", 1)
	token := m.CacheObserver("token")
	token(true)
	token(false)
	m.CacheObserver("key")(true)
	m.ObserveChange("key")
	m.ObserveChange("token")
	m.ObserveChange("token")
	m.ObserveChange("nonsense")
	m.ObserveResync()
	m.ObserveConnection(true)
	m.ObserveConnection(true)
	m.ObserveConnection(false)
	m.SetKeyHealth(map[string]int{"valid": 3, "invalid": 1, "unknown": 2})
	m.ObserveAPI("PUT /api/v1/tenants/{tenant}/keys/{provider}", "PUT", 200, 30*time.Millisecond)
	if err := m.RegisterQueue(func() float64 { return 7 }, func() float64 { return 2 }, func() float64 { return 3 }); err != nil {
		t.Fatalf("RegisterQueue: %v", err)
	}

	got := MustParse(t, MustScrape(t, m, reg))
	want := map[string]float64{
		`keygate_requests_total{key_source="platform",provider="openai",route="chat",status="200"}`:            2,
		`keygate_requests_total{key_source="tenant",provider="anthropic",route="messages",status="401"}`:       1,
		`keygate_requests_total{key_source="request",provider="openai",route="embeddings",status="499"}`:       1,
		`keygate_request_errors_total{key_source="tenant",provider="anthropic",route="messages",status="401"}`: 1,
		`keygate_request_errors_total{key_source="request",provider="openai",route="embeddings",status="499"}`: 1,

		`keygate_request_duration_seconds{key_source="platform",provider="openai",route="chat",status_class="2xx"}`:       2,
		`keygate_request_duration_seconds{key_source="tenant",provider="anthropic",route="messages",status_class="4xx"}`:  1,
		`keygate_request_duration_seconds{key_source="request",provider="openai",route="embeddings",status_class="4xx"}`:  1,
		`keygate_upstream_duration_seconds{key_source="platform",provider="openai",route="chat",status_class="2xx"}`:      2,
		`keygate_upstream_duration_seconds{key_source="tenant",provider="anthropic",route="messages",status_class="4xx"}`: 1,
		// The 499 call never reached the provider (upstream 0): its
		// series exists but holds no observation.
		`keygate_upstream_duration_seconds{key_source="request",provider="openai",route="embeddings",status_class="4xx"}`: 0,

		`keygate_tokens_total{direction="input",key_source="platform",provider="openai"}`:                        200,
		`keygate_tokens_total{direction="output",key_source="platform",provider="openai"}`:                       40,
		`keygate_tokens_total{direction="cached",key_source="platform",provider="openai"}`:                       80,
		`keygate_tokens_total{direction="input",key_source="tenant",provider="anthropic"}`:                       100,
		`keygate_tokens_total{direction="output",key_source="tenant",provider="anthropic"}`:                      20,
		`keygate_tokens_total{direction="cached",key_source="tenant",provider="anthropic"}`:                      40,
		`keygate_tokens_total{direction="input",key_source="request",provider="openai"}`:                         100,
		`keygate_tokens_total{direction="output",key_source="request",provider="openai"}`:                        20,
		`keygate_tokens_total{direction="cached",key_source="request",provider="openai"}`:                        40,
		`keygate_byok_requests_total{provider="anthropic"}`:                                                      1,
		`keygate_byok_requests_total{provider="openai"}`:                                                         1,
		`keygate_cost_usd_total{key_source="platform",provider="openai"}`:                                        0.005,
		`keygate_cost_usd_total{key_source="tenant",provider="anthropic"}`:                                       0.0025,
		`keygate_cost_usd_total{key_source="request",provider="openai"}`:                                         0.0025,
		`keygate_billable_cost_usd_total{key_source="platform",provider="openai"}`:                               0.005,
		`keygate_billable_cost_usd_total{key_source="tenant",provider="anthropic"}`:                              0,
		`keygate_billable_cost_usd_total{key_source="request",provider="openai"}`:                                0,
		`keygate_rejections_total{kind="budget",provider="openai"}`:                                              1,
		`keygate_rejections_total{kind="rate",provider="anthropic"}`:                                             1,
		`keygate_gateway_errors_total{code="provider_key_missing",route="chat"}`:                                 1,
		`keygate_credential_scrubs_total{provider="openai",where="body"}`:                                        3,
		`keygate_credential_scrubs_total{provider="anthropic",where="header"}`:                                   1,
		`keygate_credential_scrubs_total{provider="anthropic",where="other"}`:                                    1,
		`keygate_cache_lookups_total{cache="token",result="hit"}`:                                                1,
		`keygate_cache_lookups_total{cache="token",result="miss"}`:                                               1,
		`keygate_cache_lookups_total{cache="key",result="hit"}`:                                                  1,
		`keygate_cache_lookups_total{cache="key",result="miss"}`:                                                 0,
		`keygate_change_feed_changes_total{kind="key"}`:                                                          1,
		`keygate_change_feed_changes_total{kind="token"}`:                                                        2,
		`keygate_change_feed_changes_total{kind="other"}`:                                                        1,
		`keygate_change_feed_resyncs_total{}`:                                                                    1,
		`keygate_open_connections{}`:                                                                             1,
		`keygate_key_health{status="valid"}`:                                                                     3,
		`keygate_key_health{status="invalid"}`:                                                                   1,
		`keygate_key_health{status="unknown"}`:                                                                   2,
		`keygate_api_requests_total{method="PUT",route="/api/v1/tenants/{tenant}/keys/{provider}",status="200"}`: 1,
		`keygate_api_request_duration_seconds{method="PUT",route="/api/v1/tenants/{tenant}/keys/{provider}"}`:    1,
		`keygate_usage_queue_depth{}`:                                                                            7,
		`keygate_usage_dropped_total{reason="queue_full"}`:                                                       2,
		`keygate_usage_dropped_total{reason="write_failed"}`:                                                     3,
	}
	if diff := cmp.Diff(want, got, cmpApprox); diff != "" {
		t.Errorf("series (-want +got):\n%s", diff)
	}
}

// cmpApprox compares float sums (0.0025 + 0.0025) without caring for the
// last bit.
var cmpApprox = cmp.Comparer(func(a, b float64) bool {
	d := a - b
	return d < 1e-12 && d > -1e-12
})

// TestLabelsBounded feeds label values from outside each label's set and
// checks that every label keeps to its bounded set of values.
func TestLabelsBounded(t *testing.T) {
	m, reg := MustNew(t, metrics.Options{Providers: []string{"openai"}})
	evil := []string{"", "OpenAI", "tn_AbCdEf0123456789", "provider with spaces", testkit.CanaryOpenAIKey, "x\ny", `a"b`}
	for _, v := range evil {
		m.ObserveCall(call(v, v, keygate.KeySource(v), 200), time.Second)
		m.ObserveRejection(v, v)
		m.ObserveGatewayError(v, v)
		m.ObserveAPI(v, v, 200, time.Millisecond)
	}
	for _, status := range []int{0, -1, 99, 600, 1000} {
		m.ObserveCall(call("openai", "chat", keygate.SourcePlatform, status), time.Second)
	}
	text := MustScrape(t, m, reg)
	tests := []struct {
		label string
		want  []string
	}{
		{"provider", []string{"openai", "other"}},
		{"route", []string{"chat", "other", "unmatched"}},
		{"key_source", []string{"other", "platform"}},
		{"status", []string{"200", "other"}},
		{"status_class", []string{"2xx", "other"}},
		{"kind", []string{"other"}},
		{"code", []string{"other"}},
		{"method", []string{"other"}},
		{"direction", []string{"cached", "input", "output"}},
	}
	for _, tc := range tests {
		t.Run(tc.label, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, labelValues(t, text, tc.label)); diff != "" {
				t.Errorf("values of %s (-want +got):\n%s", tc.label, diff)
			}
		})
	}
}

// TestOpenLabelCap checks that a label without an allow-list stops taking
// new values at MaxLabelValues.
func TestOpenLabelCap(t *testing.T) {
	m, reg := MustNew(t, metrics.Options{MaxLabelValues: 3})
	for i := range 10 {
		p := fmt.Sprintf("p%d", i)
		m.ObserveCall(call(p, "chat", keygate.SourcePlatform, 200), time.Second)
		m.ObserveCall(call(p, "chat", keygate.SourcePlatform, 200), time.Second) // a cached repeat
	}
	text := MustScrape(t, m, reg)
	if diff := cmp.Diff([]string{"other", "p0", "p1", "p2"}, labelValues(t, text, "provider")); diff != "" {
		t.Errorf("provider values (-want +got):\n%s", diff)
	}
	got := MustParse(t, text)
	if n := got[`keygate_requests_total{key_source="platform",provider="other",route="chat",status="200"}`]; n != 14 {
		t.Errorf(`requests_total{provider="other"} = %v, want 14`, n)
	}
}

// TestCanary plants the canary key in every string field of a usage event
// (one at a time, then all at once) and in the arguments of every other
// hook: nothing of it reaches /metrics.
func TestCanary(t *testing.T) {
	key := testkit.CanaryOpenAIKey
	tests := []struct {
		name string
		edit func(ev *keygate.UsageEvent)
	}{
		{"RequestID", func(ev *keygate.UsageEvent) { ev.RequestID = key }},
		{"Tenant", func(ev *keygate.UsageEvent) { ev.Tenant = keygate.TenantID(key) }},
		{"Provider", func(ev *keygate.UsageEvent) { ev.Provider = key }},
		{"Model", func(ev *keygate.UsageEvent) { ev.Model = key }},
		{"Route", func(ev *keygate.UsageEvent) { ev.Route = key }},
		{"Source", func(ev *keygate.UsageEvent) { ev.Source = keygate.KeySource(key) }},
		{"KeyID", func(ev *keygate.UsageEvent) { ev.KeyID = key }},
		{"Marker", func(ev *keygate.UsageEvent) { ev.Provider, ev.Model = testkit.CanaryMarker, testkit.CanaryMarker }},
		{"All", func(ev *keygate.UsageEvent) {
			ev.RequestID, ev.Tenant, ev.Provider, ev.Model = key, keygate.TenantID(key), key, key
			ev.Route, ev.Source, ev.KeyID = key, keygate.KeySource(key), key
		}},
	}
	for _, opts := range []metrics.Options{{}, {Providers: []string{"openai"}}} {
		for _, tc := range tests {
			t.Run(fmt.Sprintf("%s/allowlist=%t", tc.name, opts.Providers != nil), func(t *testing.T) {
				m, reg := MustNew(t, opts)
				ev := call("openai", "chat", keygate.SourceTenant, 200)
				tc.edit(&ev)
				m.ObserveCall(ev, time.Second)
				m.ObserveRejection(key, key)
				m.ObserveGatewayError(key, key)
				m.CacheObserver(key)(true)
				m.ObserveChange(key)
				m.SetKeyHealth(map[string]int{key: 1})
				m.ObserveAPI("/api/v1/tenants/"+key, key, 200, time.Millisecond)
				m.ObserveAPI(key, "GET", 200, time.Millisecond)
				text := MustScrape(t, m, reg)
				MustParse(t, text)
				testkit.AssertNoCanary(t, "/metrics", text)
				for _, s := range []string{"tn_AbCdEf0123456789", "gpt-4o-mini", "pk_AbCdEf0123456789", "req_0123456789abcdef01234567"} {
					if bytes.Contains(text, []byte(s)) {
						t.Errorf("/metrics carries %q, which must never be a label", s)
					}
				}
			})
		}
	}
}

func TestSetKeyHealth(t *testing.T) {
	m, reg := MustNew(t, metrics.Options{})
	m.SetKeyHealth(map[string]int{"valid": 5, "invalid": 2})
	m.SetKeyHealth(map[string]int{"valid": 6, "unknown": 1})
	got := MustParse(t, MustScrape(t, m, reg))
	maps.DeleteFunc(got, func(series string, _ float64) bool { return !strings.HasPrefix(series, "keygate_key_health") })
	want := map[string]float64{
		`keygate_key_health{status="valid"}`:   6,
		`keygate_key_health{status="invalid"}`: 0, // gone from the counts: dropped to 0, not stale
		`keygate_key_health{status="unknown"}`: 1,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("key health (-want +got):\n%s", diff)
	}
}

func TestRegisterQueue(t *testing.T) {
	tests := []struct {
		name           string
		depth, dropped func() float64
		again          bool
	}{
		{"OK", func() float64 { return 1 }, func() float64 { return 0 }, false},
		{"ErrNilCallback", nil, func() float64 { return 0 }, false},
		{"ErrTwice", func() float64 { return 1 }, func() float64 { return 0 }, true},
	}
	zero := func() float64 { return 0 }
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, _ := MustNew(t, metrics.Options{})
			err := m.RegisterQueue(tc.depth, tc.dropped, zero)
			if tc.again && err == nil {
				err = m.RegisterQueue(tc.depth, tc.dropped, zero)
			}
			if wantErr := tc.name != "OK"; (err != nil) != wantErr {
				t.Fatalf("RegisterQueue: err = %v, want error %t", err, wantErr)
			}
		})
	}
}

func TestObserveAPI(t *testing.T) {
	tests := []struct {
		name          string
		route, method string
		status        int
		want          string
	}{
		{"OKPattern", "/api/v1/tenants/{tenant}", "GET", 200, `keygate_api_requests_total{method="GET",route="/api/v1/tenants/{tenant}",status="200"}`},
		{"OKMethodDropped", "DELETE /api/v1/tenants/{tenant}", "DELETE", 204, `keygate_api_requests_total{method="DELETE",route="/api/v1/tenants/{tenant}",status="204"}`},
		{"Unmatched", "", "GET", 404, `keygate_api_requests_total{method="GET",route="unmatched",status="404"}`},
		{"OtherMethod", "/api/v1/tenants", "BREW", 405, `keygate_api_requests_total{method="other",route="/api/v1/tenants",status="405"}`},
		{"OtherRoute", "/api/v1/tenants/tn_1?x=y", "GET", 200, `keygate_api_requests_total{method="GET",route="other",status="200"}`},
		{"OtherPathNotInTable", "/api/v1/tenants/acme", "GET", 200, `keygate_api_requests_total{method="GET",route="other",status="200"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, reg := MustNew(t, metrics.Options{APIRoutes: []string{"/api/v1/tenants", "/api/v1/tenants/{tenant}"}})
			m.ObserveAPI(tc.route, tc.method, tc.status, time.Millisecond)
			got := MustParse(t, MustScrape(t, m, reg))
			if got[tc.want] != 1 {
				t.Errorf("no %s in %v", tc.want, got)
			}
		})
	}
}

// TestConcurrent runs every hook from many goroutines (run with -race) and
// checks that no observation is lost.
func TestConcurrent(t *testing.T) {
	m, reg := MustNew(t, metrics.Options{})
	const workers, each = 8, 200
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				src := []keygate.KeySource{keygate.SourceTenant, keygate.SourcePlatform}[i%2]
				m.ObserveCall(call(fmt.Sprintf("p%d", w%4), "chat", src, 200+i%3), time.Millisecond)
				m.CacheObserver("token")(i%2 == 0)
				m.ObserveRejection("rate", "p0")
				m.SetKeyHealth(map[string]int{"valid": i})
				m.ObserveAPI("/api/v1/tenants", "GET", 200, time.Millisecond)
			}
		})
	}
	wg.Wait()
	got := MustParse(t, MustScrape(t, m, reg))
	var total float64
	for k, v := range got {
		if len(k) > len("keygate_requests_total{") && k[:len("keygate_requests_total{")] == "keygate_requests_total{" {
			total += v
		}
	}
	if total != workers*each {
		t.Errorf("requests_total sums to %v, want %d", total, workers*each)
	}
	if n := got[`keygate_rejections_total{kind="rate",provider="p0"}`]; n != workers*each {
		t.Errorf("rejections_total = %v, want %d", n, workers*each)
	}
}

// TestUnpricedCalls: calls costed at a fallback price (estimated) or not
// at all (unpriced) are counted by provider; priced calls are not.
func TestUnpricedCalls(t *testing.T) {
	m, reg := MustNew(t, metrics.Options{Providers: []string{"openai", "anthropic", "exa"}})
	for _, c := range []struct {
		provider, priced string
	}{{"openai", keygate.PricedExact}, {"openai", ""}, {"openai", keygate.PricedEstimated}, {"anthropic", keygate.PricedEstimated}, {"exa", keygate.PricedNone}, {"exa", keygate.PricedNone}} {
		ev := call(c.provider, "chat", keygate.SourcePlatform, 200)
		ev.Priced = c.priced
		m.ObserveCall(ev, time.Millisecond)
	}
	got := map[string]float64{}
	for k, v := range MustParse(t, MustScrape(t, m, reg)) {
		if strings.HasPrefix(k, "keygate_unpriced_calls_total") {
			got[k] = v
		}
	}
	want := map[string]float64{
		`keygate_unpriced_calls_total{provider="openai"}`:    1,
		`keygate_unpriced_calls_total{provider="anthropic"}`: 1,
		`keygate_unpriced_calls_total{provider="exa"}`:       2,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("series (-want +got):\n%s", diff)
	}
}

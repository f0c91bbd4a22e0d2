// SPDX-License-Identifier: Apache-2.0

package metrics_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/metrics"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// MustNew returns Metrics on a fresh registry, and the registry.
func MustNew(tb testing.TB, opts metrics.Options) (*metrics.Metrics, *prometheus.Registry) {
	tb.Helper()
	reg := prometheus.NewPedanticRegistry()
	m, err := metrics.NewWithOptions(reg, opts)
	if err != nil {
		tb.Fatalf("NewWithOptions: %v", err)
	}
	return m, reg
}

// MustScrape fetches /metrics from m's handler and returns the raw text.
func MustScrape(tb testing.TB, m *metrics.Metrics, g prometheus.Gatherer) []byte {
	tb.Helper()
	srv := httptest.NewServer(m.Handler(g))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		tb.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("read /metrics: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("GET /metrics: status %d: %s", resp.StatusCode, body)
	}
	return body
}

// MustParse parses exposition text with the Prometheus library's own
// parser and flattens it to "name{label="value",...}" → value, where a
// histogram's value is its sample count.
func MustParse(tb testing.TB, text []byte) map[string]float64 {
	tb.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(string(text)))
	if err != nil {
		tb.Fatalf("parse /metrics: %v\n%s", err, text)
	}
	out := make(map[string]float64)
	for name, f := range fams {
		for _, mt := range f.GetMetric() {
			out[seriesName(name, mt.GetLabel())] = value(f.GetType(), mt)
		}
	}
	return out
}

func seriesName(name string, labels []*dto.LabelPair) string {
	parts := make([]string, 0, len(labels))
	for _, l := range labels {
		parts = append(parts, l.GetName()+"="+`"`+l.GetValue()+`"`)
	}
	sort.Strings(parts)
	return name + "{" + strings.Join(parts, ",") + "}"
}

func value(t dto.MetricType, mt *dto.Metric) float64 {
	switch t {
	case dto.MetricType_COUNTER:
		return mt.GetCounter().GetValue()
	case dto.MetricType_GAUGE:
		return mt.GetGauge().GetValue()
	case dto.MetricType_HISTOGRAM:
		return float64(mt.GetHistogram().GetSampleCount())
	case dto.MetricType_UNTYPED:
		return mt.GetUntyped().GetValue()
	}
	return -1
}

// labelValues returns every value label takes across all series.
func labelValues(tb testing.TB, text []byte, label string) []string {
	tb.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(string(text)))
	if err != nil {
		tb.Fatalf("parse /metrics: %v", err)
	}
	seen := map[string]bool{}
	for _, f := range fams {
		for _, mt := range f.GetMetric() {
			for _, l := range mt.GetLabel() {
				if l.GetName() == label {
					seen[l.GetValue()] = true
				}
			}
		}
	}
	out := make([]string, 0, len(seen))
	for v := range seen {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}

// call returns a typical usage event.
func call(provider, route string, src keygate.KeySource, status int) keygate.UsageEvent {
	return keygate.UsageEvent{
		RequestID:    "req_0123456789abcdef01234567",
		Time:         time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Tenant:       "tn_AbCdEf0123456789",
		Provider:     provider,
		Model:        "gpt-4o-mini",
		Route:        route,
		Source:       src,
		KeyID:        "pk_AbCdEf0123456789",
		KeyVersion:   2,
		InputTokens:  100,
		OutputTokens: 20,
		CachedTokens: 40,
		Status:       status,
		Latency:      1500 * time.Millisecond,
		CostMicros:   2500,
		Billable:     src == keygate.SourcePlatform,
	}
}

// SPDX-License-Identifier: Apache-2.0

package metrics

import (
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// namespace prefixes every metric name.
const namespace = "keygate"

// Options are the optional settings of NewWithOptions. The zero value is
// valid.
type Options struct {
	// Providers are the provider catalog's names: the only values the
	// provider label takes (others count as "other"). Empty: any
	// well-formed name, up to MaxLabelValues distinct ones.
	Providers []string
	// Routes are the gateway route families, the only values the route
	// label takes. Empty: DefaultRoutes.
	Routes []string
	// APIRoutes are the management API's route patterns
	// ("/api/v1/tenants/{tenant}", ...), the only values the API route
	// label takes. Empty: any well-formed pattern, up to 128 distinct ones
	// (then a raw path passed by mistake would show there: pass the route
	// table).
	APIRoutes []string
	// LatencyBuckets are the upper bounds, in seconds, of the call and
	// upstream latency histograms. Empty: DefaultLatencyBuckets.
	LatencyBuckets []float64
	// MaxLabelValues bounds a label that has no allow-list (provider
	// without Providers, cache, key health status): distinct values past
	// it count as "other". Zero: 64.
	MaxLabelValues int
}

func (o Options) withDefaults() Options {
	if len(o.Routes) == 0 {
		o.Routes = DefaultRoutes()
	}
	if len(o.LatencyBuckets) == 0 {
		o.LatencyBuckets = DefaultLatencyBuckets()
	}
	if o.MaxLabelValues <= 0 {
		o.MaxLabelValues = 64
	}
	return o
}

// DefaultRoutes returns the gateway route families of keygate.UsageEvent.
func DefaultRoutes() []string {
	return []string{"chat", "completions", "embeddings", "responses", "messages", "models", "passthrough"}
}

// DefaultLatencyBuckets returns histogram bounds in seconds suited to AI
// provider calls: from 5 ms (a cached model list) to 5 minutes (a long
// generation streamed to the end).
func DefaultLatencyBuckets() []float64 {
	return []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300}
}

// maxCachedCalls bounds the per-label-combination observer cache of
// ObserveCall. Label values are bounded, but the cache is keyed by the raw
// values (so a hit costs no sanitising); past this size new combinations
// are served without caching.
const maxCachedCalls = 4096

// Metrics holds every keygate collector. Its methods are safe for
// concurrent use and never block on I/O.
type Metrics struct {
	reg prometheus.Registerer

	providers, routes *labelSet
	caches, health    *labelSet
	apiRoutes, codes  *labelSet

	requests      *prometheus.CounterVec
	errors        *prometheus.CounterVec
	latency       *prometheus.HistogramVec
	upstream      *prometheus.HistogramVec
	tokens        *prometheus.CounterVec
	byok          *prometheus.CounterVec
	cost          *prometheus.CounterVec
	billable      *prometheus.CounterVec
	rejections    *prometheus.CounterVec
	gatewayErrors *prometheus.CounterVec
	cacheLookups  *prometheus.CounterVec
	changes       *prometheus.CounterVec
	resyncs       prometheus.Counter
	connections   prometheus.Gauge
	keyHealth     *prometheus.GaugeVec
	apiRequests   *prometheus.CounterVec
	apiLatency    *prometheus.HistogramVec
	scrubs        *prometheus.CounterVec
	unpriced      *prometheus.CounterVec

	mu    sync.RWMutex
	calls map[callKey]*callObservers

	healthMu   sync.Mutex
	healthSeen map[string]bool
}

// NewWithOptions returns Metrics, its collectors registered on reg;
// cmd/keygate passes the provider catalog's names so that the provider
// label cannot take any other value. It fails if reg is nil or refuses a
// collector (a name already registered: call it once per registry).
func NewWithOptions(reg prometheus.Registerer, opts Options) (*Metrics, error) {
	if reg == nil {
		return nil, errors.New("metrics: nil prometheus.Registerer")
	}
	opts = opts.withDefaults()
	m := &Metrics{
		reg:        reg,
		providers:  newLabelSet(opts.Providers, validName, opts.MaxLabelValues),
		routes:     newLabelSet(opts.Routes, validName, opts.MaxLabelValues),
		caches:     newLabelSet(nil, validName, 16),
		health:     newLabelSet(nil, validName, 16),
		apiRoutes:  newLabelSet(opts.APIRoutes, validRoute, 128),
		codes:      newLabelSet(errorCodes(), validName, 0),
		calls:      make(map[callKey]*callObservers),
		healthSeen: make(map[string]bool),
	}
	call := []string{"provider", "route", "key_source", "status"}
	callClass := []string{"provider", "route", "key_source", "status_class"}
	paid := []string{"provider", "key_source"}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "requests_total",
		Help: "Proxied provider calls, by provider, route family, key source and HTTP status (499: the client went away).",
	}, call)
	m.errors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "request_errors_total",
		Help: "Proxied provider calls that ended with a status of 400 or more (499 included), by provider, route family, key source and status.",
	}, call)
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace, Name: "request_duration_seconds",
		Help:    "Duration of proxied calls as the caller saw them, to the end of the body, by provider, route family, key source and status class.",
		Buckets: opts.LatencyBuckets,
	}, callClass)
	m.upstream = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace, Name: "upstream_duration_seconds",
		Help:    "Time the provider took to answer proxied calls (to its response headers), by provider, route family, key source and status class.",
		Buckets: opts.LatencyBuckets,
	}, callClass)
	m.tokens = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "tokens_total",
		Help: "Tokens the providers reported, by provider, key source and direction (input, output; cached is the part of input read from the provider's cache).",
	}, []string{"provider", "key_source", "direction"})
	m.byok = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "byok_requests_total",
		Help: "Proxied calls paid with a tenant's own key (key source tenant or request), by provider.",
	}, []string{"provider"})
	m.cost = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "cost_usd_total",
		Help: "Cost of proxied calls in US dollars by the price table, by provider and key source.",
	}, paid)
	m.billable = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "billable_cost_usd_total",
		Help: "The part of cost_usd_total that counts toward the platform's credits, by provider and key source.",
	}, paid)
	m.rejections = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "rejections_total",
		Help: "Calls refused by governance before reaching the provider, by kind (budget, rate) and provider.",
	}, []string{"kind", "provider"})
	m.gatewayErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "gateway_errors_total",
		Help: "Gateway calls keygate answered with an error of its own (no provider answer), by route family and error code.",
	}, []string{"route", "code"})
	m.cacheLookups = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "cache_lookups_total",
		Help: "Cache lookups, by cache and result (hit, miss).",
	}, []string{"cache", "result"})
	m.changes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "change_feed_changes_total",
		Help: "Changes heard on the change feed (PostgreSQL LISTEN/NOTIFY between replicas), each dropping a cached entry, by kind (key, tenant, token).",
	}, []string{"kind"})
	m.resyncs = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: namespace, Name: "change_feed_resyncs_total",
		Help: "(Re)connections of the change feed, each dropping every cached entry since changes may have been missed.",
	})
	m.connections = prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: namespace, Name: "open_connections",
		Help: "Client connections the server holds open now (active and idle keep-alive), at most max_connections.",
	})
	m.keyHealth = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: namespace, Name: "key_health",
		Help: "Stored provider keys, by health status (valid, invalid, unknown).",
	}, []string{"status"})
	m.apiRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "api_requests_total",
		Help: "Management API requests, by route pattern, method and HTTP status.",
	}, []string{"route", "method", "status"})
	m.apiLatency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace, Name: "api_request_duration_seconds",
		Help:    "Duration of management API requests, by route pattern and method.",
		Buckets: prometheus.DefBuckets,
	}, []string{"route", "method"})
	m.scrubs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "credential_scrubs_total",
		Help: "Copies of a call's own credential (in clear, base64 or URL encoding) that a provider's answer carried and keygate replaced before relaying it, by provider and where (header, body).",
	}, []string{"provider", "where"})
	m.unpriced = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "unpriced_calls_total",
		Help: "Proxied calls the price table had no price for, by provider: costed at the provider's fallback price (usage priced \"estimated\") or not at all (\"unpriced\").",
	}, []string{"provider"})
	for _, c := range []prometheus.Collector{
		m.unpriced, m.scrubs, m.requests, m.errors, m.latency, m.upstream, m.tokens, m.byok, m.cost, m.billable,
		m.rejections, m.gatewayErrors, m.cacheLookups, m.changes, m.resyncs, m.connections, m.keyHealth, m.apiRequests, m.apiLatency,
	} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register metrics: %w", err)
		}
	}
	return m, nil
}

// Handler serves g in the Prometheus exposition format: the /metrics
// endpoint. g is usually the registry m's collectors are registered on,
// plus whatever else (Go runtime, process) the caller registered there. A
// collector that fails is left out and the rest is still served.
func (m *Metrics) Handler(g prometheus.Gatherer) http.Handler {
	return promhttp.HandlerFor(g, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// RegisterQueue exposes the usage ledger's queue: depth is the number of
// events waiting to be written (keygate_usage_queue_depth); queueFull and
// writeFailed count the events lost since start, because the queue was full
// or because the store refused their batch on every try
// (keygate_usage_dropped_total{reason="queue_full"|"write_failed"}; they
// must never decrease). All are called at every scrape and must be cheap
// and safe for concurrent use. It fails if called twice on one registry.
func (m *Metrics) RegisterQueue(depth, queueFull, writeFailed func() float64) error {
	if depth == nil || queueFull == nil || writeFailed == nil {
		return errors.New("register usage queue metrics: nil callback")
	}
	cs := []prometheus.Collector{prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: namespace, Name: "usage_queue_depth",
		Help: "Usage events waiting in the ledger's queue to be written.",
	}, depth)}
	for reason, f := range map[string]func() float64{"queue_full": queueFull, "write_failed": writeFailed} {
		cs = append(cs, prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: namespace, Name: "usage_dropped_total",
			Help:        "Usage events lost, by reason: the ledger's queue was full, or the store refused their batch on every try.",
			ConstLabels: prometheus.Labels{"reason": reason},
		}, f))
	}
	for i, c := range cs {
		if err := m.reg.Register(c); err != nil {
			for _, done := range cs[:i] {
				m.reg.Unregister(done)
			}
			return fmt.Errorf("register usage queue metrics: %w", err)
		}
	}
	return nil
}

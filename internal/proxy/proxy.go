// SPDX-License-Identifier: Apache-2.0

// Package proxy is keygate's hot path: it authenticates a gateway token,
// picks the provider (from the path or the model), resolves the credential
// that pays for the call, and forwards the call with that key injected,
// streaming the answer back event by event. It serves the OpenAI-compatible
// API (/v1/chat/completions, /v1/completions, /v1/embeddings,
// /v1/responses, /v1/models), Anthropic's native API (/v1/messages) and a
// raw passthrough (/{provider}/...) for every catalog provider.
package proxy

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"time"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/keyhealth"
	"github.com/keygate/keygate/internal/keyvault"
	"github.com/keygate/keygate/internal/provider"
	"github.com/keygate/keygate/internal/resolver"
)

// Resolver authenticates callers and decides calls (resolver.Service). A
// call asks it twice: who is calling, first, before its body is read; then
// the one decision that admission, forwarding and metering read.
type Resolver interface {
	Authenticate(ctx context.Context, tok keygate.Secret) (resolver.Caller, error)
	Resolve(ctx context.Context, caller resolver.Caller, provider string, requestKey keygate.Secret) (resolver.Decision, error)
}

// Health records what providers said about stored keys.
type Health interface {
	ReportStatus(ctx context.Context, c keyvault.Change, k keygate.ProviderKey, status keygate.KeyStatus, lastError string) (bool, error)
}

// Observer receives the proxy's metrics.
type Observer interface {
	// ObserveCall records a finished call; upstream is the provider's time
	// to first header (0 when the provider was not reached).
	ObserveCall(ev keygate.UsageEvent, upstream time.Duration)
	// ObserveGatewayError records a call keygate refused itself.
	ObserveGatewayError(route, code string)
	// ObserveRejection records a budget or rate-limit refusal.
	ObserveRejection(kind, provider string)
	// ObserveScrubs records n copies of a call's credential that keygate
	// replaced in a provider's answer, where "header" or "body".
	ObserveScrubs(provider, where string, n int)
}

// Deps are the proxy's dependencies. Catalog, Resolver and Usage are
// required.
type Deps struct {
	Catalog  *provider.Catalog
	Resolver Resolver
	Health   Health
	Usage    keygate.UsageRecorder
	Logger   *slog.Logger
	Now      keygate.Clock
	// MaxBodyBytes caps request bodies that keygate reads (to find the
	// model). Default 32 MiB.
	MaxBodyBytes int64
	// Transport sends upstream requests; nil means one tuned transport per
	// provider.
	Transport http.RoundTripper
	// Background runs work that must not hold up the call (key health
	// updates). Nil runs it in a goroutine.
	Background func(func(context.Context))
	// Check, if set, is the key check (keyhealth.Checker) that must
	// confirm live rejections of a shared (platform) key before it turns
	// invalid (keyhealth.Live); without it, repeated rejections alone do.
	Check keyhealth.Prober
	// Quota, if set, enforces budgets and rate limits; Pricing prices the
	// estimate reserved against money budgets, and the usage settled.
	Quota   Quota
	Pricing Pricer
	// Unpriced is UnpricedEstimate (default, also for "") or
	// UnpricedRefuse: what a platform-paid call without a price gets.
	Unpriced string
	// Observer, if set, receives metrics.
	Observer Observer
	// StartSpan, if set, starts a trace span for a call; the returned
	// function ends it with the call's usage event.
	StartSpan func(ctx context.Context, name string) (context.Context, func(keygate.UsageEvent))
}

// Proxy is the gateway handler.
type Proxy struct {
	d          Deps
	mux        *http.ServeMux
	rp         *httputil.ReverseProxy
	transports map[string]http.RoundTripper
	// providers and bases are the catalog's providers and their parsed
	// base URLs, looked up once: Catalog.Lookup copies a provider and the
	// hot path must not pay for that (or for url.Parse) on every call.
	// Both are read-only after New.
	providers map[string]provider.Provider
	bases     map[string]*url.URL
	// stripIn and stripOut are the canonical names of the headers removed
	// from requests and responses (auth headers of every provider and more).
	stripIn, stripOut []string
	// health decides the key-health reports of live calls (nil without
	// Deps.Health).
	health *keyhealth.Live
}

// New returns the proxy. Mount it at /v1/ and at /{provider}/ for every
// catalog provider (Prefixes lists them).
func New(d Deps) *Proxy {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.MaxBodyBytes <= 0 {
		d.MaxBodyBytes = 32 << 20
	}
	if d.Background == nil {
		d.Background = func(f func(context.Context)) {
			go f(context.Background())
		}
	}
	p := &Proxy{d: d, mux: http.NewServeMux(), transports: map[string]http.RoundTripper{},
		providers: map[string]provider.Provider{}, bases: map[string]*url.URL{}}
	if d.Health != nil {
		p.health = keyhealth.NewLive(d.Health, d.Check, keyhealth.LiveOptions{Clock: d.Now, Logger: d.Logger})
	}
	auth := d.Catalog.AuthHeaders()
	p.stripIn = canonical(append(append([]string{}, auth...), inboundStrip()...))
	p.stripOut = canonical(append(append([]string{}, auth...), outboundStrip()...))
	for _, name := range d.Catalog.Names() {
		prov, _ := d.Catalog.Lookup(name)
		p.providers[name] = prov
		base, err := url.Parse(prov.BaseURL)
		if err != nil {
			// The catalog validates base URLs when it is built.
			panic(fmt.Sprintf("proxy: provider %s: base URL: %v", name, err))
		}
		p.bases[name] = base
		if d.Transport != nil {
			p.transports[name] = d.Transport
		} else {
			p.transports[name] = newTransport()
		}
	}
	p.rp = &httputil.ReverseProxy{
		Rewrite:        p.rewrite,
		Transport:      roundTripper{p},
		ModifyResponse: p.modifyResponse,
		ErrorHandler:   p.errorHandler,
		// Reuse copy buffers: without a pool the reverse proxy allocates
		// 32 KiB per response, which is most of a call's garbage.
		BufferPool: newBufferPool(),
		ErrorLog:   slog.NewLogLogger(d.Logger.Handler(), slog.LevelDebug),
	}
	p.routes()
	return p
}

// newTransport returns an upstream transport tuned for a gateway: many idle
// connections per host, HTTP/2 where the provider offers it, bounded dial,
// TLS and header waits, and no overall timeout that would cut a long
// stream. Compression is negotiated by the transport itself (the client's
// Accept-Encoding is not forwarded), so usage can be read from the body.
func newTransport() *http.Transport {
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          1024,
		MaxIdleConnsPerHost:   256,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		// Reasoning models can think for minutes before the first header.
		ResponseHeaderTimeout: 10 * time.Minute,
	}
}

// Prefixes returns the path prefixes to mount the proxy at.
func (p *Proxy) Prefixes() []string {
	out := []string{"/v1/"}
	for _, name := range p.d.Catalog.Names() {
		out = append(out, "/"+name+"/")
	}
	return out
}

// ServeHTTP implements http.Handler.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) { p.mux.ServeHTTP(w, r) }

func (p *Proxy) routes() {
	p.mux.HandleFunc("POST /v1/chat/completions", p.openAI("chat", "/chat/completions"))
	p.mux.HandleFunc("POST /v1/completions", p.openAI("completions", "/completions"))
	p.mux.HandleFunc("POST /v1/embeddings", p.openAI("embeddings", "/embeddings"))
	p.mux.HandleFunc("POST /v1/responses", p.openAI("responses", "/responses"))
	p.mux.HandleFunc("GET /v1/models", p.handleModels)
	p.mux.HandleFunc("POST /v1/messages", p.anthropic("/v1/messages"))
	p.mux.HandleFunc("POST /v1/messages/count_tokens", p.anthropic("/v1/messages/count_tokens"))
	p.mux.HandleFunc("/v1/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, dialectOpenAI, keygate.Errorf(keygate.CodeNotFound, "keygate does not serve %s %s; use /{provider}%s to reach a provider's API directly.", r.Method, r.URL.Path, r.URL.Path))
	})
	for _, name := range p.d.Catalog.Names() {
		p.mux.HandleFunc("/"+name+"/", p.passthrough(name))
	}
}

// roundTripper sends each upstream request through its provider's
// transport.
type roundTripper struct{ p *Proxy }

func (rt roundTripper) RoundTrip(r *http.Request) (*http.Response, error) {
	c := callFrom(r.Context())
	return rt.p.transports[c.provider.Name].RoundTrip(r)
}

// bufferPool lends the reverse proxy its copy buffers.
type bufferPool struct{ p sync.Pool }

// copyBufferSize is the reverse proxy's own default.
const copyBufferSize = 32 << 10

func newBufferPool() *bufferPool {
	return &bufferPool{p: sync.Pool{New: func() any { b := make([]byte, copyBufferSize); return &b }}}
}

func (b *bufferPool) Get() []byte { return *(b.p.Get().(*[]byte)) }

func (b *bufferPool) Put(buf []byte) {
	if cap(buf) != copyBufferSize {
		return
	}
	buf = buf[:copyBufferSize]
	b.p.Put(&buf)
}

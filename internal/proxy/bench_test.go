// SPDX-License-Identifier: Apache-2.0

package proxy_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/inmem"
	"github.com/keygate/keygate/internal/quota"
	"github.com/keygate/keygate/internal/redis"
	"github.com/keygate/keygate/internal/resolver"
	"github.com/keygate/keygate/internal/testkit"
)

// BenchmarkGateway drives the whole handler chain (request id, access log,
// recovery, token check, model routing, credential resolution, header
// rewrite, metering) for a non-streaming chat call against the fake
// provider on loopback. Compare with BenchmarkBareReverseProxy, run in the
// same invocation: the ratio is keygate's overhead.
func BenchmarkGateway(b *testing.B) {
	benchChat(b, chatBody)
}

// benchChat posts body to /v1/chat/completions of a gateway whose one
// tenant has an OpenAI key, b.N times, and fails on any answer but 200.
func benchChat(b *testing.B, body string) {
	g := MustGateway(b)
	tn, tok := g.MustTenant(b, "acme", true)
	g.MustKey(b, tn, "openai", tenantOpenAI)
	h := g.handler
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req := httptest.NewRequest("POST", "/v1/chat/completions", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}

// BenchmarkBareReverseProxy is the baseline: httputil.ReverseProxy that
// only swaps the auth header, against the same fake provider.
func BenchmarkBareReverseProxy(b *testing.B) {
	g := MustGateway(b)
	target, _ := url.Parse(g.fake.BaseURL("openai"))
	key := keygate.NewSecret(tenantOpenAI)
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Header.Set("Authorization", "Bearer "+key.Reveal())
		},
		Transport: &http.Transport{MaxIdleConnsPerHost: 256},
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req := httptest.NewRequest("POST", "/v1/chat/completions", strings.NewReader(chatBody))
		req.Header.Set("Authorization", "Bearer kg_whatever")
		w := httptest.NewRecorder()
		rp.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}

// BenchmarkResolveCached is the credential lookup of a warm call: token →
// tenant → policy → key. It must not allocate.
func BenchmarkResolveCached(b *testing.B) {
	g := MustGateway(b)
	tn, tok := g.MustTenant(b, "acme", true)
	g.MustKey(b, tn, "openai", tenantOpenAI)
	ctx := b.Context()
	secret := keygate.NewSecret(tok)
	if _, err := g.res.Resolve(ctx, resolver.Caller{Tenant: tn}, "openai", keygate.Secret{}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c, err := g.res.Authenticate(ctx, secret)
		if err != nil {
			b.Fatal(err)
		}
		d, err := g.res.Resolve(ctx, c, "openai", keygate.Secret{})
		if err != nil || d.Credential.Source != keygate.SourceTenant {
			b.Fatal(err)
		}
	}
}

// BenchmarkGatewayGoverned is BenchmarkGateway for a platform-paid call
// under a hard budget and RPM/TPM limits, with the counters in memory and
// in Redis: compare with BenchmarkGateway in the same run for the cost of
// governance on the hot path.
func BenchmarkGatewayGoverned(b *testing.B) {
	for _, backend := range []string{"inmem", "redis"} {
		b.Run(backend, func(b *testing.B) {
			var counter quota.Counter = inmem.NewCounter()
			if backend == "redis" {
				counter = redis.New(testkit.RedisClient(b), redis.Options{Prefix: testkit.RedisPrefix(b)})
			}
			g := MustGatewayWith(b, counter)
			tn, tok := g.MustTenant(b, "acme", true)
			g.MustKey(b, keygate.PlatformScope, "openai", platformOpenAI)
			big := int64(1 << 40)
			ctx := context.Background()
			if _, err := g.store.PutBudget(ctx, keygate.Budget{Tenant: tn, DailyTokens: &big, MonthlyUSDMicros: &big, Hard: true}, keygate.AuditEvent{Action: keygate.ActionBudgetUpdated, Tenant: tn}); err != nil {
				b.Fatal(err)
			}
			if _, err := g.store.PutRateLimits(ctx, tn, []keygate.RateLimit{{RPM: 1 << 30, TPM: 1 << 40}}, keygate.AuditEvent{Action: keygate.ActionLimitsUpdated, Tenant: tn}); err != nil {
				b.Fatal(err)
			}
			h := g.handler
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				req := httptest.NewRequest("POST", "/v1/chat/completions", strings.NewReader(chatBody))
				req.Header.Set("Authorization", "Bearer "+tok)
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != 200 {
					b.Fatalf("status %d: %s", w.Code, w.Body)
				}
			}
		})
	}
}

// BenchmarkGatewayStream is BenchmarkGateway for a streamed chat call named
// "provider/model": the body's model is rewritten to the provider's own
// name and stream_options.include_usage is added (and the usage chunk
// stripped again from what the caller reads), the two body edits of the
// OpenAI-compatible routes.
func BenchmarkGatewayStream(b *testing.B) {
	benchChat(b, `{"model":"openai/gpt-4o","stream":true,"messages":[{"role":"system","content":"You are terse."},{"role":"user","content":"Say hello in five words."}],"max_tokens":16}`)
}

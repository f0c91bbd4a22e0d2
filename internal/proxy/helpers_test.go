// SPDX-License-Identifier: Apache-2.0

package proxy_test

import (
	"context"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/auth"
	"github.com/keygate/keygate/internal/envelope"
	"github.com/keygate/keygate/internal/fakeprovider"
	"github.com/keygate/keygate/internal/inmem"
	"github.com/keygate/keygate/internal/keeper"
	"github.com/keygate/keygate/internal/keyvault"
	"github.com/keygate/keygate/internal/pricing"
	"github.com/keygate/keygate/internal/provider"
	"github.com/keygate/keygate/internal/proxy"
	"github.com/keygate/keygate/internal/quota"
	"github.com/keygate/keygate/internal/resolver"
	"github.com/keygate/keygate/internal/server"
	"github.com/keygate/keygate/internal/sqlite"
)

// Keys used by the tests: well-formed, fake.
const (
	tenantOpenAI      = "sk-tenantAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	otherOpenAI       = "sk-otherBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"
	platformOpenAI    = "sk-platformPPPPPPPPPPPPPPPPPPPPPPPPP"
	requestOpenAI     = "sk-requestRRRRRRRRRRRRRRRRRRRRRRRRRR"
	tenantAnthropic   = "sk-ant-tenantAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	platformAnthropic = "sk-ant-platformPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPP"
	tenantExa         = "exaTenantKeyAAAAAAAAAAAAAAAAAAAA"
)

// gw is a gateway on a real SQLite store and key vault, with the fake
// provider behind it, served through the server's middleware.
type gw struct {
	URL     string
	handler http.Handler
	store   *sqlite.DB
	dbPath  string // the store's file
	vault   *keyvault.Service
	res     *resolver.Service
	fake    *fakeprovider.Server
	usage   *recorder
	prices  *pricing.Table
	bgDone  chan struct{}
	changed *pulse // fires on every usage event and every request the fake receives
	obs     *observer
}

// pulse tells waiters that something they may be waiting for happened: a
// usage event was recorded, or a request reached the fake provider.
type pulse struct {
	mu sync.Mutex
	ch chan struct{}
}

func newPulse() *pulse { return &pulse{ch: make(chan struct{})} }

// next returns a channel closed at the next fire.
func (p *pulse) next() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ch
}

func (p *pulse) fire() {
	p.mu.Lock()
	defer p.mu.Unlock()
	close(p.ch)
	p.ch = make(chan struct{})
}

// recorder keeps every usage event the proxy records, in order.
type recorder struct {
	mu      sync.Mutex
	events  []keygate.UsageEvent
	changed *pulse
}

func (r *recorder) Record(ev keygate.UsageEvent) {
	r.mu.Lock()
	r.events = append(r.events, ev)
	r.mu.Unlock()
	r.changed.fire()
}

// Events returns a copy of the events recorded so far.
func (r *recorder) Events() []keygate.UsageEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

var change = keyvault.Change{Actor: keygate.Actor{ID: "at_test", Name: "test"}}

func MustGateway(tb testing.TB) *gw {
	tb.Helper()
	return MustGatewayWith(tb, inmem.NewCounter())
}

// MustGatewayWith is MustGateway with the given quota counter; opts, if
// any, adjust the proxy's dependencies.
func MustGatewayWith(tb testing.TB, counter quota.Counter, opts ...func(*proxy.Deps)) *gw {
	tb.Helper()
	ctx := context.Background()
	dir := tb.TempDir()
	set, err := keeper.Open(ctx, "", keeper.Options{DataDir: dir})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { set.Close() })
	kr, err := envelope.NewKeyring(set.Primary())
	if err != nil {
		tb.Fatal(err)
	}
	db, err := sqlite.Open(ctx, filepath.Join(dir, "keygate.db"), sqlite.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	changed := newPulse()
	fake := fakeprovider.Start(tb, fakeprovider.WithRequestHook(func(fakeprovider.Request) { changed.fire() }))
	cat, err := provider.Default()
	if err != nil {
		tb.Fatal(err)
	}
	if cat, err = cat.WithBaseURLs(fake.BaseURLs()); err != nil {
		tb.Fatal(err)
	}
	v := keyvault.New(db, kr, cat, keyvault.Options{})
	if err := v.Init(ctx); err != nil {
		tb.Fatal(err)
	}
	res := resolver.New(db, v, resolver.Options{})
	rec := &recorder{changed: changed}
	prices, err := pricing.Load("")
	if err != nil {
		tb.Fatal(err)
	}
	g := &gw{store: db, dbPath: filepath.Join(dir, "keygate.db"), vault: v, res: res, fake: fake, usage: rec, prices: prices, bgDone: make(chan struct{}, 100), changed: changed, obs: &observer{}}
	deps := proxy.Deps{
		Catalog: cat, Resolver: res, Health: v, Usage: rec, Pricing: prices, Observer: g.obs,
		Quota: quota.New(counter, quota.Options{}),
		Background: func(f func(context.Context)) {
			go func() { f(context.Background()); g.bgDone <- struct{}{} }()
		},
	}
	for _, o := range opts {
		o(&deps)
	}
	p := proxy.New(deps)
	h := server.New(server.Deps{Gateway: p, GatewayPrefixes: p.Prefixes(), Ready: db.Ping})
	srv := httptest.NewServer(h)
	tb.Cleanup(srv.Close)
	g.URL, g.handler = srv.URL, h
	return g
}

// MustTenant creates a tenant with BYOK as given and returns its id and a
// gateway token.
func (g *gw) MustTenant(tb testing.TB, name string, byok bool) (keygate.TenantID, string) {
	tb.Helper()
	id := keygate.TenantID("tn_" + name)
	ctx := context.Background()
	if _, err := g.store.CreateTenant(ctx, keygate.Tenant{ID: id, Name: name, BYOKEnabled: byok}, keygate.AuditEvent{Action: keygate.ActionTenantCreated, Tenant: id}); err != nil {
		tb.Fatal(err)
	}
	tok, hash, err := auth.Mint(rand.Reader, auth.GatewayTokenPrefix)
	if err != nil {
		tb.Fatal(err)
	}
	gid, _ := auth.NewID(rand.Reader, "gt_")
	if _, err := g.store.CreateGatewayToken(ctx, keygate.GatewayToken{ID: gid, Name: "app", Tenant: id, Hash: hash, Prefix: tok.Reveal()[:7]}, keygate.AuditEvent{Action: keygate.ActionTokenCreated, Tenant: id}); err != nil {
		tb.Fatal(err)
	}
	return id, tok.Reveal()
}

func (g *gw) MustKey(tb testing.TB, owner keygate.TenantID, prov, key string) keygate.ProviderKey {
	tb.Helper()
	k, err := g.vault.Put(context.Background(), change, owner, prov, keygate.NewSecret(key))
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

func (g *gw) MustPolicy(tb testing.TB, tenant keygate.TenantID, p keygate.Policy) {
	tb.Helper()
	if _, err := g.store.PutPolicy(context.Background(), keygate.TenantPolicy{Tenant: tenant, Default: p}, keygate.AuditEvent{Action: keygate.ActionPolicyUpdated, Tenant: tenant}); err != nil {
		tb.Fatal(err)
	}
}

// lastKey returns the key the fake provider saw last.
func (g *gw) lastKey(tb testing.TB) string {
	tb.Helper()
	r, ok := g.fake.LastRequest()
	if !ok {
		tb.Fatal("the fake provider received nothing")
	}
	return r.Key.Reveal()
}

// waitBackground waits for one background job (a key health update).
func (g *gw) waitBackground(tb testing.TB) {
	tb.Helper()
	select {
	case <-g.bgDone:
	case <-time.After(10 * time.Second):
		tb.Fatal("no background job finished")
	}
}

// SPDX-License-Identifier: Apache-2.0

package proxy_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/fakeprovider"
	"github.com/keygate/keygate/internal/inmem"
	"github.com/keygate/keygate/internal/keyhealth"
	"github.com/keygate/keygate/internal/proxy"
)

// healthGateway is a gateway whose key-health work runs on the call's path
// (so the test needs no waiting), on a fake clock, with the key check
// confirming suspicions, and with a green platform openai key that pays
// for tenant acme's calls. It returns the gateway, acme's token and the
// platform key.
func healthGateway(t *testing.T) (*gw, string, keygate.ProviderKey) {
	t.Helper()
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	g := MustGatewayWith(t, inmem.NewCounter(), func(d *proxy.Deps) {
		d.Check = keyhealth.NewChecker(d.Catalog, nil, 5*time.Second)
		d.Now = func() time.Time { return clock }
		d.Background = func(f func(context.Context)) { f(context.Background()) }
	})
	_, tok := g.MustTenant(t, "acme", false)
	k := g.MustKey(t, keygate.PlatformScope, "openai", platformOpenAI)
	if _, err := g.vault.ReportStatus(context.Background(), change, k, keygate.KeyStatusValid, ""); err != nil {
		t.Fatal(err)
	}
	return g, tok, k
}

// statusEvents returns the "to" of every key.status_changed event of the
// platform's openai key.
func statusEvents(t *testing.T, g *gw) []string {
	t.Helper()
	evs, err := g.store.ListAudit(context.Background(), keygate.AuditFilter{Action: keygate.ActionKeyStatus, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := len(evs) - 1; i >= 0; i-- { // newest first
		var d struct{ To string }
		_ = json.Unmarshal([]byte(evs[i].Detail), &d)
		if evs[i].Tenant == keygate.PlatformScope && evs[i].Provider == "openai" {
			out = append(out, d.To)
		}
	}
	return out
}

// probes counts the key checks (GET /v1/models) the fake received.
func probes(g *gw) int {
	n := 0
	for _, r := range g.fake.Requests() {
		if r.Method == "GET" && r.Path == "/v1/models" {
			n++
		}
	}
	return n
}

// TestTenantCannotFlipPlatformKey: one tenant whose calls make the
// platform's (valid) key answer 401, alternately or always, changes
// nothing of its health and writes no audit event; a key the provider
// really revoked turns invalid once, with one event, and valid once when
// it works again.
func TestTenantCannotFlipPlatformKey(t *testing.T) {
	fault401 := map[string]string{fakeprovider.FaultHeader: "status=401"}
	send := func(t *testing.T, g *gw, tok string, hdr map[string]string, want int) {
		t.Helper()
		h := bearer(tok)
		for k, v := range hdr {
			h[k] = v
		}
		if status, _, body := do(t, "POST", g.URL+"/v1/chat/completions", chatBody, h); status != want {
			t.Fatalf("status %d, want %d: %s", status, want, body)
		}
	}
	status := func(t *testing.T, g *gw) keygate.KeyStatus {
		k, err := g.vault.Get(context.Background(), keygate.PlatformScope, "openai")
		if err != nil {
			t.Fatal(err)
		}
		return k.Status
	}
	t.Run("Alternating401And200", func(t *testing.T) {
		g, tok, _ := healthGateway(t)
		before := statusEvents(t, g)
		for i := range 40 {
			if i%2 == 0 {
				send(t, g, tok, fault401, 401)
			} else {
				send(t, g, tok, nil, 200)
			}
		}
		if got := statusEvents(t, g)[len(before):]; len(got) != 0 || status(t, g) != keygate.KeyStatusValid {
			t.Errorf("after 40 alternating calls: status %s, events %v; want valid and none", status(t, g), got)
		}
		if n := probes(g); n != 0 {
			t.Errorf("%d key checks, want none (never 3 rejections in a row)", n)
		}
	})
	t.Run("Only401FromOneTenant", func(t *testing.T) {
		g, tok, _ := healthGateway(t)
		before := statusEvents(t, g)
		for range 40 {
			send(t, g, tok, fault401, 401)
		}
		if got := statusEvents(t, g)[len(before):]; len(got) != 0 || status(t, g) != keygate.KeyStatusValid {
			t.Errorf("after 40 rejected calls: status %s, events %v; want valid and none", status(t, g), got)
		}
		if n := probes(g); n != 1 {
			t.Errorf("%d key checks, want 1 (it passed: quiet for the window)", n)
		}
	})
	t.Run("RevokedThenRestored", func(t *testing.T) {
		g, tok, _ := healthGateway(t)
		before := statusEvents(t, g)
		g.fake.Revoke(platformOpenAI)
		for range 10 {
			send(t, g, tok, nil, 401)
		}
		if got := statusEvents(t, g)[len(before):]; !cmp.Equal(got, []string{"invalid"}) || status(t, g) != keygate.KeyStatusInvalid {
			t.Errorf("revoked: status %s, events %v; want invalid and one event", status(t, g), got)
		}
		if n := probes(g); n != 1 {
			t.Errorf("%d key checks, want 1", n)
		}
		g.fake.Reset() // the provider accepts the key again
		for range 5 {
			send(t, g, tok, nil, 200)
		}
		if got := statusEvents(t, g)[len(before):]; !cmp.Equal(got, []string{"invalid", "valid"}) || status(t, g) != keygate.KeyStatusValid {
			t.Errorf("restored: status %s, events %v; want valid after one event each way", status(t, g), got)
		}
	})
}

// SPDX-License-Identifier: Apache-2.0

package proxy_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/inmem"
	"github.com/keygate/keygate/internal/proxy"
)

// putBudget sets tn's budget or fails t.
func (g *gw) putBudget(t *testing.T, b keygate.Budget) {
	t.Helper()
	if b.AppliesTo == "" {
		b.AppliesTo, b.BYOKBilling = keygate.AppliesToPlatform, keygate.BillingSkip
	}
	if _, err := g.store.PutBudget(context.Background(), b, keygate.AuditEvent{Action: keygate.ActionBudgetUpdated, Tenant: b.Tenant}); err != nil {
		t.Fatal(err)
	}
}

// TestHardBudgetStopsUnknownModel: a model the price table does not know
// is costed at its provider's fallback price (the highest in the table),
// marked estimated, so a hard daily dollar budget stops a tenant calling
// it; it is never free.
func TestHardBudgetStopsUnknownModel(t *testing.T) {
	g := MustGateway(t)
	tn, tok := g.MustTenant(t, "acme", true)
	g.MustKey(t, keygate.PlatformScope, "openai", platformOpenAI)
	// $0.05 a day. At the fallback price (o1-pro's $150/$600 per 1M
	// tokens), a call reserves ~20 input + 100 output tokens: ~6.3 cents.
	g.putBudget(t, keygate.Budget{Tenant: tn, DailyUSDMicros: ptr(50_000), Hard: true})
	body := `{"model":"gpt-9-ultra","max_tokens":100,"messages":[{"role":"user","content":"hi"}]}`
	ok, refused := 0, 0
	for i := 0; i < 5 && refused == 0; i++ {
		status, _, b := do(t, "POST", g.URL+"/v1/chat/completions", body, bearer(tok))
		switch status {
		case 200:
			ok++
		case 429:
			refused++
			var e struct{ Error struct{ Code string } }
			_ = json.Unmarshal(b, &e)
			if e.Error.Code != keygate.CodeBudgetExceeded {
				t.Errorf("refusal %s", b)
			}
		default:
			t.Fatalf("status %d: %s", status, b)
		}
	}
	if refused == 0 {
		t.Fatalf("%d calls to an unknown model admitted, none refused: the budget did not bite", ok)
	}
	waitFor(t, g, func() bool { return len(g.usage.Events()) == ok })
	for _, ev := range g.usage.Events() {
		if ev.Priced != keygate.PricedEstimated || ev.CostMicros <= 0 {
			t.Errorf("usage of an unknown model: priced %q, cost %d; want estimated and > 0", ev.Priced, ev.CostMicros)
		}
	}
	// A known model is priced.
	g.putBudget(t, keygate.Budget{Tenant: tn})
	if ev := g.mustCallUsage(t, "/v1/chat/completions", `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`, tok); ev.Priced != keygate.PricedExact {
		t.Errorf("gpt-4o priced %q, want priced", ev.Priced)
	}
}

// TestUnpricedRules: with unpriced_models = "refuse", a platform-paid call
// to a model without a price is refused (422 model_unpriced) before it
// reaches the provider, while the tenant's own key is not refused (only
// marked); a provider with no price at all is refused under a hard money
// budget in either mode.
func TestUnpricedRules(t *testing.T) {
	g := MustGatewayWith(t, inmem.NewCounter(), func(d *proxy.Deps) { d.Unpriced = proxy.UnpricedRefuse })
	tn, tok := g.MustTenant(t, "acme", true)
	g.MustKey(t, keygate.PlatformScope, "openai", platformOpenAI)
	g.MustKey(t, keygate.PlatformScope, "exa", tenantExa)
	unknown := `{"model":"gpt-9-ultra","messages":[{"role":"user","content":"hi"}]}`

	before := len(g.fake.Requests())
	status, _, b := do(t, "POST", g.URL+"/v1/chat/completions", unknown, bearer(tok))
	var e struct {
		Error struct{ Code, Message string }
	}
	_ = json.Unmarshal(b, &e)
	if status != 422 || e.Error.Code != keygate.CodeModelUnpriced {
		t.Fatalf("platform-paid unknown model under refuse: %d %s", status, b)
	}
	if len(g.fake.Requests()) != before {
		t.Errorf("the refused call reached the provider")
	}
	// A priced model passes; a model listing (nothing to price) too.
	if st, _, b := do(t, "POST", g.URL+"/v1/chat/completions", `{"model":"gpt-4o","messages":[]}`, bearer(tok)); st != 200 {
		t.Errorf("priced model: %d %s", st, b)
	}

	// Exa has no price: refused under a hard money budget, not without.
	search := `{"query":"keygate"}`
	if st, _, b := do(t, "POST", g.URL+"/exa/search", search, map[string]string{"x-api-key": tok}); st != 200 {
		t.Errorf("exa without a budget: %d %s", st, b)
	}
	g.putBudget(t, keygate.Budget{Tenant: tn, DailyUSDMicros: ptr(1_000_000), Hard: true})
	status, _, b = do(t, "POST", g.URL+"/exa/search", search, map[string]string{"x-api-key": tok})
	_ = json.Unmarshal(b, &e)
	if status != 422 || e.Error.Code != keygate.CodeModelUnpriced {
		t.Errorf("unpriced provider under a hard money budget: %d %s", status, b)
	}

	// The tenant's own key: admitted, costed at the fallback, marked.
	g.MustKey(t, tn, "openai", tenantOpenAI)
	ev := g.mustCallUsage(t, "/v1/chat/completions", unknown, tok)
	if ev.Source != keygate.SourceTenant || ev.Priced != keygate.PricedEstimated || ev.CostMicros == 0 {
		t.Errorf("tenant-paid unknown model: source %s, priced %q, cost %d", ev.Source, ev.Priced, ev.CostMicros)
	}
}

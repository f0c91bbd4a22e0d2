// SPDX-License-Identifier: Apache-2.0

package proxy_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"strings"
	"testing"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/auth"
)

// mustToken mints another gateway token of tenant with scope and returns
// its id and the token.
func (g *gw) mustToken(tb testing.TB, tenant keygate.TenantID, name string, scope keygate.TokenScope) (string, string) {
	tb.Helper()
	tok, hash, err := auth.Mint(rand.Reader, auth.GatewayTokenPrefix)
	if err != nil {
		tb.Fatal(err)
	}
	id, _ := auth.NewID(rand.Reader, "gt_")
	if _, err := g.store.CreateGatewayToken(context.Background(), keygate.GatewayToken{ID: id, Name: name, Tenant: tenant, Hash: hash,
		Prefix: tok.Reveal()[:7], Scope: scope}, keygate.AuditEvent{Action: keygate.ActionTokenCreated, Tenant: tenant}); err != nil {
		tb.Fatal(err)
	}
	return id, tok.Reveal()
}

// errorOf reads the code and type of an error answer in either dialect.
func errorOf(b []byte) (code, typ string) {
	var e struct {
		Error struct{ Code, Type string }
	}
	_ = json.Unmarshal(b, &e)
	return e.Error.Code, e.Error.Type
}

// TestTokenScopeRefuses: a scoped token calling a provider or model
// outside its scope gets 403 with the code of the rule it broke, in the
// caller's dialect, and the provider is never called; inside its scope it
// works, whether the model is sent plain or as provider/model.
func TestTokenScopeRefuses(t *testing.T) {
	g := MustGateway(t)
	tn, _ := g.MustTenant(t, "acme", true)
	g.MustKey(t, tn, "openai", tenantOpenAI)
	g.MustKey(t, tn, "anthropic", tenantAnthropic)
	g.MustKey(t, tn, "exa", tenantExa)
	_, tok := g.mustToken(t, tn, "scoped", keygate.TokenScope{Providers: []string{"openai", "exa"}, Models: []string{"gpt-4o*", "text-embedding-3-small"}})
	chat := func(model string) string {
		return `{"model":"` + model + `","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`
	}
	tests := []struct {
		name, method, path, body string
		status                   int
		code, typ                string
	}{
		{"AllowedPrefix", "POST", "/v1/chat/completions", chat("gpt-4o-mini"), 200, "", ""},
		{"AllowedExact", "POST", "/v1/embeddings", `{"model":"text-embedding-3-small","input":"a"}`, 200, "", ""},
		{"AllowedProviderSlashModel", "POST", "/v1/chat/completions", chat("openai/gpt-4o"), 200, "", ""},
		{"ProviderOutside", "POST", "/v1/chat/completions", chat("claude-sonnet-4-5"), 403, "token_scope_provider", "permission_error"},
		{"ProviderOutsideAnthropicDialect", "POST", "/v1/messages", chat("claude-sonnet-4-5"), 403, "token_scope_provider", "permission_error"},
		{"ModelOutside", "POST", "/v1/chat/completions", chat("gpt-3.5-turbo"), 403, "token_scope_model", "permission_error"},
		{"PrefixNeedsItsWholeStem", "POST", "/v1/chat/completions", chat("gpt-4-turbo"), 403, "token_scope_model", "permission_error"},
		{"PassthroughNamesNoModel", "POST", "/exa/search", `{"query":"q"}`, 403, "token_scope_model", "permission_error"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := len(g.fake.Requests())
			status, _, b := do(t, tc.method, g.URL+tc.path, tc.body, bearer(tok))
			if status != tc.status {
				t.Fatalf("status %d, want %d: %s", status, tc.status, b)
			}
			after := len(g.fake.Requests())
			if tc.status != 200 {
				code, typ := errorOf(b)
				if code != tc.code || typ != tc.typ {
					t.Errorf("error code %q type %q, want %q %q: %s", code, typ, tc.code, tc.typ, b)
				}
				if after != before {
					t.Errorf("the provider was called %d times for a call outside the scope", after-before)
				}
				if strings.Contains(string(b), "sk-") {
					t.Errorf("the refusal shows a key: %s", b)
				}
			} else if after != before+1 {
				t.Errorf("the provider was called %d times, want 1", after-before)
			}
		})
	}
}

// TestTokenScopeChangeSeenAtOnce: a scope set on a token that is already
// cached binds its very next call, and clearing it frees the next call:
// the store announces the change and the resolver drops the token.
func TestTokenScopeChangeSeenAtOnce(t *testing.T) {
	g := MustGateway(t)
	tn, _ := g.MustTenant(t, "acme", true)
	g.MustKey(t, tn, "anthropic", tenantAnthropic)
	id, tok := g.mustToken(t, tn, "app", keygate.TokenScope{})
	msg := `{"model":"claude-sonnet-4-5","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`
	if status, _, b := do(t, "POST", g.URL+"/v1/messages", msg, bearer(tok)); status != 200 {
		t.Fatalf("unscoped: %d %s", status, b)
	}
	ctx := context.Background()
	set := func(s keygate.TokenScope) {
		t.Helper()
		if _, err := g.store.SetGatewayTokenScope(ctx, tn, id, s, keygate.AuditEvent{Action: keygate.ActionTokenScoped, Tenant: tn}); err != nil {
			t.Fatal(err)
		}
	}
	set(keygate.TokenScope{Providers: []string{"openai"}})
	status, _, b := do(t, "POST", g.URL+"/v1/messages", msg, bearer(tok))
	if code, _ := errorOf(b); status != 403 || code != keygate.CodeTokenScopeProvider {
		t.Fatalf("after narrowing: %d %s, want 403 token_scope_provider", status, b)
	}
	set(keygate.TokenScope{})
	if status, _, b := do(t, "POST", g.URL+"/v1/messages", msg, bearer(tok)); status != 200 {
		t.Fatalf("after clearing: %d %s", status, b)
	}
}

// TestTokenBudgetStopsOnlyThatToken: a token with a hard daily budget of
// exactly one cent is refused (429 budget_exceeded naming the token's own
// budget) once its calls have spent it, never having spent more than the
// cent; another token of the same tenant keeps working; the usage events
// name the token of each call.
func TestTokenBudgetStopsOnlyThatToken(t *testing.T) {
	g := MustGateway(t)
	tn, _ := g.MustTenant(t, "acme", true)
	g.MustKey(t, tn, "openai", tenantOpenAI)
	const cent = 10_000 // micro-USD
	capped, capTok := g.mustToken(t, tn, "capped", keygate.TokenScope{DailyUSDMicros: ptr(cent)})
	free, freeTok := g.mustToken(t, tn, "free", keygate.TokenScope{})
	body := `{"model":"gpt-4o","max_tokens":200,"messages":[{"role":"user","content":"` + strings.Repeat("word ", 200) + `"}]}`
	var refusal []byte
	var retry string
	ok := 0 // each admitted call records one usage event
	for i := 0; i < 100 && refusal == nil; i++ {
		status, hdr, b := do(t, "POST", g.URL+"/v1/chat/completions", body, bearer(capTok))
		switch status {
		case 200:
			ok++
		case 429:
			refusal, retry = b, hdr.Get("Retry-After")
		default:
			t.Fatalf("call %d: %d %s", i, status, b)
		}
	}
	if refusal == nil {
		t.Fatal("a token budget of one cent never refused")
	}
	var e struct {
		Error struct{ Code, Message string }
	}
	_ = json.Unmarshal(refusal, &e)
	if e.Error.Code != keygate.CodeBudgetExceeded || !strings.Contains(e.Error.Message, "gateway token's own daily budget ($0.01)") || retry == "" {
		t.Errorf("refusal %s, Retry-After %q", refusal, retry)
	}
	waitFor(t, g, func() bool { return len(g.usage.Events()) == ok })
	var spent int64
	calls := 0
	for _, ev := range g.usage.Events() {
		if ev.TokenID == capped {
			spent += ev.CostMicros
			calls++
		}
	}
	if calls == 0 || spent > cent {
		t.Errorf("the capped token made %d calls costing %d micro-USD; want some, at most %d", calls, spent, cent)
	}
	for i := 0; i < 3; i++ {
		if status, _, b := do(t, "POST", g.URL+"/v1/chat/completions", body, bearer(freeTok)); status != 200 {
			t.Fatalf("the other token, call %d: %d %s", i, status, b)
		}
		ok++
	}
	if status, _, _ := do(t, "POST", g.URL+"/v1/chat/completions", body, bearer(capTok)); status != 429 {
		t.Errorf("the capped token after the other's calls: %d, want 429", status)
	}
	waitFor(t, g, func() bool { return len(g.usage.Events()) == ok })
	evs := g.usage.Events()
	if last := evs[len(evs)-1]; last.TokenID != free {
		t.Errorf("last usage event's token %q, want %q", last.TokenID, free)
	}
}

// TestTokenScopeModelList: /v1/models shows a scoped token only the
// models its scope allows, and asks no provider outside its scope.
func TestTokenScopeModelList(t *testing.T) {
	g := MustGateway(t)
	tn, tok := g.MustTenant(t, "acme", true)
	g.MustKey(t, tn, "openai", tenantOpenAI)
	g.MustKey(t, tn, "anthropic", tenantAnthropic)
	_, scoped := g.mustToken(t, tn, "scoped", keygate.TokenScope{Providers: []string{"openai"}, Models: []string{"gpt-4o*"}})
	list := func(tok string) []string {
		t.Helper()
		status, _, b := do(t, "GET", g.URL+"/v1/models", "", bearer(tok))
		if status != 200 {
			t.Fatalf("/v1/models: %d %s", status, b)
		}
		var out struct{ Data []struct{ ID string } }
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, m := range out.Data {
			ids = append(ids, m.ID)
		}
		return ids
	}
	all := list(tok)
	var others bool
	for _, id := range all {
		others = others || !strings.HasPrefix(id, "gpt-4o")
	}
	if !others {
		t.Fatalf("the unscoped token lists only gpt-4o models (%v): the test proves nothing", all)
	}
	before := len(g.fake.Requests())
	got := list(scoped)
	if len(got) == 0 {
		t.Fatal("the scoped token lists no model")
	}
	for _, id := range got {
		if !strings.HasPrefix(id, "gpt-4o") {
			t.Errorf("the scoped token lists %q", id)
		}
	}
	if n := len(g.fake.Requests()) - before; n != 1 {
		t.Errorf("listing asked %d providers, want only openai", n)
	}
}

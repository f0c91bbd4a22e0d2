// SPDX-License-Identifier: Apache-2.0

package proxy_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/fakeprovider"
)

func ptr(v int64) *int64 { return &v }

// TestBudgetAndRateLimits: a hard platform budget refuses platform-paid
// calls once spent (429 budget_exceeded with Retry-After, in the caller's
// dialect) while the tenant's own key bypasses it; a rate limit refuses the
// call over its RPM.
func TestBudgetAndRateLimits(t *testing.T) {
	g := MustGateway(t)
	tn, tok := g.MustTenant(t, "acme", true)
	g.MustKey(t, keygate.PlatformScope, "openai", platformOpenAI)
	g.MustKey(t, keygate.PlatformScope, "anthropic", platformAnthropic)
	ctx := context.Background()
	// Each call estimates ~20 input tokens + 5 output (max_tokens).
	body := `{"model":"gpt-4o","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`
	if _, err := g.store.PutBudget(ctx, keygate.Budget{Tenant: tn, DailyTokens: ptr(60), Hard: true, AppliesTo: keygate.AppliesToPlatform, BYOKBilling: keygate.BillingSkip}, keygate.AuditEvent{Action: keygate.ActionBudgetUpdated, Tenant: tn}); err != nil {
		t.Fatal(err)
	}
	ok, refused := 0, 0
	var last []byte
	var retry string
	for i := 0; i < 10; i++ {
		status, hdr, b := do(t, "POST", g.URL+"/v1/chat/completions", body, bearer(tok))
		switch status {
		case 200:
			ok++
		case 429:
			refused++
			last, retry = b, hdr.Get("Retry-After")
		default:
			t.Fatalf("status %d: %s", status, b)
		}
	}
	if ok == 0 || refused == 0 {
		t.Fatalf("%d admitted, %d refused: the budget did not bite", ok, refused)
	}
	var e struct{ Error struct{ Code, Type string } }
	_ = json.Unmarshal(last, &e)
	if e.Error.Code != "budget_exceeded" || e.Error.Type != "rate_limit_error" {
		t.Errorf("refusal body %s", last)
	}
	if n, err := strconv.Atoi(retry); err != nil || n < 1 || n > 86400 {
		t.Errorf("Retry-After %q", retry)
	}
	// The tenant's own key is not limited by the platform budget.
	g.MustKey(t, tn, "openai", tenantOpenAI)
	if status, hdr, b := do(t, "POST", g.URL+"/v1/chat/completions", body, bearer(tok)); status != 200 || hdr.Get("X-Keygate-Key-Source") != "tenant" {
		t.Fatalf("tenant key under a spent platform budget: %d %s", status, b)
	}

	// Rate limit: 2 requests a minute on anthropic, platform-paid.
	if _, err := g.store.PutRateLimits(ctx, tn, []keygate.RateLimit{{Provider: "anthropic", RPM: 2, AppliesTo: keygate.AppliesToPlatform}}, keygate.AuditEvent{Action: keygate.ActionLimitsUpdated, Tenant: tn}); err != nil {
		t.Fatal(err)
	}
	if _, err := g.store.PutBudget(ctx, keygate.Budget{Tenant: tn, AppliesTo: keygate.AppliesToPlatform, BYOKBilling: keygate.BillingSkip}, keygate.AuditEvent{Action: keygate.ActionBudgetUpdated, Tenant: tn}); err != nil {
		t.Fatal(err)
	}
	msg := `{"model":"claude-sonnet-4-5","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`
	var statuses []int
	var rb []byte
	for i := 0; i < 3; i++ {
		st, hdr, b := do(t, "POST", g.URL+"/v1/messages", msg, bearer(tok))
		statuses = append(statuses, st)
		if st == 429 {
			rb, retry = b, hdr.Get("Retry-After")
		}
	}
	if statuses[0] != 200 || statuses[1] != 200 || statuses[2] != 429 {
		t.Fatalf("statuses %v", statuses)
	}
	var ae struct {
		Type  string
		Error struct{ Type, Code string }
	}
	_ = json.Unmarshal(rb, &ae)
	if ae.Type != "error" || ae.Error.Type != "rate_limit_error" || ae.Error.Code != "rate_limited" || retry == "" {
		t.Errorf("Anthropic-dialect refusal %s, Retry-After %q", rb, retry)
	}
}

// TestUsageEveryRoute: each gateway route records a usage event with the
// provider's token counts, for plain and streamed answers.
func TestUsageEveryRoute(t *testing.T) {
	g := MustGateway(t)
	tn, tok := g.MustTenant(t, "acme", true)
	g.MustKey(t, tn, "openai", tenantOpenAI)
	g.MustKey(t, tn, "anthropic", tenantAnthropic)
	tests := []struct {
		name, path, body string
		streamed         bool
		output           bool
	}{
		{"Chat", "/v1/chat/completions", `{"model":"gpt-4o","messages":[{"role":"user","content":"a b c"}]}`, false, true},
		{"ChatStream", "/v1/chat/completions", `{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"a b c"}]}`, true, true},
		{"Completions", "/v1/completions", `{"model":"gpt-3.5-turbo-instruct","prompt":"a b c"}`, false, true},
		{"Embeddings", "/v1/embeddings", `{"model":"text-embedding-3-small","input":"a b c"}`, false, false},
		{"Responses", "/v1/responses", `{"model":"gpt-4o","input":"a b c"}`, false, true},
		{"ResponsesStream", "/v1/responses", `{"model":"gpt-4o","input":"a b c","stream":true}`, true, true},
		{"Messages", "/v1/messages", `{"model":"claude-sonnet-4-5","max_tokens":50,"messages":[{"role":"user","content":"a b c"}]}`, false, true},
		{"MessagesStream", "/v1/messages", `{"model":"claude-sonnet-4-5","max_tokens":50,"stream":true,"messages":[{"role":"user","content":"a b c"}]}`, true, true},
		{"ClaudeViaOpenAIStream", "/v1/chat/completions", `{"model":"claude-sonnet-4-5","stream":true,"messages":[{"role":"user","content":"a b c"}]}`, true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev := g.mustCallUsage(t, tc.path, tc.body, tok)
			if ev.InputTokens == 0 || (tc.output && ev.OutputTokens == 0) || ev.Streamed != tc.streamed || ev.Source != keygate.SourceTenant {
				t.Errorf("usage %+v", ev)
			}
		})
	}
}

// TestUsageOfCutStream: a client that leaves mid-stream still gets the
// tokens the provider reported so far metered (Anthropic reports input
// tokens at the start of the stream).
func TestUsageOfCutStream(t *testing.T) {
	g := MustGateway(t)
	tn, tok := g.MustTenant(t, "acme", true)
	g.MustKey(t, tn, "anthropic", tenantAnthropic)
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "POST", g.URL+"/v1/messages", strings.NewReader(`{"model":"claude-sonnet-4-5","max_tokens":50,"stream":true,"messages":[{"role":"user","content":"a b c d"}]}`))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set(fakeprovider.FaultHeader, "stall_after=4")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(resp.Body)
	for n := 0; n < 3 && sc.Scan(); {
		if strings.HasPrefix(sc.Text(), "data:") {
			n++
		}
	}
	cancel()
	resp.Body.Close()
	waitFor(t, g, func() bool { return len(g.usage.Events()) == 1 })
	ev := g.usage.Events()[0]
	if !ev.Canceled || ev.Status != 499 || ev.InputTokens != 4 {
		t.Errorf("usage of a cut stream: %+v", ev)
	}
}

// TestPricedByUpstreamModel: a call is priced once, by the proxy, with the
// model the provider was sent ("provider/model" without its provider), or,
// for a passthrough call whose body keygate does not read, the model the
// provider answered with. The event keeps the client's model name (which
// the price table also matches, its provider prefix stripped).
func TestPricedByUpstreamModel(t *testing.T) {
	g := MustGateway(t)
	tn, tok := g.MustTenant(t, "acme", true)
	g.MustKey(t, tn, "openai", tenantOpenAI)
	g.MustKey(t, tn, "anthropic", tenantAnthropic)
	tests := []struct {
		name, path, body      string
		provider, model, sent string
	}{
		{"Plain", "/v1/chat/completions", `{"model":"gpt-4o","messages":[{"role":"user","content":"a b c"}]}`,
			"openai", "gpt-4o", "gpt-4o"},
		{"ProviderModel", "/v1/chat/completions", `{"model":"openai/gpt-4o","messages":[{"role":"user","content":"a b c"}]}`,
			"openai", "openai/gpt-4o", "gpt-4o"},
		{"ProviderModelStream", "/v1/chat/completions", `{"model":"openai/gpt-4o","stream":true,"messages":[{"role":"user","content":"a b c"}]}`,
			"openai", "openai/gpt-4o", "gpt-4o"},
		{"AnthropicPrefix", "/v1/messages", `{"model":"anthropic/claude-sonnet-4-5","max_tokens":50,"messages":[{"role":"user","content":"a b c"}]}`,
			"anthropic", "anthropic/claude-sonnet-4-5", "claude-sonnet-4-5"},
		{"Passthrough", "/openai/v1/chat/completions", `{"model":"gpt-4o","messages":[{"role":"user","content":"a b c"}]}`,
			"openai", "gpt-4o", "gpt-4o"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev := g.mustCallUsage(t, tc.path, tc.body, tok)
			if ev.Provider != tc.provider || ev.Model != tc.model || ev.InputTokens == 0 || ev.OutputTokens == 0 {
				t.Fatalf("usage %+v", ev)
			}
			want, known := g.prices.Cost(tc.provider, tc.sent, ev.InputTokens, ev.OutputTokens, ev.CachedTokens)
			if !known || want == 0 {
				t.Fatalf("the price table has no price for %s at %s", tc.sent, tc.provider)
			}
			if ev.CostMicros != want {
				t.Errorf("CostMicros = %d, want %d (%s at %s)", ev.CostMicros, want, tc.sent, tc.provider)
			}
			if ev.Priced != keygate.PricedExact {
				t.Errorf("Priced = %q, want priced", ev.Priced)
			}
		})
	}
}

// mustCallUsage posts body to path with the gateway token tok, fails
// unless the answer is 200, and returns the usage event the call recorded.
func (g *gw) mustCallUsage(t *testing.T, path, body, tok string) keygate.UsageEvent {
	t.Helper()
	before := len(g.usage.Events())
	if st, _, b := do(t, "POST", g.URL+path, body, bearer(tok)); st != 200 {
		t.Fatalf("%d %s", st, b)
	}
	waitFor(t, g, func() bool { return len(g.usage.Events()) > before })
	return g.usage.Events()[before]
}

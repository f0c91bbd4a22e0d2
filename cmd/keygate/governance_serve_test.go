// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/client"
	"github.com/keygate/keygate/internal/fakeprovider"
)

// pricesFile writes a price table in which gpt-4o output costs 1 micro-USD a
// token and input is free, so a call with max_tokens 5 (which the fake
// provider fills exactly) costs exactly what keygate reserves for it.
func pricesFile(tb testing.TB) string {
	tb.Helper()
	p := filepath.Join(tb.TempDir(), "prices.json")
	if err := os.WriteFile(p, []byte(`{"as_of":"2026-11-28","providers":{"openai":{"gpt-4o":{"input":0,"output":1000000}}}}`), 0o600); err != nil {
		tb.Fatal(err)
	}
	return p
}

// TestServeBillingPolicies: a BYOK tenant's calls cost the platform nothing
// under byok_billing skip (the dashboard says N/A and shows the tenant-paid
// usage apart), and count as billable under meter.
func TestServeBillingPolicies(t *testing.T) {
	fake := fakeprovider.Start(t)
	env := fakeProviderEnv(fake)
	s := MustServe(t, t.TempDir(), env, "--prices-file", pricesFile(t))
	ctx := context.Background()
	c, _ := client.New(s.URL, keygate.NewSecret(s.Token))
	for _, n := range []string{"skipper", "meterer"} {
		if _, err := c.CreateTenant(ctx, client.CreateTenantParams{Name: n}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.PutKey(ctx, n, "openai", keygate.NewSecret("sk-tenantKeyOf"+n+"000000000000")); err != nil {
			t.Fatal(err)
		}
	}
	jsonCall(t, s, "PUT", "/api/v1/tenants/meterer/budget", `{"byok_billing":"meter"}`, nil)
	body := `{"model":"gpt-4o","max_tokens":5,"messages":[{"role":"user","content":"hello"}]}`
	for _, n := range []string{"skipper", "meterer"} {
		tok, err := c.CreateGatewayToken(ctx, n, "app")
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 3; i++ {
			if st, _, b := gatewayCall(t, s, tok.Token.Reveal(), body); st != 200 {
				t.Fatalf("%s call: %d %s", n, st, b)
			}
		}
	}
	token := s.Token
	s.Stop(t) // drains the ledger
	s = MustServe(t, s.DataDir, env, "--prices-file", pricesFile(t))
	s.Token = token
	type totals struct {
		Requests int64
		CostUSD  string `json:"cost_usd"`
	}
	var skip, meter struct {
		Mode         string
		PlatformPaid totals `json:"platform_paid"`
		TenantPaid   totals `json:"tenant_paid"`
		Rows         []struct {
			BillableCostUSD string `json:"billable_cost_usd"`
			CostUSD         string `json:"cost_usd"`
		}
	}
	jsonCall(t, s, "GET", "/api/v1/tenants/skipper/usage?group_by=key_source", "", &skip)
	jsonCall(t, s, "GET", "/api/v1/tenants/meterer/usage?group_by=key_source", "", &meter)
	if skip.Mode != "byok" || skip.PlatformPaid.CostUSD != "N/A" || skip.TenantPaid.Requests != 3 || skip.TenantPaid.CostUSD != "0.000015" ||
		len(skip.Rows) != 1 || skip.Rows[0].BillableCostUSD != "0" {
		t.Errorf("skip: %+v", skip)
	}
	if meter.Mode != "byok" || meter.PlatformPaid.CostUSD == "N/A" || meter.TenantPaid.Requests != 3 ||
		len(meter.Rows) != 1 || meter.Rows[0].BillableCostUSD != "0.000015" {
		t.Errorf("meter: %+v", meter)
	}
}

// gatewayCall posts body to /v1/chat/completions with a gateway token.
func gatewayCall(tb testing.TB, s *testServer, tok, body string) (int, http.Header, []byte) {
	tb.Helper()
	req, _ := http.NewRequest("POST", s.URL+"/v1/chat/completions", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

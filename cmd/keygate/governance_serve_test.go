package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/client"
	"github.com/keygate/keygate/internal/fakeprovider"
	"github.com/keygate/keygate/internal/testkit"
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

// TestServeBudgetAcrossReplicas: three keygate servers share one PostgreSQL
// and one Redis; 300 concurrent platform-paid calls spread over them against
// a hard budget that allows exactly 100: exactly 100 succeed, the rest get
// 429 budget_exceeded, and the ledger records 100 calls.
func TestServeBudgetAcrossReplicas(t *testing.T) {
	pgURL, schema := testkit.PostgresSchema(t)
	redisURL := testkit.RedisURL(t)
	fake := fakeprovider.Start(t)
	mk := make([]byte, 32)
	_, _ = rand.Read(mk)
	env := map[string]string{
		"KEYGATE_ADMIN_TOKEN": "kga_replicaTestTokenAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"KEYGATE_MASTER_KEY":  "env://KG_TEST_MASTER_KEY",
		"KG_TEST_MASTER_KEY":  base64.StdEncoding.EncodeToString(mk),
	}
	for _, kv := range fake.Env() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	sep := "?"
	if strings.Contains(pgURL, "?") {
		sep = "&"
	}
	args := []string{"--database-url", pgURL + sep + "search_path=" + schema, "--redis-url", redisURL, "--prices-file", pricesFile(t)}
	var servers []*testServer
	for i := 0; i < 3; i++ {
		s := MustServe(t, t.TempDir(), env, args...)
		s.Token = env["KEYGATE_ADMIN_TOKEN"]
		servers = append(servers, s)
	}
	ctx := context.Background()
	c, _ := client.New(servers[0].URL, keygate.NewSecret(servers[0].Token))
	if _, err := c.CreateTenant(ctx, client.CreateTenantParams{Name: "acme"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutKey(ctx, "platform", "openai", keygate.NewSecret("sk-platformKeyForReplicaTest000000")); err != nil {
		t.Fatal(err)
	}
	if st := jsonCall(t, servers[1], "PUT", "/api/v1/tenants/acme/budget", `{"daily_usd":"0.0005","hard":true}`, nil); st != 200 {
		t.Fatalf("budget: %d", st)
	}
	tok, err := c.CreateGatewayToken(ctx, "acme", "app")
	if err != nil {
		t.Fatal(err)
	}
	const calls = 300
	body := `{"model":"gpt-4o","max_tokens":5,"messages":[{"role":"user","content":"count to ten"}]}`
	var mu sync.Mutex
	statuses := map[int]int{}
	var wg sync.WaitGroup
	for i := 0; i < calls; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			s := servers[i%3]
			req, _ := http.NewRequest("POST", s.URL+"/v1/chat/completions", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+tok.Token.Reveal())
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			mu.Lock()
			statuses[resp.StatusCode]++
			mu.Unlock()
		}(i)
	}
	wg.Wait()
	t.Logf("statuses: %v", statuses)
	if statuses[200] != 100 || statuses[429] != calls-100 {
		t.Fatalf("statuses %v: want exactly 100 admitted and %d refused", statuses, calls-100)
	}
	// The audit chain stays valid with three writers: 60 key changes spread
	// over the replicas at once.
	var aw sync.WaitGroup
	for i := 0; i < 60; i++ {
		aw.Add(1)
		go func(i int) {
			defer aw.Done()
			rc, _ := client.New(servers[i%3].URL, keygate.NewSecret(servers[0].Token))
			if _, err := rc.PutKey(ctx, "acme", "openai", keygate.NewSecret(fmt.Sprintf("sk-replicaWriter%020d", i))); err != nil {
				t.Error(err)
			}
		}(i)
	}
	aw.Wait()
	if v, err := c.VerifyAudit(ctx); err != nil || !v.OK {
		t.Fatalf("audit chain after concurrent writes on three replicas: %+v %v", v, err)
	}
	if k, err := c.GetKey(ctx, "acme", "openai"); err != nil || k.Version != 60 {
		t.Fatalf("versions after 60 concurrent writes: %+v %v", k, err)
	}
	for _, s := range servers {
		s.Stop(t) // drains each ledger
	}
	s := MustServe(t, t.TempDir(), env, args...)
	s.Token = env["KEYGATE_ADMIN_TOKEN"]
	var u struct {
		PlatformPaid struct {
			Requests     int64
			OutputTokens int64  `json:"output_tokens"`
			CostUSD      string `json:"cost_usd"`
		} `json:"platform_paid"`
	}
	jsonCall(t, s, "GET", "/api/v1/tenants/acme/usage", "", &u)
	if u.PlatformPaid.Requests != 100 || u.PlatformPaid.OutputTokens != 500 || u.PlatformPaid.CostUSD != "0.0005" {
		t.Errorf("ledger: %+v", u.PlatformPaid)
	}
}

// TestServeBillingPolicies: a BYOK tenant's calls cost the platform nothing
// under byok_billing skip (the dashboard says N/A and shows the tenant-paid
// usage apart), and count as billable under meter.
func TestServeBillingPolicies(t *testing.T) {
	fake := fakeprovider.Start(t)
	env := map[string]string{}
	for _, kv := range fake.Env() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
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

// TestServeReplicasSeeRotation: two replicas on one PostgreSQL; a key
// rotated through one is used by the other within a second (LISTEN/NOTIFY),
// although the other had the old key cached; a revoked gateway token stops
// working on both.
func TestServeReplicasSeeRotation(t *testing.T) {
	pgURL, schema := testkit.PostgresSchema(t)
	fake := fakeprovider.Start(t)
	mk := make([]byte, 32)
	_, _ = rand.Read(mk)
	env := map[string]string{
		"KEYGATE_ADMIN_TOKEN": "kga_replicaTestTokenBBBBBBBBBBBBBBBBBBBBBBBBBBB",
		"KEYGATE_MASTER_KEY":  "env://KG_TEST_MASTER_KEY",
		"KG_TEST_MASTER_KEY":  base64.StdEncoding.EncodeToString(mk),
	}
	for _, kv := range fake.Env() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	sep := "?"
	if strings.Contains(pgURL, "?") {
		sep = "&"
	}
	args := []string{"--database-url", pgURL + sep + "search_path=" + schema}
	a := MustServe(t, t.TempDir(), env, args...)
	b := MustServe(t, t.TempDir(), env, args...)
	a.Token, b.Token = env["KEYGATE_ADMIN_TOKEN"], env["KEYGATE_ADMIN_TOKEN"]
	ctx := context.Background()
	c, _ := client.New(a.URL, keygate.NewSecret(a.Token))
	if _, err := c.CreateTenant(ctx, client.CreateTenantParams{Name: "acme"}); err != nil {
		t.Fatal(err)
	}
	v1, v2 := "sk-replicaKeyVersionOne000000000", "sk-replicaKeyVersionTwo000000000"
	if _, err := c.PutKey(ctx, "acme", "openai", keygate.NewSecret(v1)); err != nil {
		t.Fatal(err)
	}
	tok, err := c.CreateGatewayToken(ctx, "acme", "app")
	if err != nil {
		t.Fatal(err)
	}
	body := `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`
	if st, _, _ := gatewayCall(t, b, tok.Token.Reveal(), body); st != 200 {
		t.Fatalf("call on b: %d", st)
	}
	if r, _ := fake.LastRequest(); r.Key.Reveal() != v1 {
		t.Fatal("b did not use v1")
	}
	if _, err := c.PutKey(ctx, "acme", "openai", keygate.NewSecret(v2)); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for {
		gatewayCall(t, b, tok.Token.Reveal(), body)
		if r, _ := fake.LastRequest(); r.Key.Reveal() == v2 {
			break
		}
		if time.Since(start) > 5*time.Second {
			t.Fatal("replica b still uses the old key after 5 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	lag := time.Since(start)
	t.Logf("replica b used the rotated key after %v", lag)
	if lag > time.Second {
		t.Errorf("replica b took %v to see the rotation, want under 1 s", lag)
	}
	if err := c.RevokeGatewayToken(ctx, "acme", tok.ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "revocation reaches b", func() bool {
		st, _, _ := gatewayCall(t, b, tok.Token.Reveal(), body)
		return st == 401
	})
}

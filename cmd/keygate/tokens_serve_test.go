// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/client"
	"github.com/keygate/keygate/internal/sqlite"
)

// TestServeBootstrapTokenApart: the generated first admin token is written
// to a 0600 file in the data directory whose path the log names; it never
// appears among the log lines, which all stay JSON, and it works.
func TestServeBootstrapTokenApart(t *testing.T) {
	dir := t.TempDir()
	s := MustServe(t, dir, map[string]string{})
	path := filepath.Join(dir, bootstrapTokenFile)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("no bootstrap token file: %v", err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("bootstrap token file mode %v, want 0600", fi.Mode().Perm())
	}
	if !strings.HasPrefix(s.Token, "kga_") {
		t.Fatalf("bootstrap token file holds %d bytes, not a token", len(s.Token))
	}
	logs := s.Logs.Bytes()
	if bytes.Contains(logs, []byte(s.Token)) {
		t.Error("the bootstrap token is in the log")
	}
	named := false
	sc := bufio.NewScanner(bytes.NewReader(logs))
	for sc.Scan() {
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Errorf("a line of stderr is not a JSON log line: %q", sc.Text())
			continue
		}
		if rec["token_file"] == path {
			named = true
		}
	}
	if !named {
		t.Errorf("no log line names the token file %s", path)
	}
	c, err := client.New(s.URL, keygate.NewSecret(s.Token))
	if err != nil {
		t.Fatal(err)
	}
	if id, err := c.WhoAmI(context.Background()); err != nil || id.Role != keygate.RolePlatformAdmin {
		t.Fatalf("whoami with the bootstrap token: %+v %v", id, err)
	}
}

// TestServeRefusesWeakAdminToken: a KEYGATE_ADMIN_TOKEN with less than 128
// bits of estimated entropy stops the start with a usage error that names
// the variable and the minimum, never the value, before anything is
// created.
func TestServeRefusesWeakAdminToken(t *testing.T) {
	for name, weak := range map[string]string{
		"Word":     "kga_secret_value",
		"Short":    "changeme",
		"Repeated": "kga_" + strings.Repeat("A", 64),
	} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			env := map[string]string{"KEYGATE_ADMIN_TOKEN": weak}
			var stderr bytes.Buffer
			err := run(context.Background(), []string{"serve", "--addr", "127.0.0.1:0", "--data-dir", dir}, func(k string) string { return env[k] }, strings.NewReader(""), io.Discard, &stderr)
			code := report(&stderr, err)
			out := stderr.String()
			if code != exitUsage || !strings.Contains(out, "KEYGATE_ADMIN_TOKEN") || !strings.Contains(out, "128") {
				t.Fatalf("exit %d, stderr %q: want a usage error naming KEYGATE_ADMIN_TOKEN and 128 bits", code, out)
			}
			if strings.Contains(out, strings.TrimPrefix(weak, "kga_")) {
				t.Errorf("the error shows the token: %q", out)
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Errorf("data directory created for a refused token: %v", err)
			}
		})
	}
}

// mustAuthCall sends one request with header set to value and returns the
// status, headers and body.
func mustAuthCall(tb testing.TB, method, url, header, value, body string) (int, http.Header, string) {
	tb.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	if header != "" {
		req.Header.Set(header, value)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// errorCode returns the keygate code of an error body in any of the
// shapes keygate answers with (management API, OpenAI, Anthropic), and the
// provider-style type if any.
func errorCode(tb testing.TB, body string) (code, typ string) {
	tb.Helper()
	var e struct {
		Type  string
		Error struct{ Code, Type string }
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		tb.Fatalf("error body %q: %v", body, err)
	}
	return e.Error.Code, e.Error.Type
}

// TestServeThrottlesFailedAuthentication: after --auth-fail-max failed
// authentications from one address, every request from it that needs a
// token is refused with 429 auth_throttled and Retry-After, a valid token
// included, on the gateway (in the OpenAI and the Anthropic dialect) and
// on the management API; the failures and refusals are counted in
// /metrics, one auth.throttled audit event names the address, and the
// presented tokens appear nowhere.
func TestServeThrottlesFailedAuthentication(t *testing.T) {
	dir := t.TempDir()
	s := MustServe(t, dir, map[string]string{}, "--auth-fail-max", "3")
	ctx := context.Background()
	c, err := client.New(s.URL, keygate.NewSecret(s.Token))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateTenant(ctx, client.CreateTenantParams{Name: "acme"}); err != nil {
		t.Fatal(err)
	}
	gt, err := c.CreateGatewayToken(ctx, "acme", "app")
	if err != nil {
		t.Fatal(err)
	}
	canaries := []string{
		"kg_CANARYguessOne7fQk2Lx9pRv3NwZ8mTb4YhJ6cUe1S",
		"kg_CANARYguessTwo9bvLzFi5UqdiFGjL6hbwjcv3zaoXH",
		"kga_CANARYguessThreeEdPZmKlNpPn4ShtmVtJt4kWtTa",
	}
	chat := `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`
	for i, tok := range canaries[:2] {
		if status, _, body := mustAuthCall(t, "POST", s.URL+"/v1/chat/completions", "Authorization", "Bearer "+tok, chat); status != 401 {
			t.Fatalf("bad gateway token %d: %d %s", i, status, body)
		}
	}
	if status, _, body := mustAuthCall(t, "GET", s.URL+"/api/v1/whoami", "Authorization", "Bearer "+canaries[2], ""); status != 401 {
		t.Fatalf("bad admin token: %d %s", status, body)
	}

	retryAfter := func(h http.Header) int {
		n, err := strconv.Atoi(h.Get("Retry-After"))
		if err != nil || n < 1 || n > 60 {
			t.Errorf("Retry-After %q: want 1-60 seconds", h.Get("Retry-After"))
		}
		return n
	}
	steps := []struct {
		name, method, path, header, value, body string
		wantType                                string
	}{
		{"GatewayOpenAI", "POST", "/v1/chat/completions", "Authorization", "Bearer " + gt.Token.Reveal(), chat, "rate_limit_error"},
		{"GatewayAnthropic", "POST", "/v1/messages", "X-Api-Key", gt.Token.Reveal(), `{"model":"claude-3-5-haiku-latest","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}`, "rate_limit_error"},
		{"ManagementAPI", "GET", "/api/v1/whoami", "Authorization", "Bearer " + s.Token, "", ""},
		{"BYOKGuide", "GET", "/api/tenants/acme/byok/status", "X-Admin-Key", s.Token, "", ""},
	}
	for _, st := range steps {
		status, h, body := mustAuthCall(t, st.method, s.URL+st.path, st.header, st.value, st.body)
		code, typ := errorCode(t, body)
		if status != 429 || code != keygate.CodeAuthThrottled || typ != st.wantType {
			t.Errorf("%s with a valid token from a throttled address: %d %s; want 429 auth_throttled", st.name, status, body)
		}
		retryAfter(h)
	}
	if status, _, _ := mustAuthCall(t, "GET", s.URL+"/healthz", "", "", ""); status != 200 {
		t.Errorf("healthz needs no token and is not throttled: %d", status)
	}
	_, _, metricsText := mustAuthCall(t, "GET", s.URL+"/metrics", "", "", "")
	for _, want := range []string{
		`keygate_auth_failures_total{surface="gateway"} 2`,
		`keygate_auth_failures_total{surface="api"} 1`,
		`keygate_auth_throttled_total{surface="gateway"} 2`,
		`keygate_auth_throttled_total{surface="api"} 2`,
	} {
		if !strings.Contains(metricsText, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	s.Stop(t) // the audit event is written in the background: Stop waits for it
	db, err := sqlite.Open(ctx, filepath.Join(dir, "keygate.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	evs, err := db.ListAudit(ctx, keygate.AuditFilter{Action: keygate.ActionAuthThrottled})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || !strings.Contains(evs[0].Detail, `"client":"127.0.0.1"`) || !strings.Contains(evs[0].Detail, `"failures":3`) {
		t.Fatalf("auth.throttled events: %+v; want one naming 127.0.0.1 and 3 failures", evs)
	}
	all, err := db.ListAudit(ctx, keygate.AuditFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range canaries {
		secret := tok[strings.Index(tok, "CANARY"):]
		if strings.Contains(string(s.Logs.Bytes()), secret) || strings.Contains(metricsText, secret) {
			t.Errorf("a presented token is in the log or the metrics")
		}
		for _, ev := range all {
			if strings.Contains(ev.Detail, secret) || strings.Contains(ev.ActorName, secret) {
				t.Errorf("a presented token is in audit event %s", ev.Action)
			}
		}
	}
}

// TestServeTokenExpiryAndLastUse: an expired gateway token gets 401
// token_expired in the provider's dialect and an expired admin token 401
// token_expired from the management API; the tokens' last uses are
// written (at the latest when the server stops) and listed after a
// restart.
func TestServeTokenExpiryAndLastUse(t *testing.T) {
	dir := t.TempDir()
	s := MustServe(t, dir, map[string]string{})
	ctx := context.Background()
	c, err := client.New(s.URL, keygate.NewSecret(s.Token))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateTenant(ctx, client.CreateTenantParams{Name: "acme"}); err != nil {
		t.Fatal(err)
	}
	live, err := c.CreateGatewayTokenWith(ctx, "acme", client.CreateGatewayTokenParams{Name: "live", ExpiresIn: "90d"})
	if err != nil || live.ExpiresAt == nil {
		t.Fatalf("create with --expires-in: %+v, %v", live.GatewayToken, err)
	}
	dying, err := c.CreateGatewayTokenWith(ctx, "acme", client.CreateGatewayTokenParams{Name: "dying", ExpiresIn: "1h"})
	if err != nil {
		t.Fatal(err)
	}
	admin, err := c.CreateAdminToken(ctx, client.CreateAdminTokenParams{Name: "ci", Role: keygate.RoleMember, Tenant: "acme", ExpiresIn: "1h"})
	if err != nil {
		t.Fatal(err)
	}
	// Expire two of them in the database, as time would (neither was
	// used, so neither is cached).
	raw, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "keygate.db")+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	past := time.Now().Add(-time.Minute).UnixMicro()
	for _, q := range []struct{ table, id string }{{"gateway_tokens", dying.ID}, {"admin_tokens", admin.ID}} {
		if _, err := raw.ExecContext(ctx, `UPDATE `+q.table+` SET expires_at = ? WHERE id = ?`, past, q.id); err != nil {
			t.Fatal(err)
		}
	}
	chat := `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`
	status, _, body := mustAuthCall(t, "POST", s.URL+"/v1/chat/completions", "Authorization", "Bearer "+dying.Token.Reveal(), chat)
	if code, typ := errorCode(t, body); status != 401 || code != keygate.CodeTokenExpired || typ != "authentication_error" {
		t.Errorf("expired gateway token: %d %s; want 401 token_expired, authentication_error", status, body)
	}
	status, _, body = mustAuthCall(t, "GET", s.URL+"/api/v1/whoami", "Authorization", "Bearer "+admin.Token.Reveal(), "")
	if code, _ := errorCode(t, body); status != 401 || code != keygate.CodeTokenExpired {
		t.Errorf("expired admin token: %d %s; want 401 token_expired", status, body)
	}
	// A use of the live token (the call itself may fail upstream: the
	// token authenticated).
	mustAuthCall(t, "POST", s.URL+"/v1/chat/completions", "Authorization", "Bearer "+live.Token.Reveal(), chat)

	s.Stop(t)
	s2 := MustServe(t, dir, map[string]string{})
	c2, err := client.New(s2.URL, keygate.NewSecret(s.Token))
	if err != nil {
		t.Fatal(err)
	}
	gts, err := c2.ListGatewayTokens(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range gts {
		if used := g.LastUsedAt != nil; used != (g.ID == live.ID) {
			t.Errorf("gateway token %s (%s): last used %v", g.ID, g.Name, g.LastUsedAt)
		}
	}
	ats, err := c2.ListAdminTokens(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range ats {
		if used := a.LastUsedAt != nil; used != (a.Name == "bootstrap") {
			t.Errorf("admin token %s (%s): last used %v", a.ID, a.Name, a.LastUsedAt)
		}
	}
}

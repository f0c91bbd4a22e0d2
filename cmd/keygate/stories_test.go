// SPDX-License-Identifier: Apache-2.0

package main

// The five stories of ../shared/seeds, end to end: each test drives a real
// `keygate serve` (run() on 127.0.0.1:0) and the fake provider through the
// story's steps and asserts the outcomes the story promises. docs/stories.md
// maps each story to keygate's commands and to these tests.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"github.com/keygate/keygate/internal/fakeprovider"
	"github.com/keygate/keygate/internal/testkit"
)

// storyRig is a keygate server in front of the fake provider.
type storyRig struct {
	t    *testing.T
	s    *testServer
	fake *fakeprovider.Server
	env  map[string]string
	args []string
	out  bytes.Buffer // every response body and CLI output, scanned for canaries
}

// MustStoryRig starts the fake provider and `keygate serve` with args,
// every provider's base URL pointed at the fake.
func MustStoryRig(t *testing.T, args ...string) *storyRig {
	t.Helper()
	fake := fakeprovider.Start(t)
	env := fakeProviderEnv(fake)
	r := &storyRig{t: t, fake: fake, env: env, args: args}
	r.s = MustServe(t, t.TempDir(), env, args...)
	if r.s.Token == "" {
		t.Fatalf("no admin token at first start:\n%s", r.s.Logs.Bytes())
	}
	return r
}

// restart stops the server (which drains the usage ledger) and starts it
// again on the same data.
func (r *storyRig) restart() {
	r.t.Helper()
	tok := r.s.Token
	r.s.Stop(r.t)
	r.out.Write(r.s.Logs.Bytes())
	r.s = MustServe(r.t, r.s.DataDir, r.env, r.args...)
	r.s.Token = tok
}

// http sends a request with the given headers and returns status, headers
// and body; the body is decoded into out when out is not nil.
func (r *storyRig) http(method, path, body string, hdr map[string]string, out any) (int, http.Header, []byte) {
	r.t.Helper()
	req, err := http.NewRequest(method, r.s.URL+path, strings.NewReader(body))
	if err != nil {
		r.t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r.out.Write(b)
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			r.t.Fatalf("%s %s: %d: %v: %s", method, path, resp.StatusCode, err, b)
		}
	}
	return resp.StatusCode, resp.Header, b
}

// admin calls the management API as the platform admin.
func (r *storyRig) admin(method, path, body string, out any) int {
	r.t.Helper()
	st, _, _ := r.http(method, path, body, map[string]string{"Authorization": "Bearer " + r.s.Token}, out)
	return st
}

// as calls the management API with the given X-Admin-Key and returns the
// status and the error code.
func (r *storyRig) as(token, method, path, body string, out any) (int, string) {
	r.t.Helper()
	hdr := map[string]string{}
	if token != "" {
		hdr["X-Admin-Key"] = token
	}
	st, _, b := r.http(method, path, body, hdr, out)
	var e struct{ Error struct{ Code string } }
	_ = json.Unmarshal(b, &e)
	return st, e.Error.Code
}

// call makes a gateway call with a gateway token; it returns the status,
// the key source header and the body.
func (r *storyRig) call(tok, method, path, body string, hdr map[string]string) (int, string, []byte) {
	r.t.Helper()
	h := map[string]string{"Authorization": "Bearer " + tok}
	for k, v := range hdr {
		h[k] = v
	}
	st, header, b := r.http(method, path, body, h, nil)
	return st, header.Get("X-Keygate-Key-Source"), b
}

// lastKey returns the key the fake provider last received for provider.
func (r *storyRig) lastKey(provider string) string {
	r.t.Helper()
	reqs := r.fake.Requests()
	for i := len(reqs) - 1; i >= 0; i-- {
		if reqs[i].Provider == provider {
			return reqs[i].Key.Reveal()
		}
	}
	r.t.Fatalf("the fake %s received no request", provider)
	return ""
}

// cli runs the CLI against the server with token and stdin.
func (r *storyRig) cli(token, stdin string, args ...string) result {
	r.t.Helper()
	return cliRun(r.t, r.s, token, stdin, &r.out, args...)
}

// mustTenant creates a tenant and returns its id.
func (r *storyRig) mustTenant(body string) string {
	r.t.Helper()
	var tn struct{ ID string }
	if st := r.admin("POST", "/api/v1/tenants", body, &tn); st != 201 {
		r.t.Fatalf("create tenant %s: %d", body, st)
	}
	return tn.ID
}

// mustGatewayToken mints a gateway token for tenant.
func (r *storyRig) mustGatewayToken(tenant string) string {
	r.t.Helper()
	var tok struct{ Token string }
	if st := r.admin("POST", "/api/v1/tenants/"+tenant+"/tokens", `{"name":"app"}`, &tok); st != 201 {
		r.t.Fatalf("gateway token: %d", st)
	}
	return tok.Token
}

// mustAdminToken mints an admin token with role on tenant.
func (r *storyRig) mustAdminToken(name, role, tenant string) string {
	r.t.Helper()
	var tok struct{ Token string }
	if st := r.admin("POST", "/api/v1/admin-tokens", fmt.Sprintf(`{"name":%q,"role":%q,"tenant":%q}`, name, role, tenant), &tok); st != 201 {
		r.t.Fatalf("admin token: %d", st)
	}
	return tok.Token
}

func (r *storyRig) mustPutKey(owner, provider, key string) {
	r.t.Helper()
	path := "/api/v1/tenants/" + owner + "/keys/" + provider
	if owner == "platform" {
		path = "/api/v1/platform/keys/" + provider
	}
	if st := r.admin("PUT", path, `{"key":"`+key+`"}`, nil); st != 200 && st != 201 {
		r.t.Fatalf("put %s key of %s: %d", provider, owner, st)
	}
}

type storyTotals struct {
	Requests int64
	CostUSD  string `json:"cost_usd"`
}

type storyUsage struct {
	Mode         string
	BYOKBilling  string      `json:"byok_billing"`
	PlatformPaid storyTotals `json:"platform_paid"`
	TenantPaid   storyTotals `json:"tenant_paid"`
	Rows         []struct {
		Provider        string
		KeySource       string `json:"key_source"`
		Requests        int64
		CostUSD         string `json:"cost_usd"`
		BillableCostUSD string `json:"billable_cost_usd"`
	}
}

const (
	chatGPT    = `{"model":"gpt-4o","max_tokens":5,"messages":[{"role":"user","content":"classify this report"}]}`
	chatClaude = `{"model":"claude-sonnet-4-5","max_tokens":5,"messages":[{"role":"user","content":"fix this bug"}]}`
)

// storyKey returns a well-formed key for provider that carries the canary
// marker and a recognizable tag, so scans can prove it never leaks.
func storyKey(provider, tag string) string {
	pad := func(s string, n int) string {
		for len(s) < n {
			s += "0"
		}
		return s[:n]
	}
	switch provider {
	case "openai":
		return "sk-" + testkit.CanaryMarker + tag + "0000"
	case "anthropic":
		return pad("sk-ant-"+testkit.CanaryMarker+tag, 60)
	case "google":
		return pad("AIza"+tag+testkit.CanaryMarker, 39)
	}
	// mistral, exa, deepgram: letters and digits only.
	return pad(testkit.CanaryMarker+tag, 48)
}

// TestStory000ProjectScoped is seed 000 (project-scoped BYOK), on SQLite and
// on PostgreSQL: set one provider's key, then both; calls use them
// (key_source tenant in the response header, the access log and the usage
// ledger), the provider without a key falls back to the platform key;
// rotation takes effect on the next call without a restart; a stale key's
// 401 turns health red; every set / rotated / cleared shows in
// byok_audit_log with actor and time, queried verbatim on PostgreSQL.
func TestStory000ProjectScoped(t *testing.T) {
	t.Run("SQLite", func(t *testing.T) {
		storyProjectScoped(t, nil, func(r *storyRig, project string) [][4]string {
			db, err := sql.Open("sqlite", "file:"+filepath.Join(r.s.DataDir, "keygate.db")+"?mode=ro")
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			// SQLite has no schemas: the same query without "public.".
			return queryAuditLog(t, db, `select actor_id, action, provider, occurred_at from byok_audit_log where project_id = '`+project+`' order by occurred_at desc;`)
		})
	})
	t.Run("PostgreSQL", func(t *testing.T) {
		dbURL := storyDatabase(t)
		storyProjectScoped(t, []string{"--database-url", dbURL}, func(r *storyRig, project string) [][4]string {
			db, err := sql.Open("pgx", dbURL)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			// The story's query, verbatim.
			return queryAuditLog(t, db, `select actor_id, action, provider, occurred_at from public.byok_audit_log where project_id = '`+project+`' order by occurred_at desc;`)
		})
	})
}

func storyProjectScoped(t *testing.T, args []string, auditLog func(r *storyRig, project string) [][4]string) {
	r := MustStoryRig(t, args...)
	project := r.mustTenant(`{"name":"mushi-project"}`)
	platformOpenAI, platformAnthropic := storyKey("openai", "platformoa"), storyKey("anthropic", "platformant")
	r.mustPutKey("platform", "openai", platformOpenAI)
	r.mustPutKey("platform", "anthropic", platformAnthropic)
	tok := r.mustGatewayToken(project)

	// Only the Anthropic key: Claude calls use it, GPT calls the platform's.
	anthropicKey := storyKey("anthropic", "projectant")
	if res := r.cli(r.s.Token, anthropicKey, "key", "set", "--tenant", "mushi-project", "--provider", "anthropic"); res.exit != 0 {
		t.Fatalf("key set anthropic: %+v", res)
	}
	if st, src, b := r.call(tok, "POST", "/v1/messages", chatClaude, nil); st != 200 || src != "tenant" || r.lastKey("anthropic") != anthropicKey {
		t.Fatalf("classify-report on Claude: %d source %q: %s", st, src, b)
	}
	if st, src, _ := r.call(tok, "POST", "/v1/chat/completions", chatGPT, nil); st != 200 || src != "platform" || r.lastKey("openai") != platformOpenAI {
		t.Fatalf("judge-batch on GPT-4o without a project key: %d source %q", st, src)
	}

	// Both keys: full isolation.
	openaiKey := storyKey("openai", "projectoa1")
	if res := r.cli(r.s.Token, openaiKey, "key", "set", "--tenant", project, "--provider", "openai"); res.exit != 0 {
		t.Fatalf("key set openai: %+v", res)
	}
	if st, src, _ := r.call(tok, "POST", "/v1/chat/completions", chatGPT, nil); st != 200 || src != "tenant" || r.lastKey("openai") != openaiKey {
		t.Fatalf("GPT-4o with the project key: %d source %q", st, src)
	}

	// Rotation: the next call uses the new key, no restart.
	rotated := storyKey("openai", "projectoa2")
	if res := r.cli(r.s.Token, rotated, "key", "set", "--tenant", project, "--provider", "openai"); res.exit != 0 || !strings.Contains(res.stdout, "rotated") {
		t.Fatalf("rotate: %+v", res)
	}
	if st, src, _ := r.call(tok, "POST", "/v1/chat/completions", chatGPT, nil); st != 200 || src != "tenant" || r.lastKey("openai") != rotated {
		t.Fatalf("call after rotation: %d source %q", st, src)
	}

	// A stale key: the provider's 401 reaches the caller and health turns red.
	r.fake.Revoke(rotated)
	if st, src, _ := r.call(tok, "POST", "/v1/chat/completions", chatGPT, nil); st != 401 || src != "tenant" {
		t.Fatalf("call on a revoked key: %d source %q", st, src)
	}
	var health struct {
		Healthy bool
		Keys    []struct{ Provider, Color string }
	}
	waitFor(t, "health turns red", func() bool {
		r.admin("GET", "/api/v1/tenants/"+project+"/health", "", &health)
		for _, k := range health.Keys {
			if k.Provider == "openai" && k.Color == "red" {
				return true
			}
		}
		return false
	})
	if res := r.cli(r.s.Token, "", "health", "--tenant", project); res.exit != 0 || !strings.Contains(res.stdout, "red") {
		t.Fatalf("keygate health: %+v", res)
	}

	// Clear the OpenAI key: GPT calls go back to the platform key.
	if res := r.cli(r.s.Token, "", "key", "rm", "--tenant", project, "--provider", "openai"); res.exit != 0 {
		t.Fatalf("key rm: %+v", res)
	}
	if st, src, _ := r.call(tok, "POST", "/v1/chat/completions", chatGPT, nil); st != 200 || src != "platform" {
		t.Fatalf("call after clearing: %d source %q", st, src)
	}

	// key_source is in the access log of every proxied call.
	sources := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(r.s.Logs.Bytes()))
	for sc.Scan() {
		var rec struct {
			Msg, Tenant string
			KeySource   string `json:"key_source"`
		}
		if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Msg == "request" && rec.Tenant == project {
			sources[rec.KeySource] = true
		}
	}
	if !sources["tenant"] || !sources["platform"] {
		t.Errorf("access log key_source values for the project: %v", sources)
	}

	// The audit trail, through the story's own query.
	var who struct {
		TokenID string `json:"token_id"`
	}
	r.admin("GET", "/api/v1/whoami", "", &who)
	rows := auditLog(r, project)
	var got [][3]string
	for _, row := range rows {
		got = append(got, [3]string{row[0], row[1], row[2]})
		if _, err := time.Parse(time.RFC3339Nano, row[3]); err != nil {
			t.Errorf("occurred_at %q: %v", row[3], err)
		}
	}
	want := [][3]string{
		{who.TokenID, "cleared", "openai"},
		{who.TokenID, "rotated", "openai"},
		{who.TokenID, "set", "openai"},
		{who.TokenID, "set", "anthropic"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("byok_audit_log (-want +got):\n%s", diff)
	}

	// The usage ledger records who paid for each call.
	r.restart()
	var u storyUsage
	r.admin("GET", "/api/v1/tenants/"+project+"/usage?group_by=key_source", "", &u)
	paid := map[string]int64{}
	for _, row := range u.Rows {
		paid[row.KeySource] = row.Requests
	}
	if paid["tenant"] != 4 || paid["platform"] != 2 {
		t.Errorf("usage by key source: %v, want 4 tenant (one refused by the provider) and 2 platform", paid)
	}
	r.s.Stop(t)
	testkit.AssertNoCanary(t, "logs, responses and CLI output", append(r.out.Bytes(), r.s.Logs.Bytes()...))
	if args == nil {
		testkit.AssertNoCanaryInDir(t, r.s.DataDir)
	}
}

// queryAuditLog runs q and returns its rows as (actor_id, action, provider,
// occurred_at in RFC 3339).
func queryAuditLog(tb testing.TB, db *sql.DB, q string) [][4]string {
	tb.Helper()
	rows, err := db.Query(q)
	if err != nil {
		tb.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var out [][4]string
	for rows.Next() {
		var actor, action, provider string
		var at any
		if err := rows.Scan(&actor, &action, &provider, &at); err != nil {
			tb.Fatal(err)
		}
		var occurred string
		switch v := at.(type) {
		case time.Time:
			occurred = v.UTC().Format(time.RFC3339Nano)
		case string:
			occurred = v
		default:
			tb.Fatalf("occurred_at is a %T", at)
		}
		out = append(out, [4]string{actor, action, provider, occurred})
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}

// storyDatabase creates a throwaway database on the test PostgreSQL server
// and returns its URL; keygate uses its public schema, as a default
// deployment does. It is dropped when the test ends.
func storyDatabase(tb testing.TB) string {
	tb.Helper()
	base := testkit.PostgresURL(tb)
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	name := "kgt_story_" + hex.EncodeToString(rnd[:])
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("create database %s: %v", name, err)
	}
	tb.Cleanup(func() {
		// Dropping waits for PostgreSQL's own I/O (a dropped database's
		// files, a checkpoint), which on a loaded machine can take more
		// than seconds; the bound only keeps a dead server from hanging
		// the test.
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			tb.Errorf("drop database %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			tb.Errorf("drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// TestStory001TenantAPI is seed 001 (the tenant BYOK setup guide) through
// its own REST interface, /api/tenants/{tenant_id}/byok/*: test keys (valid
// with model lists, invalid with the error, wrong prefixes), 403 without
// the admin key, enable, status with "enabled since", rotate with one key,
// revert to platform keys (keys deleted, calls and cost tracking back on
// the platform), and the audit trail of each step.
func TestStory001TenantAPI(t *testing.T) {
	r := MustStoryRig(t)
	tenant := r.mustTenant(`{"name":"acme-corp","byok_enabled":false}`)
	base := "/api/tenants/" + tenant + "/byok/"
	platformOpenAI := storyKey("openai", "platformoa")
	r.mustPutKey("platform", "openai", platformOpenAI)
	r.mustPutKey("platform", "anthropic", storyKey("anthropic", "platformant"))
	tok := r.mustGatewayToken(tenant)
	admin := r.s.Token
	openaiKey, anthropicKey := storyKey("openai", "acmeoa1"), storyKey("anthropic", "acmeant1")
	both := fmt.Sprintf(`{"openai_key":%q,"anthropic_key":%q}`, openaiKey, anthropicKey)

	// 403 without a (valid) admin key, on every endpoint.
	for _, ep := range []struct{ method, path string }{
		{"POST", "test-keys"}, {"POST", "enable"}, {"GET", "status"}, {"POST", "rotate"}, {"POST", "revert"},
	} {
		for _, key := range []string{"", "kga_notAnAdminKey"} {
			if st, code := r.as(key, ep.method, base+ep.path, both, nil); st != 403 || code != "forbidden" {
				t.Errorf("%s %s with admin key %q: %d %s, want 403 forbidden", ep.method, ep.path, key, st, code)
			}
		}
	}

	// Test keys: valid ones list their models.
	type tested struct {
		Valid  bool
		Models []string
		Error  *string
	}
	var res map[string]tested
	if st, _ := r.as(admin, "POST", base+"test-keys", both, &res); st != 200 || !res["openai"].Valid || len(res["openai"].Models) == 0 ||
		!res["anthropic"].Valid || len(res["anthropic"].Models) == 0 || res["openai"].Error != nil {
		t.Fatalf("test-keys: %d %+v", st, res)
	}
	// A revoked key and keys with each other's prefix are invalid, with the reason.
	revoked := storyKey("openai", "revoked")
	r.fake.Revoke(revoked)
	res = nil
	r.as(admin, "POST", base+"test-keys", fmt.Sprintf(`{"openai_key":%q}`, revoked), &res)
	if o := res["openai"]; o.Valid || o.Error == nil || !strings.Contains(*o.Error, "401") {
		t.Errorf("revoked key tested as %+v", o)
	}
	res = nil
	r.as(admin, "POST", base+"test-keys", fmt.Sprintf(`{"openai_key":%q,"anthropic_key":%q}`, anthropicKey, openaiKey), &res)
	for _, p := range []string{"openai", "anthropic"} {
		if o := res[p]; o.Valid || o.Error == nil || !strings.Contains(*o.Error, "key") {
			t.Errorf("%s key with the wrong prefix tested as %+v", p, o)
		}
	}
	if st, code := r.as(admin, "POST", base+"test-keys", `{}`, nil); st != 400 || code != "invalid_request" {
		t.Errorf("test-keys without a key: %d %s", st, code)
	}

	// Enable refuses invalid keys and saves nothing.
	if st, code := r.as(admin, "POST", base+"enable", fmt.Sprintf(`{"openai_key":%q,"anthropic_key":%q}`, openaiKey, "sk-"+testkit.CanaryMarker+"wrongprefix"), nil); st != 422 || code != "key_rejected" {
		t.Fatalf("enable with a wrong prefix: %d %s", st, code)
	}
	if st, code := r.as(admin, "POST", base+"enable", `{"openai_key":""}`, nil); st != 400 || code != "invalid_request" {
		t.Fatalf("enable without a key: %d %s", st, code)
	}
	var keys struct {
		Keys []struct{ Provider, Hint string }
	}
	if r.admin("GET", "/api/v1/tenants/"+tenant+"/keys", "", &keys); len(keys.Keys) != 0 {
		t.Fatalf("a refused enable saved keys: %+v", keys)
	}
	// Before BYOK, calls use the platform key.
	if st, src, _ := r.call(tok, "POST", "/v1/chat/completions", chatGPT, nil); st != 200 || src != "platform" {
		t.Fatalf("call before BYOK: %d %s", st, src)
	}

	// Enable.
	type status struct {
		Message     string
		BYOKEnabled bool `json:"byok_enabled"`
		Providers   map[string]struct {
			Configured bool
			Hint       string
		}
		EnabledSince *time.Time `json:"enabled_since"`
		CostTracking string     `json:"cost_tracking"`
	}
	var en status
	if st, _ := r.as(admin, "POST", base+"enable", both, &en); st != 200 || en.Message != "BYOK enabled for tenant" || !en.BYOKEnabled {
		t.Fatalf("enable: %d %+v", st, en)
	}
	var stat status
	if st, _ := r.as(admin, "GET", base+"status", "", &stat); st != 200 || !stat.BYOKEnabled || stat.EnabledSince == nil ||
		stat.CostTracking != "byok" || stat.Providers["openai"].Hint != "..."+openaiKey[len(openaiKey)-4:] || !stat.Providers["anthropic"].Configured {
		t.Fatalf("status: %d %+v", st, stat)
	}
	if st, src, _ := r.call(tok, "POST", "/v1/chat/completions", chatGPT, nil); st != 200 || src != "tenant" || r.lastKey("openai") != openaiKey {
		t.Fatalf("call after enable: %d %s", st, src)
	}

	// Rotate: at least one key; the one given takes effect at once.
	if st, code := r.as(admin, "POST", base+"rotate", `{}`, nil); st != 400 || code != "invalid_request" {
		t.Fatalf("rotate without a key: %d %s", st, code)
	}
	newAnthropic := storyKey("anthropic", "acmeant2")
	if st, _ := r.as(admin, "POST", base+"rotate", fmt.Sprintf(`{"anthropic_key":%q}`, newAnthropic), nil); st != 200 {
		t.Fatalf("rotate: %d", st)
	}
	if st, src, _ := r.call(tok, "POST", "/v1/messages", chatClaude, nil); st != 200 || src != "tenant" || r.lastKey("anthropic") != newAnthropic {
		t.Fatalf("call after rotation: %d %s", st, src)
	}

	// Revert to platform keys.
	if st, _ := r.as(admin, "POST", base+"revert", "", &stat); st != 200 || stat.BYOKEnabled || stat.CostTracking != "platform" || stat.EnabledSince != nil {
		t.Fatalf("revert: %d %+v", st, stat)
	}
	if r.admin("GET", "/api/v1/tenants/"+tenant+"/keys", "", &keys); len(keys.Keys) != 0 {
		t.Fatalf("keys after revert: %+v", keys)
	}
	if st, src, _ := r.call(tok, "POST", "/v1/chat/completions", chatGPT, nil); st != 200 || src != "platform" || r.lastKey("openai") != platformOpenAI {
		t.Fatalf("call after revert: %d %s", st, src)
	}
	if st, code := r.as(admin, "POST", base+"rotate", fmt.Sprintf(`{"openai_key":%q}`, openaiKey), nil); st != 409 || code != "conflict" {
		t.Fatalf("rotate after revert: %d %s", st, code)
	}

	// The audit trail has each step, as the native API writes it.
	var trail struct{ Events []struct{ Action string } }
	r.admin("GET", "/api/v1/tenants/"+tenant+"/audit?limit=100", "", &trail)
	var got []string
	for _, ev := range trail.Events {
		if ev.Action != "key.tested" && ev.Action != "token.created" {
			got = append([]string{ev.Action}, got...)
		}
	}
	want := []string{"tenant.created", "key.set", "key.set", "byok.enabled", "key.rotated", "key.cleared", "key.cleared", "byok.disabled"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("audit (-want +got):\n%s", diff)
	}
	r.s.Stop(t)
	testkit.AssertNoCanary(t, "logs, responses and CLI output", append(r.out.Bytes(), r.s.Logs.Bytes()...))
	testkit.AssertNoCanaryInDir(t, r.s.DataDir)
}

// TestStory002Ephemeral is seed 002 (BYOK compose with a per-request key):
// the platform budget is spent, yet a call with the caller's own key in
// X-Provider-Key succeeds; closing the connection mid-stream cancels the
// upstream call at once and logs 499; the BYOK counter ticks by provider;
// and the key is nowhere: not in the database, logs, metrics or responses.
func TestStory002Ephemeral(t *testing.T) {
	r := MustStoryRig(t, "--prices-file", pricesFile(t))
	tenant := r.mustTenant(`{"name":"composer"}`)
	r.mustPutKey("platform", "openai", "sk-platformKeyForTheRegistry00000")
	if st := r.admin("PUT", "/api/v1/tenants/composer/policy", `{"default":{"allow_request_keys":true}}`, nil); st != 200 {
		t.Fatalf("policy: %d", st)
	}
	// The registry's daily LLM budget is exhausted: platform-paid calls get 429.
	if st := r.admin("PUT", "/api/v1/tenants/composer/budget", `{"daily_usd":"0.000001","hard":true}`, nil); st != 200 {
		t.Fatalf("budget: %d", st)
	}
	tok := r.mustGatewayToken(tenant)
	if st, _, b := r.call(tok, "POST", "/v1/chat/completions", chatGPT, nil); st != 429 || !strings.Contains(string(b), "budget_exceeded") {
		t.Fatalf("platform call over budget: %d %s", st, b)
	}

	// With the user's own key the budget is bypassed.
	own := map[string]string{"X-Provider-Key": testkit.CanaryOpenAIKey}
	st, src, b := r.call(tok, "POST", "/v1/chat/completions", chatGPT, own)
	if st != 200 || src != "request" || r.lastKey("openai") != testkit.CanaryOpenAIKey {
		t.Fatalf("call with a per-request key: %d %q %s", st, src, b)
	}

	// Closing the tab mid-stream: the upstream call is cancelled and the
	// access log says 499.
	r.fake.SetFault("openai", fakeprovider.Fault{StallAfter: 2})
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "POST", r.s.URL+"/v1/chat/completions",
		strings.NewReader(`{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"plan my bundle"}]}`))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("X-Provider-Key", testkit.CanaryOpenAIKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("X-Keygate-Key-Source") != "request" {
		t.Fatalf("stream: %d %s", resp.StatusCode, resp.Header.Get("X-Keygate-Key-Source"))
	}
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "data: ") {
		t.Fatalf("first event: %q %v", line, err)
	}
	cancel() // the tab closes
	resp.Body.Close()
	select {
	case c := <-r.fake.Canceled():
		if c.Key.Reveal() != testkit.CanaryOpenAIKey {
			t.Error("the cancelled upstream call was not the per-request one")
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the upstream call was not cancelled")
	}
	r.fake.SetFault("openai", fakeprovider.Fault{})
	waitFor(t, "499 in the access log", func() bool {
		return bytes.Contains(r.s.Logs.Bytes(), []byte(`"path":"/v1/chat/completions","status":499`))
	})

	// The telemetry counter ticks by provider, with no key contents.
	_, _, metrics := r.http("GET", "/metrics", "", nil, nil)
	if !bytes.Contains(metrics, []byte(`keygate_byok_requests_total{provider="openai"} 2`)) {
		t.Errorf("keygate_byok_requests_total: %s", grepLines(metrics, "keygate_byok_requests_total"))
	}
	// Nothing was stored: no key, no key event.
	var keys struct{ Keys []any }
	if r.admin("GET", "/api/v1/tenants/composer/keys", "", &keys); len(keys.Keys) != 0 {
		t.Fatalf("a per-request key was stored: %+v", keys)
	}
	var trail struct{ Events []struct{ Action string } }
	r.admin("GET", "/api/v1/tenants/composer/audit?limit=100", "", &trail)
	for _, ev := range trail.Events {
		if strings.HasPrefix(ev.Action, "key.") {
			t.Errorf("audit event %s for a per-request key", ev.Action)
		}
	}
	// The ledger records that the caller's key paid, without the key.
	r.restart()
	var u storyUsage
	r.admin("GET", "/api/v1/tenants/composer/usage?group_by=key_source", "", &u)
	paid := map[string]int64{}
	for _, row := range u.Rows {
		paid[row.KeySource] += row.Requests
	}
	if paid["request"] != 2 || paid["platform"] != 0 {
		t.Errorf("usage by key source: %v, want 2 request-paid (one cut short) and no platform-paid", paid)
	}
	r.s.Stop(t)
	testkit.AssertNoCanary(t, "logs, metrics and responses", append(r.out.Bytes(), r.s.Logs.Bytes()...))
	testkit.AssertNoCanaryInDir(t, r.s.DataDir)
}

func grepLines(b []byte, substr string) string {
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestStory003Workspace is seed 003 (workspace BYOK for hosted providers):
// keys for OpenAI, Anthropic, Google, Mistral and Exa; chat, messages,
// embeddings and the Exa search passthrough all use the workspace's key;
// under byok_billing skip (the default) BYOK usage costs the platform 0;
// deleting the workspace deletes its keys.
func TestStory003Workspace(t *testing.T) {
	r := MustStoryRig(t)
	ws := r.mustTenant(`{"name":"workspace-1"}`)
	keys := map[string]string{}
	for _, p := range []string{"openai", "anthropic", "google", "mistral", "exa"} {
		keys[p] = storyKey(p, "ws"+p)
		if res := r.cli(r.s.Token, keys[p], "key", "set", "--tenant", ws, "--provider", p); res.exit != 0 {
			t.Fatalf("key set %s: %+v", p, res)
		}
	}
	var list struct {
		Keys []struct{ Provider, Hint string }
	}
	if r.admin("GET", "/api/v1/tenants/"+ws+"/keys", "", &list); len(list.Keys) != 5 {
		t.Fatalf("keys: %+v", list)
	}
	for _, k := range list.Keys {
		if k.Hint != "..."+keys[k.Provider][len(keys[k.Provider])-4:] {
			t.Errorf("%s hint %q", k.Provider, k.Hint)
		}
	}
	tok := r.mustGatewayToken(ws)
	calls := []struct {
		name, provider, path, body string
	}{
		{"AgentOpenAI", "openai", "/v1/chat/completions", chatGPT},
		{"AgentAnthropic", "anthropic", "/v1/messages", chatClaude},
		{"AgentGoogle", "google", "/v1/chat/completions", `{"model":"gemini-2.0-flash","messages":[{"role":"user","content":"hi"}]}`},
		{"AgentMistral", "mistral", "/v1/chat/completions", `{"model":"mistral-small-latest","messages":[{"role":"user","content":"hi"}]}`},
		{"KnowledgeEmbeddings", "openai", "/v1/embeddings", `{"model":"text-embedding-3-small","input":"a document chunk"}`},
		{"SearchTool", "exa", "/exa/search", `{"query":"bring your own key","numResults":3}`},
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			st, src, b := r.call(tok, "POST", c.path, c.body, nil)
			if st != 200 || src != "tenant" {
				t.Fatalf("%s %s: %d source %q: %s", c.provider, c.path, st, src, b)
			}
			if r.lastKey(c.provider) != keys[c.provider] {
				t.Errorf("%s did not receive the workspace's key", c.provider)
			}
		})
	}

	r.restart() // drains the ledger
	var u storyUsage
	r.admin("GET", "/api/v1/tenants/"+ws+"/usage?group_by=provider,key_source", "", &u)
	if u.Mode != "byok" || u.BYOKBilling != "skip" || u.PlatformPaid.CostUSD != "N/A" || u.TenantPaid.Requests != int64(len(calls)) {
		t.Errorf("usage: %+v", u)
	}
	priced := false
	for _, row := range u.Rows {
		if row.KeySource != "tenant" || row.BillableCostUSD != "0" {
			t.Errorf("row %+v: want tenant-paid and billable 0", row)
		}
		priced = priced || row.CostUSD != "0"
	}
	if !priced {
		t.Errorf("no row has a cost: the price table did not apply, so skip proves nothing: %+v", u.Rows)
	}

	// Deleting the workspace deletes its keys (cascade).
	if st := r.admin("DELETE", "/api/v1/tenants/"+ws, "", nil); st != 204 {
		t.Fatalf("delete workspace: %d", st)
	}
	var all struct{ Total int }
	if r.admin("GET", "/api/v1/health", "", &all); all.Total != 0 {
		t.Errorf("%d keys left after deleting the workspace", all.Total)
	}
	if st, _, _ := r.call(tok, "POST", "/v1/chat/completions", chatGPT, nil); st != 401 {
		t.Errorf("the deleted workspace's token: %d", st)
	}
	r.s.Stop(t)
	testkit.AssertNoCanary(t, "logs, responses and CLI output", append(r.out.Bytes(), r.s.Logs.Bytes()...))
	testkit.AssertNoCanaryInDir(t, r.s.DataDir)
}

// TestStory004Organization is seed 004 (organization BYOK): BYOK is off
// until a platform admin grants it; with key_admins owner_only (set by the
// owner) only the owner manages keys, an admin or member token may not; the hint shows the last four characters; one provider on BYOK and
// another (voice) on the platform key; an invalid key fails the call with
// the provider's error and no fallback; removing the key falls back to the
// shared key; usage is still metered under byok_billing meter.
func TestStory004Organization(t *testing.T) {
	r := MustStoryRig(t, "--byok-default=false", "--prices-file", pricesFile(t))
	org := r.mustTenant(`{"name":"insights-org"}`)
	var tn struct {
		BYOKEnabled bool `json:"byok_enabled"`
	}
	if r.admin("GET", "/api/v1/tenants/"+org, "", &tn); tn.BYOKEnabled {
		t.Fatal("a new organization has BYOK without a grant")
	}
	platformLLM, platformVoice := storyKey("openai", "sharedllm"), storyKey("deepgram", "sharedvoice")
	r.mustPutKey("platform", "openai", platformLLM)
	r.mustPutKey("platform", "deepgram", platformVoice)
	owner := r.mustAdminToken("alice", "owner", org)
	admin := r.mustAdminToken("carol", "admin", org)
	member := r.mustAdminToken("bob", "member", org)
	tok := r.mustGatewayToken(org)
	orgKey := storyKey("openai", "orgllm") + "xK7q"

	// Only the owner manages keys: the owner sets key_admins owner_only,
	// which takes key management away from admin tokens (members never had
	// it); an admin token cannot set it back.
	if res := r.cli(owner, "", "tenant", "update", "insights-org", "--key-admins", "owner_only"); res.exit != 0 {
		t.Fatalf("owner sets key_admins owner_only: %+v", res)
	}
	var settings struct {
		KeyAdmins string `json:"key_admins"`
	}
	if r.admin("GET", "/api/v1/tenants/"+org, "", &settings); settings.KeyAdmins != "owner_only" {
		t.Fatalf("key_admins after the owner's update: %q", settings.KeyAdmins)
	}
	if st, code := r.as(admin, "PATCH", "/api/v1/tenants/"+org, `{"key_admins":"owner_and_admin"}`, nil); st != 403 || code != "forbidden" {
		t.Fatalf("admin resets key_admins: %d %s", st, code)
	}
	keyPath := "/api/v1/tenants/" + org + "/keys/openai"
	for _, who := range []struct{ role, token string }{{"admin", admin}, {"member", member}} {
		if st, code := r.as(who.token, "PUT", keyPath, `{"key":"`+orgKey+`"}`, nil); st != 403 || code != "forbidden" {
			t.Fatalf("%s sets a key: %d %s", who.role, st, code)
		}
	}
	if res := r.cli(admin, orgKey, "key", "set", "--tenant", "insights-org", "--provider", "openai"); res.exit == 0 {
		t.Fatalf("admin sets a key with the CLI: %+v", res)
	}
	if res := r.cli(owner, orgKey, "key", "set", "--tenant", "insights-org", "--provider", "openai"); res.exit != 0 {
		t.Fatalf("owner sets a key: %+v", res)
	}
	var k struct{ Hint string }
	for _, who := range []string{admin, member} {
		if st, _ := r.as(who, "GET", keyPath, "", &k); st != 200 || k.Hint != "...xK7q" {
			t.Fatalf("hint: %d %q", st, k.Hint)
		}
	}
	if st, code := r.as(admin, "DELETE", keyPath, "", nil); st != 403 || code != "forbidden" {
		t.Fatalf("admin removes the key: %d %s", st, code)
	}
	var changes struct {
		Events []struct {
			Actor  struct{ Name string }
			Detail map[string]map[string]string
		}
	}
	r.admin("GET", "/api/v1/tenants/"+org+"/audit?action=tenant.updated", "", &changes)
	if len(changes.Events) != 1 || changes.Events[0].Actor.Name != "alice" ||
		!cmp.Equal(changes.Events[0].Detail, map[string]map[string]string{"key_admins": {"from": "owner_and_admin", "to": "owner_only"}}) {
		t.Fatalf("tenant.updated events: %+v", changes.Events)
	}
	// Not used until a platform admin grants BYOK; the owner cannot grant it.
	if st, src, _ := r.call(tok, "POST", "/v1/chat/completions", chatGPT, nil); st != 200 || src != "platform" || r.lastKey("openai") != platformLLM {
		t.Fatalf("call before the grant: %d %s", st, src)
	}
	if st, code := r.as(owner, "PATCH", "/api/v1/tenants/"+org, `{"byok_enabled":true}`, nil); st != 403 || code != "forbidden" {
		t.Fatalf("owner grants BYOK: %d %s", st, code)
	}
	if res := r.cli(r.s.Token, "", "tenant", "update", org, "--byok=true"); res.exit != 0 {
		t.Fatalf("platform admin grants BYOK: %+v", res)
	}
	if st := r.admin("PUT", "/api/v1/tenants/"+org+"/budget", `{"byok_billing":"meter"}`, nil); st != 200 {
		t.Fatalf("byok_billing meter: %d", st)
	}
	for i := 0; i < 2; i++ {
		if st, src, _ := r.call(tok, "POST", "/v1/chat/completions", chatGPT, nil); st != 200 || src != "tenant" || r.lastKey("openai") != orgKey {
			t.Fatalf("LLM call after the grant: %d %s", st, src)
		}
	}
	// The voice provider stays on the platform's key.
	if st, src, b := r.call(tok, "GET", "/deepgram/v1/projects", "", nil); st != 200 || src != "platform" || r.lastKey("deepgram") != platformVoice {
		t.Fatalf("voice call: %d %s %s", st, src, b)
	}

	// An invalid key fails with the provider's error, and no fallback.
	r.fake.Revoke(orgKey)
	before := len(r.fake.Requests())
	st, src, b := r.call(tok, "POST", "/v1/chat/completions", chatGPT, nil)
	var perr struct{ Error struct{ Code string } }
	_ = json.Unmarshal(b, &perr)
	if st != 401 || src != "tenant" || perr.Error.Code != "invalid_api_key" {
		t.Fatalf("call on an invalid key: %d %s %s", st, src, b)
	}
	for _, req := range r.fake.Requests()[before:] {
		if req.Key.Reveal() != orgKey {
			t.Fatal("keygate fell back to another key after the organization's key was rejected")
		}
	}
	// Removing the key falls back to the shared key.
	if res := r.cli(owner, "", "key", "rm", "--tenant", org, "--provider", "openai"); res.exit != 0 {
		t.Fatalf("owner removes the key: %+v", res)
	}
	if st, src, _ := r.call(tok, "POST", "/v1/chat/completions", chatGPT, nil); st != 200 || src != "platform" || r.lastKey("openai") != platformLLM {
		t.Fatalf("call after removing the key: %d %s", st, src)
	}

	// Credits are still counted for BYOK calls (byok_billing meter).
	r.restart()
	var u storyUsage
	r.admin("GET", "/api/v1/tenants/"+org+"/usage?group_by=provider,key_source", "", &u)
	billable := map[string]string{}
	for _, row := range u.Rows {
		if row.Provider == "openai" {
			billable[row.KeySource] = row.BillableCostUSD
		}
	}
	if u.BYOKBilling != "meter" || billable["tenant"] != "0.00001" || billable["platform"] != "0.00001" {
		t.Errorf("billable cost by key source: %v (byok_billing %q), want 2 calls of 5 output tokens each", billable, u.BYOKBilling)
	}
	r.s.Stop(t)
	testkit.AssertNoCanary(t, "logs, responses and CLI output", append(r.out.Bytes(), r.s.Logs.Bytes()...))
	testkit.AssertNoCanaryInDir(t, r.s.DataDir)
}

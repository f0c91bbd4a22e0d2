// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/client"
	"github.com/keygate/keygate/internal/fakeprovider"
	"github.com/keygate/keygate/internal/testkit"
)

// canaryKeys returns a well-formed key per provider that carries the
// canary marker, distinct per role ("t" tenant, "p" platform, "r" request).
func canaryKeys(role string) map[string]string {
	m := testkit.CanaryMarker
	return map[string]string{
		"openai":     "sk-" + m + role + "openai000000",
		"anthropic":  "sk-ant-" + m + role + "anthropic000000000",
		"google":     "AIza" + m + role + "goog012", // exactly 39 characters
		"mistral":    m + role + "mistral00000000",
		"openrouter": "sk-or-" + m + role + "router000000",
		"groq":       "gsk_" + m + role + "groq00000000",
		"exa":        m + role + "exa000000000",
		"deepgram":   m + role + "deepgram0000000",
		"elevenlabs": m + role + "eleven00000000",
	}
}

// collector is an in-process OTLP/HTTP endpoint that keeps every export.
type collector struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (c *collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	c.mu.Lock()
	c.buf.Write(b)
	c.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

// assertNoCanaryAnyEncoding scans data for the canary marker, and for every
// canary key in base64 and URL encoding.
func assertNoCanaryAnyEncoding(tb testing.TB, where string, data []byte, keys []string) {
	tb.Helper()
	testkit.AssertNoCanary(tb, where, data)
	for _, k := range keys {
		for _, enc := range []string{base64.StdEncoding.EncodeToString([]byte(k)), base64.RawURLEncoding.EncodeToString([]byte(k)), url.QueryEscape(k)} {
			if len(enc) > 12 && bytes.Contains(data, []byte(enc[4:len(enc)-4])) {
				tb.Errorf("a canary key leaked, encoded, in %s", where)
			}
		}
	}
}

// TestCanarySuite plants a canary key for every provider as a tenant key, a
// platform key and a per-request key, drives the management API, the CLI,
// every gateway route and the error paths (rejected keys, upstream 401, 429
// and 500, cancelled clients, oversized and malformed bodies), and then
// scans every byte keygate produced: debug logs, every response body and
// header, /metrics, exported traces, the audit trail, the usage report, the
// CLI's output and the database files. No canary may appear, in clear,
// base64 or URL encoding.
func TestCanarySuite(t *testing.T) {
	t.Run("SQLite", func(t *testing.T) { canarySuite(t, nil, nil) })
	t.Run("PostgreSQL", func(t *testing.T) {
		pgURL, schema := testkit.PostgresSchema(t)
		sep := "?"
		if strings.Contains(pgURL, "?") {
			sep = "&"
		}
		canarySuite(t, []string{"--database-url", pgURL + sep + "search_path=" + schema}, func() []byte {
			out, err := exec.Command("pg_dump", "--schema="+schema, "--data-only", pgURL).Output()
			if err != nil {
				t.Fatalf("pg_dump: %v", err)
			}
			if len(out) < 1000 {
				t.Fatalf("pg_dump wrote only %d bytes: the scan would prove nothing", len(out))
			}
			return out
		})
	})
}

// canarySuite runs the suite on the storage args select; dump, if set,
// returns the database's contents to scan as well.
func canarySuite(t *testing.T, storage []string, dump func() []byte) {
	fake := fakeprovider.Start(t)
	col := &collector{}
	otlp := httptest.NewServer(col)
	defer otlp.Close()
	env := fakeProviderEnv(fake)
	env["KEYGATE_OTLP_ENDPOINT"] = otlp.URL
	dir := t.TempDir()
	// The audit checkpoint file is in dir, which the canary scan reads.
	// Unpriced models refused: a key pasted as the model of a platform-paid
	// call is named (redacted) in the model_unpriced refusal.
	s := MustServe(t, dir, env, append([]string{"--log-level", "debug", "--unpriced-models", "refuse", "--audit-checkpoint-file", filepath.Join(dir, "audit-checkpoint.json")}, storage...)...)
	rec := &recorder{}
	hc := &http.Client{Transport: rec}
	ctx := context.Background()
	c, _ := client.New(s.URL, keygate.NewSecret(s.Token), client.WithHTTPClient(hc))
	var cliOut bytes.Buffer
	tenantKeys, platformKeys, requestKeys := canaryKeys("t"), canaryKeys("p"), canaryKeys("r")
	var all []string
	for _, m := range []map[string]string{tenantKeys, platformKeys, requestKeys} {
		for _, k := range m {
			all = append(all, k)
		}
	}

	if r := cliRun(t, s, s.Token, "", &cliOut, "tenant", "create", "acme"); r.exit != 0 {
		t.Fatalf("tenant create: %+v", r)
	}
	if _, err := c.CreateTenant(ctx, client.CreateTenantParams{Name: "requester"}); err != nil {
		t.Fatal(err)
	}
	for p, k := range tenantKeys {
		if r := cliRun(t, s, s.Token, k, &cliOut, "key", "set", "--tenant", "acme", "--provider", p); r.exit != 0 {
			t.Fatalf("key set %s: %+v", p, r)
		}
		if r := cliRun(t, s, s.Token, k, &cliOut, "key", "test", "--tenant", "acme", "--provider", p); r.exit != 0 && r.exit != 1 && r.exit != 6 {
			t.Fatalf("key test %s: %+v", p, r)
		}
	}
	for p, k := range platformKeys {
		if _, err := c.PutKey(ctx, "platform", p, keygate.NewSecret(k)); err != nil {
			t.Fatalf("platform key %s: %v", p, err)
		}
	}
	// A stored key that does not decrypt: its answer and log line.
	canaryUnreadableKey(t, s, c, hc, dir, storage, tenantKeys["openai"])
	// Rejected inputs that carry a canary.
	jsonCall(t, s, "PUT", "/api/v1/tenants/acme/keys/openai", `{"key":"`+tenantKeys["openai"]+` with space"}`, nil)
	jsonCall(t, s, "PUT", "/api/v1/tenants/acme/keys/anthropic", `{"key":"`+tenantKeys["openai"]+`"}`, nil)
	jsonCall(t, s, "PUT", "/api/v1/tenants/acme/keys/openai", `{"key":"`+tenantKeys["openai"]+`","x":1}`, nil)
	jsonCall(t, s, "POST", "/api/v1/tenants/acme/keys:test", `{"keys":{"openai":"`+tenantKeys["openai"]+`"}}`, nil)
	// A key typed where a name, a field or a path segment goes: refused
	// without being repeated, and logged with the segment redacted.
	ck, pk := tenantKeys["openai"], url.PathEscape(tenantKeys["openai"])
	for _, rq := range []struct{ method, path, body string }{
		{"GET", "/api/v1/tenants/" + pk, ""},
		{"PUT", "/api/v1/tenants/" + pk + "/keys/openai", `{"key":"x"}`},
		{"PUT", "/api/v1/tenants/acme/keys/" + pk, `{"key":"x"}`},
		{"POST", "/api/v1/tenants/acme/keys/" + pk, ""},
		{"GET", "/api/v1/" + pk, ""},
		{"DELETE", "/api/v1/tenants/acme/tokens/" + pk, ""},
		{"DELETE", "/api/v1/admin-tokens/" + pk, ""},
		{"PUT", "/api/v1/tenants/acme/keys/openai", `{"` + ck + `":"x"}`},
		{"PUT", "/api/v1/tenants/acme/policy", `{"providers":{"` + ck + `":{}}}`},
		{"PUT", "/api/v1/tenants/acme/limits", `{"limits":[{"provider":"` + ck + `","rpm":1}]}`},
		{"PUT", "/api/v1/tenants/acme/budget", `{"daily_usd":"` + ck + `"}`},
		{"GET", "/api/v1/audit?tenant=" + url.QueryEscape(ck), ""},
		{"GET", "/api/v1/tenants/acme/usage?user=" + url.QueryEscape(ck), ""},
		{"PUT", "/api/v1/tenants/acme/budget", `{"per_user_daily_usd":"` + ck + `"}`},
		{"GET", "/api/tenants/acme/" + pk + "/x", ""},
	} {
		if st := jsonCall(t, s, rq.method, rq.path, rq.body, nil); st < 400 {
			t.Errorf("%s %s with a key in it: %d, want it refused", rq.method, rq.path, st)
		}
	}
	if r := cliRun(t, s, s.Token, "", &cliOut, "key", "set", "--tenant", "acme", "--provider", "openai", tenantKeys["openai"]); r.exit == 0 {
		t.Fatal("a key in argv was accepted")
	}

	tokA, err := c.CreateGatewayToken(ctx, "acme", "app")
	if err != nil {
		t.Fatal(err)
	}
	tokR, err := c.CreateGatewayToken(ctx, "requester", "app")
	if err != nil {
		t.Fatal(err)
	}
	jsonCall(t, s, "PUT", "/api/v1/tenants/requester/policy", `{"default":{"allow_request_keys":true}}`, nil)

	call := func(tok, method, path, body string, hdr map[string]string) {
		req, _ := http.NewRequest(method, s.URL+path, strings.NewReader(body))
		if tok != "" { // "": the token travels elsewhere (?key=)
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := hc.Do(req)
		if err == nil {
			resp.Body.Close()
		}
	}
	llm := map[string]string{"openai": "gpt-4o", "anthropic": "claude-sonnet-4-5", "google": "gemini-2.0-flash",
		"mistral": "mistral-small-latest", "openrouter": "openrouter/meta/llama", "groq": "groq/llama-3.3"}
	for p, model := range llm {
		body := `{"model":"` + model + `","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`
		call(tokA.Token.Reveal(), "POST", "/v1/chat/completions", body, nil)
		call(tokA.Token.Reveal(), "POST", "/v1/chat/completions", strings.Replace(body, `"max_tokens":5`, `"stream":true`, 1), nil)
		call(tokR.Token.Reveal(), "POST", "/v1/chat/completions", body, map[string]string{"X-Provider-Key": requestKeys[p]})
		call(tokR.Token.Reveal(), "POST", "/v1/chat/completions", body, nil) // the platform's key
		call(tokA.Token.Reveal(), "POST", "/v1/chat/completions", body, map[string]string{fakeprovider.FaultHeader: "status=429,retry_after=2"})
		call(tokA.Token.Reveal(), "POST", "/v1/chat/completions", body, map[string]string{fakeprovider.FaultHeader: "status=500"})
	}
	// Providers that reflect the key they received, in clear, base64 and
	// URL-encoded, in headers, a trailer, errors, streams cut inside the
	// key and model lists: the tenant's, the platform's and the request's
	// key are all scrubbed before anything reaches the caller.
	for p, model := range llm {
		stream := `{"model":"` + model + `","stream":true,"messages":[{"role":"user","content":"hi"}]}`
		echo := map[string]string{fakeprovider.EchoHeader: "header,body"}
		call(tokA.Token.Reveal(), "POST", "/v1/chat/completions", stream, echo)
		call(tokR.Token.Reveal(), "POST", "/v1/chat/completions", stream, echo) // the platform's key
		call(tokR.Token.Reveal(), "POST", "/v1/chat/completions", stream, map[string]string{fakeprovider.EchoHeader: "all", "X-Provider-Key": requestKeys[p]})
		call(tokA.Token.Reveal(), "POST", "/v1/chat/completions", stream, map[string]string{fakeprovider.EchoHeader: "error"})
	}
	call(tokA.Token.Reveal(), "POST", "/v1/messages", `{"model":"claude-sonnet-4-5","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`, map[string]string{fakeprovider.EchoHeader: "header,body"})
	call(tokA.Token.Reveal(), "POST", "/exa/search", `{"query":"x"}`, map[string]string{fakeprovider.EchoHeader: "header,body"})
	call(tokA.Token.Reveal(), "GET", "/deepgram/v1/projects", "", map[string]string{fakeprovider.EchoHeader: "error"})
	fake.SetEcho("", fakeprovider.Echo{Body: true})
	call(tokA.Token.Reveal(), "GET", "/v1/models", "", nil)
	call(tokR.Token.Reveal(), "GET", "/v1/models", "", nil) // the platform's keys
	jsonCall(t, s, "POST", "/api/v1/tenants/acme/keys:test", `{"keys":{"openai":"`+tenantKeys["openai"]+`"}}`, nil)
	if r := cliRun(t, s, s.Token, platformKeys["groq"], &cliOut, "key", "test", "--tenant", "acme", "--provider", "groq"); r.exit != 0 && r.exit != 1 && r.exit != 6 {
		t.Fatalf("key test with an echoing provider: %+v", r)
	}
	fake.SetEcho("", fakeprovider.Echo{})
	call(tokA.Token.Reveal(), "POST", "/v1/messages", `{"model":"claude-sonnet-4-5","max_tokens":5,"stream":true,"messages":[{"role":"user","content":"hi"}]}`, nil)
	call(tokA.Token.Reveal(), "POST", "/v1/embeddings", `{"model":"text-embedding-3-small","input":"x"}`, nil)
	call(tokA.Token.Reveal(), "POST", "/v1/responses", `{"model":"gpt-4o","input":"x"}`, nil)
	call(tokA.Token.Reveal(), "GET", "/v1/models", "", nil)
	call(tokA.Token.Reveal(), "POST", "/exa/search", `{"query":"x"}`, nil)
	call(tokA.Token.Reveal(), "GET", "/deepgram/v1/projects", "", nil)
	call(tokA.Token.Reveal(), "GET", "/elevenlabs/v1/models", "", nil)
	call("", "GET", "/google/v1beta/models?key="+url.QueryEscape(tokA.Token.Reveal()), "", nil)
	call(tokA.Token.Reveal(), "GET", "/google/v1beta/models?key="+url.QueryEscape(tokA.Token.Reveal()), "", nil)             // two credentials: 400
	call(tokA.Token.Reveal(), "POST", "/v1/chat/completions", `{"model":"gpt-4o","Model":"gpt-4o-mini","messages":[]}`, nil) // two models: 400
	call(tokA.Token.Reveal(), "POST", "/v1/chat/completions", `{"model":`, nil)
	call(tokA.Token.Reveal(), "POST", "/v1/embeddings", `{"model":"text-embedding-3-small","input":"`+strings.Repeat("x", 33<<20)+`"}`, nil)
	call(tenantKeys["openai"], "POST", "/v1/chat/completions", `{"model":"gpt-4o"}`, nil) // a provider key sent as the token
	// A key pasted as the model or into a gateway path: never logged, stored in the ledger or returned by /usage.
	// (The fake provider answers with the model it was sent, the caller's
	// own input: those answers are not scanned, keygate's log, ledger and
	// /usage are.)
	call(tokA.Token.Reveal(), "POST", "/v1/chat/completions", `{"model":"`+ck+`","messages":[{"role":"user","content":"hi"}]}`, nil)
	call(tokR.Token.Reveal(), "POST", "/v1/chat/completions", `{"model":"`+ck+`","messages":[{"role":"user","content":"hi"}]}`, nil) // platform-paid: model_unpriced
	for _, rq := range []struct{ path, body string }{
		{"/openai/v1/chat/completions", `{"model":"` + ck + `","messages":[{"role":"user","content":"hi"}]}`},
		{"/v1/chat/completions", `{"model":"openai/` + ck + `","messages":[{"role":"user","content":"hi"}]}`},
		{"/openai/v1/models/" + pk, ""},
	} {
		method := "POST"
		if rq.body == "" {
			method = "GET"
		}
		req, _ := http.NewRequest(method, s.URL+rq.path, strings.NewReader(rq.body))
		req.Header.Set("Authorization", "Bearer "+tokA.Token.Reveal())
		if resp, err := http.DefaultClient.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
	// A key sent as the end user (OpenAI's user, Anthropic's
	// metadata.user_id, the X-Keygate-User header, on every route kind):
	// refused with 400, so never logged, in the ledger or in /usage by
	// user; a plain end user is recorded beside them.
	for _, rq := range []struct {
		path, body, header string
	}{
		{"/v1/chat/completions", `{"model":"gpt-4o","user":"` + ck + `","messages":[{"role":"user","content":"hi"}]}`, ""},
		{"/v1/embeddings", `{"model":"text-embedding-3-small","input":"x","user":"` + tenantKeys["anthropic"] + `"}`, ""},
		{"/v1/messages", `{"model":"claude-sonnet-4-5","max_tokens":5,"metadata":{"user_id":"` + ck + `"},"messages":[{"role":"user","content":"hi"}]}`, ""},
		{"/v1/chat/completions", `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`, ck},
		{"/openai/v1/chat/completions", `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`, tenantKeys["openai"]},
		{"/exa/search", `{"query":"x"}`, platformKeys["exa"]},
	} {
		req, _ := http.NewRequest("POST", s.URL+rq.path, strings.NewReader(rq.body))
		req.Header.Set("Authorization", "Bearer "+tokA.Token.Reveal())
		if rq.header != "" {
			req.Header.Set("X-Keygate-User", rq.header)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Errorf("%s with a key as the end user: %d %s, want 400", rq.path, resp.StatusCode, b)
		}
	}
	call(tokA.Token.Reveal(), "POST", "/v1/chat/completions", `{"model":"gpt-4o","user":"user_8812","messages":[{"role":"user","content":"hi"}]}`, nil)
	// A scoped token: keys pasted into a scope are refused without being
	// repeated or stored; calls outside the scope (a key as the model
	// included) are refused with 403 naming the rule, never the model.
	daily := "0.01"
	tokS, err := c.CreateGatewayTokenWith(ctx, "acme", client.CreateGatewayTokenParams{Name: "scoped",
		Scope: &client.TokenScope{Providers: []string{"openai"}, Models: []string{"gpt-4o*"}, DailyUSD: &daily, RPM: 100}})
	if err != nil {
		t.Fatal(err)
	}
	for _, body := range []string{`{"models":["` + ck + `"]}`, `{"models":["openai/` + ck + `*"]}`, `{"providers":["` + ck + `"]}`} {
		if st := jsonCall(t, s, "PUT", "/api/v1/tenants/acme/tokens/"+tokS.ID+"/scope", body, nil); st < 400 {
			t.Errorf("a scope with a key in it: %d, want it refused", st)
		}
	}
	if _, err := c.CreateGatewayTokenWith(ctx, "acme", client.CreateGatewayTokenParams{Name: "keyed", Scope: &client.TokenScope{Models: []string{ck}}}); err == nil {
		t.Error("a token created with a key in its scope")
	}
	call(tokS.Token.Reveal(), "POST", "/v1/chat/completions", `{"model":"gpt-4o","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`, nil)
	call(tokS.Token.Reveal(), "POST", "/v1/chat/completions", `{"model":"openai/`+ck+`","messages":[{"role":"user","content":"hi"}]}`, nil)
	call(tokS.Token.Reveal(), "POST", "/v1/messages", `{"model":"claude-sonnet-4-5","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`, nil)
	call(tokS.Token.Reveal(), "POST", "/exa/search", `{"query":"x"}`, nil)
	call(tokS.Token.Reveal(), "GET", "/v1/models", "", nil)
	for _, args := range [][]string{
		{"token", "scope", "--tenant", "acme", tokS.ID, "--providers", "openai,anthropic", "--models", "gpt-4o*,claude-*", "--daily-usd", "0.02"},
		{"token", "list", "--tenant", "acme", "--json"}, {"usage", "--tenant", "acme", "--group-by", "token,provider"},
	} {
		if r := cliRun(t, s, s.Token, "", &cliOut, args...); r.exit != 0 {
			t.Errorf("keygate %s: exit %d: %s", strings.Join(args, " "), r.exit, r.stderr)
		}
	}
	call(tokS.Token.Reveal(), "POST", "/v1/messages", `{"model":"claude-sonnet-4-5","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`, nil)
	// A cancelled stream.
	cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	req, _ := http.NewRequestWithContext(cctx, "POST", s.URL+"/v1/chat/completions", strings.NewReader(`{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"a b c"}]}`))
	req.Header.Set("Authorization", "Bearer "+tokA.Token.Reveal())
	req.Header.Set(fakeprovider.FaultHeader, "stall_after=2")
	if resp, err := http.DefaultClient.Do(req); err == nil {
		_, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	cancel()
	// The provider rejects the tenant's key: 401 reaches the caller, health turns red.
	fake.Revoke(tenantKeys["openai"])
	call(tokA.Token.Reveal(), "POST", "/v1/chat/completions", `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`, nil)
	// Rotate, roll back, clear.
	if r := cliRun(t, s, s.Token, platformKeys["openai"], &cliOut, "key", "set", "--tenant", "acme", "--provider", "openai"); r.exit != 0 {
		t.Fatalf("rotate: %+v", r)
	}
	cliRun(t, s, s.Token, "", &cliOut, "key", "rollback", "--tenant", "acme", "--provider", "openai")
	cliRun(t, s, s.Token, "", &cliOut, "key", "rm", "--tenant", "acme", "--provider", "mistral")
	// Every CLI command that reads or changes something, in text and JSON.
	for _, args := range [][]string{
		{"whoami"}, {"tenant", "list"}, {"tenant", "get", "acme", "--json"}, {"tenant", "update", "acme", "--byok=true"},
		{"key", "list", "--tenant", "acme"}, {"key", "list", "--platform", "--json"}, {"key", "get", "--tenant", "acme", "--provider", "anthropic"},
		{"key", "versions", "--tenant", "acme", "--provider", "openai"}, {"key", "versions", "--platform", "--provider", "openai", "--json"},
		{"token", "list", "--tenant", "acme"}, {"token", "create", "--tenant", "acme", "--name", "ci"}, {"token", "revoke", "--tenant", "acme", tokA.ID},
		{"policy", "get", "--tenant", "requester"}, {"policy", "set", "--tenant", "acme", "--mode", "tenant_only"},
		{"budget", "set", "--tenant", "acme", "--daily-usd", "5"}, {"budget", "get", "--tenant", "acme", "--json"},
		{"limits", "set", "--tenant", "acme", "--rpm", "100"}, {"limits", "get", "--tenant", "acme"},
		{"admin-token", "create", "--name", "ops", "--role", "admin", "--tenant", "acme"}, {"admin-token", "list"},
		{"audit", "--tenant", "acme"}, {"audit", "export", "--format", "jsonl"}, {"audit", "verify"},
		{"health", "--tenant", "acme"}, {"health", "--all"}, {"usage", "--tenant", "acme"}, {"usage", "--all", "--json"},
		{"master-key", "status"}, {"master-key", "rotate"}, {"prices", "list", "--provider", "openai"}, {"prices", "list", "--json"},
		{"whoami", "--json"}, {"version", "--json"}, {"completion", "bash"}, {"healthcheck", "--url", s.URL + "/readyz"},
	} {
		if r := cliRun(t, s, s.Token, "", &cliOut, args...); r.exit != 0 {
			t.Errorf("keygate %s: exit %d: %s", strings.Join(args, " "), r.exit, r.stderr)
		}
	}
	// A checkpoint printed, kept and checked, as an operator would.
	cpFile := filepath.Join(dir, "printed-checkpoint.json")
	if r := cliRun(t, s, s.Token, "", &cliOut, "audit", "checkpoint"); r.exit != 0 || os.WriteFile(cpFile, []byte(r.stdout), 0o600) != nil {
		t.Errorf("keygate audit checkpoint: exit %d: %s", r.exit, r.stderr)
	}
	if r := cliRun(t, s, s.Token, "", &cliOut, "audit", "verify", "--checkpoint", cpFile); r.exit != 0 {
		t.Errorf("keygate audit verify --checkpoint: exit %d: %s", r.exit, r.stderr)
	}
	var scans bytes.Buffer
	for _, p := range []string{"/metrics", "/api/v1/audit?limit=1000", "/api/v1/audit/checkpoint", "/api/v1/usage?group_by=tenant,provider,model,key_source,user", "/api/v1/health", "/api/v1/tenants/acme/keys", "/api/v1/platform/keys"} {
		req, _ := http.NewRequest("GET", s.URL+p, nil)
		req.Header.Set("Authorization", "Bearer "+s.Token)
		if resp, err := hc.Do(req); err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			fmt.Fprintf(&scans, "%s\n%s\n", p, b)
		}
	}
	// The canaries did travel: the provider received each role's keys.
	seen := map[string]bool{}
	for _, r := range fake.Requests() {
		seen[r.Key.Reveal()] = true
	}
	for _, k := range []struct{ role, provider, key string }{{"tenant", "openai", tenantKeys["openai"]}, {"tenant", "anthropic", tenantKeys["anthropic"]},
		{"tenant", "exa", tenantKeys["exa"]}, {"platform", "openai", platformKeys["openai"]}, {"request", "groq", requestKeys["groq"]}, {"request", "google", requestKeys["google"]}} {
		if !seen[k.key] {
			t.Errorf("the %s %s canary never reached the provider: the scan would prove less than it claims", k.role, k.provider)
		}
	}
	// The providers did echo the keys: the scan would prove less than it
	// claims if nothing had been scrubbed.
	for _, where := range []string{`where="header"`, `where="body"`} {
		if !bytes.Contains(scans.Bytes(), []byte(where)) {
			t.Errorf("keygate_credential_scrubs_total has no %s series: the providers' echoes never came", where)
		}
	}
	// Canary keys presented as admin and gateway tokens until the address
	// is throttled (past the default 20 failures): the failures, the
	// refusals, the auth.throttled audit event, its log line and the
	// metrics must name the address, never the presented token. Last, as
	// the address stays throttled for the rest of the window.
	for i := range 25 {
		p := []string{"openai", "anthropic", "groq"}[i%3]
		call(tenantKeys[p], "GET", "/api/v1/whoami", "", nil)
		call(platformKeys[p], "POST", "/v1/chat/completions", `{"model":"gpt-4o"}`, nil)
	}
	if resp, err := hc.Get(s.URL + "/metrics"); err == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !regexp.MustCompile(`keygate_auth_throttled_total\{surface="api"\} [1-9]`).Match(b) {
			t.Error("the canary tokens were not throttled: the scan of the throttle's outputs would prove nothing")
		}
		fmt.Fprintf(&scans, "/metrics after throttling\n%s\n", b)
	}
	s.Stop(t) // flushes traces and the usage ledger
	if col.buf.Len() == 0 {
		t.Error("no traces were exported: the trace scan would prove nothing")
	}
	assertNoCanaryAnyEncoding(t, "server logs (debug)", s.Logs.Bytes(), all)
	assertNoCanaryAnyEncoding(t, "API and gateway responses", rec.bodies.Bytes(), all)
	assertNoCanaryAnyEncoding(t, "metrics, audit, usage, health", scans.Bytes(), all)
	assertNoCanaryAnyEncoding(t, "exported traces", col.buf.Bytes(), all)
	assertNoCanaryAnyEncoding(t, "CLI output", cliOut.Bytes(), all)
	testkit.AssertNoCanaryInDir(t, dir)
	if dump != nil {
		assertNoCanaryAnyEncoding(t, "the PostgreSQL dump", dump(), all)
	}
	t.Logf("scanned %d bytes of logs, %d of responses, %d of metrics/audit/usage, %d of traces, %d of CLI output",
		len(s.Logs.Bytes()), rec.bodies.Len(), scans.Len(), col.buf.Len(), cliOut.Len())
}

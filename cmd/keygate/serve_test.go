// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/client"
	"github.com/keygate/keygate/internal/fakeprovider"
	"github.com/keygate/keygate/internal/testkit"
)

// syncBuffer is an io.Writer safe for the server's concurrent log writes.
type syncBuffer struct {
	mu      sync.Mutex
	b       bytes.Buffer
	discard bool
	wrote   chan struct{} // if set, signalled (without blocking) after each write
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.discard {
		return len(p), nil
	}
	n, err := s.b.Write(p)
	if s.wrote != nil {
		select {
		case s.wrote <- struct{}{}:
		default: // a signal is already pending
		}
	}
	return n, err
}

// Discard drops everything written from now on (a long test's logs would
// otherwise be measured as the server's memory).
func (s *syncBuffer) Discard() {
	s.mu.Lock()
	s.discard = true
	s.b.Reset()
	s.mu.Unlock()
}

func (s *syncBuffer) Bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]byte(nil), s.b.Bytes()...)
}

// testServer is a `keygate serve` started through run() on 127.0.0.1:0.
type testServer struct {
	URL     string
	Token   string
	DataDir string
	Logs    *syncBuffer
	stop    context.CancelFunc
	done    chan error
}

// fakeProviderEnv returns the KEYGATE_<PROVIDER>_BASE_URL settings that point
// keygate at fake, as an environment for MustServe.
func fakeProviderEnv(fake *fakeprovider.Server) map[string]string {
	env := map[string]string{}
	for _, kv := range fake.Env() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	return env
}

// MustServe starts `keygate serve` with args (plus --addr 127.0.0.1:0) and
// env, and waits until it listens. It reads the address from the
// "listening" log line and the generated admin token from its file in the
// data directory.
func MustServe(tb testing.TB, dataDir string, env map[string]string, args ...string) *testServer {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &testServer{DataDir: dataDir, Logs: &syncBuffer{wrote: make(chan struct{}, 1)}, stop: cancel, done: make(chan error, 1)}
	argv := append([]string{"serve", "--addr", "127.0.0.1:0", "--data-dir", dataDir}, args...)
	getenv := func(k string) string {
		if v, ok := env[k]; ok || k != "KEYGATE_LOG_FLUSH_INTERVAL" {
			return v
		}
		// Tests read and scan the log while the server runs: every line
		// must be there when the call that wrote it has returned. The
		// buffered log has its own test (TestServeBufferedLog).
		return "0"
	}
	go func() { s.done <- run(ctx, argv, getenv, strings.NewReader(""), io.Discard, s.Logs) }()
	// Read the log each time it grows until it says where the server
	// listens; the timeout only guards against a hang.
	timeout := time.After(30 * time.Second)
	for {
		sc := bufio.NewScanner(bytes.NewReader(s.Logs.Bytes()))
		for sc.Scan() {
			line := sc.Text()
			var rec struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "listening" {
				s.URL = "http://" + rec.Addr
			}
		}
		if s.URL != "" {
			// The generated first admin token is in its file, never in
			// the log.
			if b, err := os.ReadFile(filepath.Join(dataDir, bootstrapTokenFile)); err == nil {
				s.Token = strings.TrimSpace(string(b))
			}
			tb.Cleanup(func() {
				s.Stop(tb)
				if tb.Failed() {
					s.logTail(tb)
				}
			})
			return s
		}
		select {
		case err := <-s.done:
			tb.Fatalf("keygate serve exited early: %v\nlogs:\n%s", err, s.Logs.Bytes())
		case <-s.Logs.wrote:
		case <-timeout:
			cancel()
			tb.Fatalf("keygate serve did not start listening\nlogs:\n%s", s.Logs.Bytes())
		}
	}
}

// MustTenant creates the tenant name through s's management API and
// returns the platform-admin client it used.
func (s *testServer) MustTenant(tb testing.TB, name string) *client.Client {
	tb.Helper()
	c, err := client.New(s.URL, keygate.NewSecret(s.Token))
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := c.CreateTenant(context.Background(), client.CreateTenantParams{Name: name}); err != nil {
		tb.Fatalf("create tenant %s: %v", name, err)
	}
	return c
}

// logTail prints the end of the server's log, for a failed test.
func (s *testServer) logTail(tb testing.TB) {
	tb.Helper()
	const most = 16 << 10
	b := s.Logs.Bytes()
	if len(b) > most {
		b = b[len(b)-most:]
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	tb.Logf("the last %d bytes of the server's log (%s):\n%s", len(b), s.URL, b)
}

// Stop cancels the server's context (as SIGTERM does) and waits for run to
// return; it fails tb if run returned an error.
func (s *testServer) Stop(tb testing.TB) {
	tb.Helper()
	if s.stop == nil {
		return
	}
	s.stop()
	s.stop = nil
	select {
	case err := <-s.done:
		if err != nil {
			tb.Errorf("keygate serve: %v", err)
		}
	case <-time.After(30 * time.Second):
		tb.Error("keygate serve did not stop")
	}
}

// recorder keeps every response body a test client received, for the
// canary scan.
type recorder struct {
	mu     sync.Mutex
	bodies bytes.Buffer
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.bodies.Write(b)
	for k, v := range resp.Header {
		fmt.Fprintf(&r.bodies, "%s: %s\n", k, v)
	}
	for k, v := range resp.Trailer { // filled in once the body was read
		fmt.Fprintf(&r.bodies, "trailer %s: %s\n", k, v)
	}
	r.mu.Unlock()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return resp, nil
}

// cliRun runs a CLI command against s with token and stdin, and returns
// exit code, stdout and stderr; all output is also appended to out.
func cliRun(tb testing.TB, s *testServer, token, stdin string, out *bytes.Buffer, args ...string) result {
	tb.Helper()
	r := runEnv(tb, map[string]string{"KEYGATE_ADDR": s.URL, "KEYGATE_TOKEN": token}, stdin, args...)
	out.WriteString(r.stdout)
	out.WriteString(r.stderr)
	return r
}

func TestServeEndToEndSQLite(t *testing.T) {
	testEndToEnd(t, nil)
}

func TestServeEndToEndPostgres(t *testing.T) {
	url, schema := testkit.PostgresSchema(t)
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	testEndToEnd(t, []string{"--database-url", url + sep + "search_path=" + schema})
}

// testEndToEnd drives the foundation's user story through the real binary's
// run(): tenants, keys set and rotated from the CLI's stdin, audit, bad
// input, authorization, master-key rotation, restart; and proves that a
// planted canary key appears in no response, log line, CLI output or
// database file.
func testEndToEnd(t *testing.T, args []string) {
	dir := t.TempDir()
	args = append([]string{"--log-level", "debug"}, args...)
	s := MustServe(t, dir, nil, args...)
	if s.Token == "" {
		t.Fatalf("no admin token printed at first start:\n%s", s.Logs.Bytes())
	}
	if fi, err := os.Stat(filepath.Join(dir, "master.key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("master key file: %v, mode %v", err, fi.Mode())
	}
	rec := &recorder{}
	hc := &http.Client{Transport: rec}
	c, err := client.New(s.URL, keygate.NewSecret(s.Token), client.WithHTTPClient(hc))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var cliOut bytes.Buffer

	// Health.
	for _, p := range []string{"/healthz", "/readyz"} {
		resp, err := hc.Get(s.URL + p)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("GET %s: %v %v", p, err, resp)
		}
		resp.Body.Close()
	}

	// A tenant, and its key set from stdin, then rotated.
	r := cliRun(t, s, s.Token, "", &cliOut, "tenant", "create", "acme")
	if r.exit != 0 || !strings.HasPrefix(strings.TrimSpace(r.stdout), "tn_") {
		t.Fatalf("tenant create: %+v", r)
	}
	tenantID := strings.TrimSpace(r.stdout)
	canary1 := testkit.CanaryOpenAIKey
	canary2 := "sk-" + testkit.CanaryMarker + "rotated000000000000W9yZ"
	r = cliRun(t, s, s.Token, canary1+"\n", &cliOut, "key", "set", "--tenant", "acme", "--provider", "openai")
	if r.exit != 0 {
		t.Fatalf("key set: %+v", r)
	}
	ch, err := c.PutKey(ctx, "acme", "openai", keygate.NewSecret(canary2))
	if err != nil || !ch.Rotated || ch.Key.Version != 2 || ch.Key.Hint != "...W9yZ" {
		t.Fatalf("rotate: %+v, %v", ch, err)
	}
	r = cliRun(t, s, s.Token, "", &cliOut, "key", "list", "--tenant", tenantID, "--json")
	var keys struct{ Keys []client.Key }
	if err := json.Unmarshal([]byte(r.stdout), &keys); err != nil && json.Unmarshal([]byte(r.stdout), &keys.Keys) != nil {
		t.Fatalf("key list --json: %v\n%s", err, r.stdout)
	}
	if len(keys.Keys) != 1 || keys.Keys[0].Version != 2 || keys.Keys[0].Hint != "...W9yZ" || !strings.HasPrefix(keys.Keys[0].Fingerprint, "fp_") {
		t.Fatalf("key list: %+v", keys.Keys)
	}

	// Platform key.
	if _, err := c.PutKey(ctx, string(keygate.PlatformScope), "anthropic", keygate.NewSecret("sk-ant-"+testkit.CanaryMarker+"platformkey0000")); err != nil {
		t.Fatalf("platform key: %v", err)
	}

	// Bad input: each a 4xx with a stable code, and nothing written.
	before, err := c.VerifyAudit(ctx)
	if err != nil || !before.OK {
		t.Fatalf("verify: %+v %v", before, err)
	}
	huge := `{"key":"` + strings.Repeat("a", 2<<20) + `"}`
	bad := []struct {
		name, method, path, body string
		status                   int
		code                     string
	}{
		{"UnknownProvider", "PUT", "/api/v1/tenants/acme/keys/nope", `{"key":"sk-abcdefghijklmnopqrstuvwxyz012345"}`, 400, "unknown_provider"},
		{"EmptyKey", "PUT", "/api/v1/tenants/acme/keys/openai", `{"key":""}`, 422, "invalid_key_format"},
		{"MissingKey", "PUT", "/api/v1/tenants/acme/keys/openai", `{}`, 422, "invalid_key_format"},
		{"KeyWithSpace", "PUT", "/api/v1/tenants/acme/keys/openai", `{"key":"sk-abcdefghij klmnopqrstuvwxyz012345"}`, 422, "invalid_key_format"},
		{"KeyWithNewline", "PUT", "/api/v1/tenants/acme/keys/openai", `{"key":"sk-abcdefghijklmnopqrstuvwxyz012345\n"}`, 422, "invalid_key_format"},
		{"WrongPrefix", "PUT", "/api/v1/tenants/acme/keys/anthropic", `{"key":"sk-abcdefghijklmnopqrstuvwxyz012345"}`, 422, "invalid_key_format"},
		{"Oversized", "PUT", "/api/v1/tenants/acme/keys/openai", huge, 413, "body_too_large"},
		{"MalformedJSON", "PUT", "/api/v1/tenants/acme/keys/openai", `{"key":`, 400, "invalid_json"},
		{"UnknownField", "PUT", "/api/v1/tenants/acme/keys/openai", `{"key":"sk-abcdefghijklmnopqrstuvwxyz012345","extra":1}`, 400, "invalid_json"},
		{"TrailingData", "PUT", "/api/v1/tenants/acme/keys/openai", `{"key":"sk-abcdefghijklmnopqrstuvwxyz012345"} {}`, 400, "invalid_json"},
		{"WrongType", "PUT", "/api/v1/tenants/acme/keys/openai", `{"key":42}`, 400, "invalid_json"},
		{"UnknownTenant", "PUT", "/api/v1/tenants/nobody/keys/openai", `{"key":"sk-abcdefghijklmnopqrstuvwxyz012345"}`, 404, "not_found"},
		{"BadTenantName", "POST", "/api/v1/tenants", `{"name":"Not Valid"}`, 400, "invalid_request"},
		{"DuplicateTenant", "POST", "/api/v1/tenants", `{"name":"acme"}`, 409, "conflict"},
		{"BadAuditLimit", "GET", "/api/v1/tenants/acme/audit?limit=0", ``, 400, "invalid_request"},
		{"BadAuditSince", "GET", "/api/v1/tenants/acme/audit?since=yesterday", ``, 400, "invalid_request"},
		{"UnknownEndpoint", "GET", "/api/v1/nope", ``, 404, "not_found"},
	}
	for _, tc := range bad {
		t.Run("BadInput/"+tc.name, func(t *testing.T) {
			status, code := rawCall(t, hc, s.URL, s.Token, tc.method, tc.path, tc.body)
			if status != tc.status || code != tc.code {
				t.Errorf("%s %s: %d %q, want %d %q", tc.method, tc.path, status, code, tc.status, tc.code)
			}
		})
	}
	after, err := c.VerifyAudit(ctx)
	if err != nil || !after.OK || after.HeadSeq != before.HeadSeq {
		t.Fatalf("bad input wrote audit rows: before %+v after %+v (%v)", before, after, err)
	}
	if k, err := c.GetKey(ctx, "acme", "openai"); err != nil || k.Version != 2 {
		t.Fatalf("bad input changed the key: %+v %v", k, err)
	}

	// Authentication and authorization.
	if status, code := rawCall(t, hc, s.URL, "", "GET", "/api/v1/tenants", ""); status != 401 || code != "unauthorized" {
		t.Errorf("no token: %d %s", status, code)
	}
	if status, code := rawCall(t, hc, s.URL, "kga_not_a_token", "GET", "/api/v1/tenants", ""); status != 401 || code != "unauthorized" {
		t.Errorf("bad token: %d %s", status, code)
	}
	if status, _ := rawCallHeader(t, hc, s.URL, "X-Admin-Key", s.Token, "GET", "/api/v1/tenants"); status != 200 {
		t.Errorf("X-Admin-Key: %d", status)
	}
	if _, err := c.CreateTenant(ctx, client.CreateTenantParams{Name: "globex"}); err != nil {
		t.Fatal(err)
	}
	member, err := c.CreateAdminToken(ctx, client.CreateAdminTokenParams{Name: "viewer", Role: "member", Tenant: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	admin, err := c.CreateAdminToken(ctx, client.CreateAdminTokenParams{Name: "ops", Role: "admin", Tenant: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	authz := []struct {
		name, token, method, path, body string
		status                          int
	}{
		{"MemberReadsKeys", member.Token.Reveal(), "GET", "/api/v1/tenants/acme/keys", "", 200},
		{"MemberCannotSet", member.Token.Reveal(), "PUT", "/api/v1/tenants/acme/keys/openai", `{"key":"sk-abcdefghijklmnopqrstuvwxyz012345"}`, 403},
		{"MemberCannotReadAudit", member.Token.Reveal(), "GET", "/api/v1/tenants/acme/audit", "", 403},
		{"AdminOtherTenant", admin.Token.Reveal(), "GET", "/api/v1/tenants/globex/keys", "", 403},
		{"AdminUnknownTenant", admin.Token.Reveal(), "GET", "/api/v1/tenants/nobody/keys", "", 403},
		{"AdminCannotGrantBYOK", admin.Token.Reveal(), "PATCH", "/api/v1/tenants/acme", `{"byok_enabled":false}`, 403},
		{"AdminCannotCreateTenant", admin.Token.Reveal(), "POST", "/api/v1/tenants", `{"name":"evil"}`, 403},
		{"AdminCannotSetPlatformKey", admin.Token.Reveal(), "PUT", "/api/v1/platform/keys/openai", `{"key":"sk-abcdefghijklmnopqrstuvwxyz012345"}`, 403},
		{"AdminCannotRotateMasterKey", admin.Token.Reveal(), "POST", "/api/v1/master-key/rotate", "", 403},
		{"AdminCannotMintPlatformAdmin", admin.Token.Reveal(), "POST", "/api/v1/admin-tokens", `{"name":"x","role":"platform_admin"}`, 403},
		{"AdminReadsAudit", admin.Token.Reveal(), "GET", "/api/v1/tenants/acme/audit", "", 200},
		{"AdminCannotReadPlatformAudit", admin.Token.Reveal(), "GET", "/api/v1/audit", "", 403},
	}
	for _, tc := range authz {
		t.Run("Authz/"+tc.name, func(t *testing.T) {
			if status, code := rawCall(t, hc, s.URL, tc.token, tc.method, tc.path, tc.body); status != tc.status {
				t.Errorf("%s %s: %d %s, want %d", tc.method, tc.path, status, code, tc.status)
			}
		})
	}
	r = cliRun(t, s, admin.Token.Reveal(), canary1, &cliOut, "key", "set", "--tenant", "acme", "--provider", "openai")
	if r.exit != 0 || !strings.Contains(r.stdout, "rotated") {
		t.Fatalf("tenant admin rotates: %+v", r)
	}

	// The audit trail: every change, by whom, with hints only.
	r = cliRun(t, s, s.Token, "", &cliOut, "audit", "--tenant", "acme", "--json")
	if r.exit != 0 {
		t.Fatalf("audit: %+v", r)
	}
	var page struct{ Events []client.AuditEvent }
	if err := json.Unmarshal([]byte(r.stdout), &page); err != nil && json.Unmarshal([]byte(r.stdout), &page.Events) != nil {
		t.Fatalf("audit --json: %v\n%s", err, r.stdout)
	}
	var actions []string
	tokens := 0
	for _, e := range page.Events {
		if e.Action == keygate.ActionTokenCreated {
			tokens++
			continue
		}
		actions = append(actions, e.Action)
	}
	if got, want := strings.Join(actions, " "), "key.rotated key.rotated key.set tenant.created"; got != want || tokens != 2 {
		t.Errorf("audit actions = %q and %d token.created, want %q and 2", got, tokens, want)
	}
	if page.Events[0].Actor.Name != "ops" {
		t.Errorf("last rotation actor = %+v, want the tenant admin token", page.Events[0].Actor)
	}

	// Master-key rotation re-wraps everything in the background.
	rot, err := c.RotateMasterKey(ctx)
	if err != nil || rot.Primary == rot.Previous {
		t.Fatalf("rotate master key: %+v %v", rot, err)
	}
	waitFor(t, "re-wrap", func() bool {
		st, err := c.MasterKeyStatus(ctx)
		return err == nil && st.PendingRewrap == 0 && st.Primary == rot.Primary
	})

	// Deleting a tenant deletes its keys; its audit rows stay.
	if err := c.DeleteTenant(ctx, "globex"); err != nil {
		t.Fatal(err)
	}
	r = cliRun(t, s, s.Token, "", &cliOut, "key", "rm", "--tenant", "acme", "--provider", "openai")
	if r.exit != 0 {
		t.Fatalf("key rm: %+v", r)
	}
	if _, err := c.GetKey(ctx, "acme", "openai"); keygate.ErrorCode(err) != keygate.CodeNotFound {
		t.Fatalf("key after rm: %v", err)
	}
	r = cliRun(t, s, s.Token, "", &cliOut, "audit", "verify")
	if r.exit != 0 || !strings.Contains(r.stdout, "ok") {
		t.Fatalf("audit verify: %+v", r)
	}

	// A restart opens the same data (the fingerprint secret and platform
	// key were re-wrapped under the new master key) and keeps the token.
	s.Stop(t)
	s2 := MustServe(t, dir, nil, args...)
	if s2.Token != s.Token || bytes.Contains(s2.Logs.Bytes(), []byte("token_file")) {
		t.Error("a second start made a new admin token")
	}
	c2, _ := client.New(s2.URL, keygate.NewSecret(s.Token), client.WithHTTPClient(hc))
	pk, err := c2.GetKey(ctx, string(keygate.PlatformScope), "anthropic")
	if err != nil || pk.Version != 1 {
		t.Fatalf("platform key after restart: %+v %v", pk, err)
	}
	ch, err = c2.PutKey(ctx, "acme", "openai", keygate.NewSecret(canary1))
	if err != nil || ch.Rotated || ch.Key.Version != 1 || ch.Key.Hint != "...Q7zX" {
		t.Fatalf("set after restart: %+v %v", ch, err)
	}
	s2.Stop(t)

	// The canary is nowhere.
	testkit.AssertNoCanary(t, "server logs", append(s.Logs.Bytes(), s2.Logs.Bytes()...))
	testkit.AssertNoCanary(t, "API responses", rec.bodies.Bytes())
	testkit.AssertNoCanary(t, "CLI output", cliOut.Bytes())
	testkit.AssertNoCanaryInDir(t, dir)
}

func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func rawCall(tb testing.TB, hc *http.Client, base, token, method, path, body string) (int, string) {
	tb.Helper()
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return do(tb, hc, req)
}

func rawCallHeader(tb testing.TB, hc *http.Client, base, header, token, method, path string) (int, string) {
	tb.Helper()
	req, err := http.NewRequest(method, base+path, nil)
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set(header, token)
	return do(tb, hc, req)
}

func do(tb testing.TB, hc *http.Client, req *http.Request) (int, string) {
	tb.Helper()
	resp, err := hc.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	var e struct {
		Error struct{ Code string }
	}
	_ = json.NewDecoder(resp.Body).Decode(&e)
	if resp.StatusCode < 400 {
		return resp.StatusCode, ""
	}
	if e.Error.Code == "" {
		tb.Errorf("%s %s: %d without an error code", req.Method, req.URL.Path, resp.StatusCode)
	}
	return resp.StatusCode, e.Error.Code
}

// TestServeAdminTokenFromEnv: KEYGATE_ADMIN_TOKEN becomes the first
// platform-admin token instead of a generated one, and nothing is printed.
func TestServeAdminTokenFromEnv(t *testing.T) {
	const preset = "kga_presetTokenForTestsOnly0123456789abcdefgh"
	s := MustServe(t, t.TempDir(), map[string]string{"KEYGATE_ADMIN_TOKEN": preset})
	if s.Token != "" || bytes.Contains(s.Logs.Bytes(), []byte(preset)) {
		t.Fatal("the preset admin token was printed or logged")
	}
	c, err := client.New(s.URL, keygate.NewSecret(preset))
	if err != nil {
		t.Fatal(err)
	}
	id, err := c.WhoAmI(context.Background())
	if err != nil || id.Role != "platform_admin" {
		t.Fatalf("whoami: %+v %v", id, err)
	}
}

// TestServeBadConfig: a configuration error is a usage error (exit 2) that
// names the field, and nothing is created.
func TestServeBadConfig(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	var stderr bytes.Buffer
	err := run(context.Background(), []string{"serve", "--data-dir", dir, "--log-level", "loud"}, func(string) string { return "" }, strings.NewReader(""), io.Discard, &stderr)
	if code := report(&stderr, err); code != exitUsage || !strings.Contains(stderr.String(), "log_level") {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("data directory created for a bad configuration: %v", err)
	}
}

// TestServeGateway runs the product's hot path through the real binary:
// an app using the official OpenAI SDK with a gateway token reaches the
// fake provider with the tenant's key, falls back to the platform key when
// the tenant has none, and never sees a key.
func TestServeGateway(t *testing.T) {
	fake := fakeprovider.Start(t)
	env := fakeProviderEnv(fake)
	s := MustServe(t, t.TempDir(), env)
	ctx := context.Background()
	c, err := client.New(s.URL, keygate.NewSecret(s.Token))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if r := cliRun(t, s, s.Token, "", &out, "tenant", "create", "acme"); r.exit != 0 {
		t.Fatalf("tenant create: %+v", r)
	}
	if r := cliRun(t, s, s.Token, testkit.CanaryOpenAIKey, &out, "key", "set", "--tenant", "acme", "--provider", "openai"); r.exit != 0 {
		t.Fatalf("key set: %+v", r)
	}
	platformKey := "sk-ant-" + testkit.CanaryMarker + "platform000000000000"
	if _, err := c.PutKey(ctx, "platform", "anthropic", keygate.NewSecret(platformKey)); err != nil {
		t.Fatal(err)
	}
	r := cliRun(t, s, s.Token, "", &out, "token", "create", "--tenant", "acme", "--name", "web")
	tok := strings.TrimSpace(r.stdout)
	if r.exit != 0 || !strings.HasPrefix(tok, "kg_") {
		t.Fatalf("token create: %+v", r)
	}

	oc := openai.NewClient(option.WithBaseURL(s.URL+"/v1/"), option.WithAPIKey(tok), option.WithMaxRetries(0))
	var resp *http.Response
	got, err := oc.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
		Model:    "gpt-4o",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hello")},
	}, option.WithResponseInto(&resp))
	if err != nil || got.Choices[0].Message.Content == "" {
		t.Fatalf("chat: %v", err)
	}
	last, _ := fake.LastRequest()
	if last.Key.Reveal() != testkit.CanaryOpenAIKey || resp.Header.Get("X-Keygate-Key-Source") != "tenant" {
		t.Fatalf("provider saw the wrong key; source %q", resp.Header.Get("X-Keygate-Key-Source"))
	}
	_, err = oc.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
		Model:    "claude-sonnet-4-5",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hello")},
	}, option.WithResponseInto(&resp))
	if err != nil || resp.Header.Get("X-Keygate-Key-Source") != "platform" {
		t.Fatalf("claude on the platform key: %v, source %q", err, resp.Header.Get("X-Keygate-Key-Source"))
	}
	if last, _ = fake.LastRequest(); last.Key.Reveal() != platformKey {
		t.Fatal("provider did not see the platform key")
	}

	// A revoked token stops working at once.
	toks, err := c.ListGatewayTokens(ctx, "acme")
	if err != nil || len(toks) != 1 {
		t.Fatalf("token list: %+v %v", toks, err)
	}
	if r := cliRun(t, s, s.Token, "", &out, "token", "revoke", "--tenant", "acme", toks[0].ID); r.exit != 0 {
		t.Fatalf("token revoke: %+v", r)
	}
	if _, err := oc.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
		Model:    "gpt-4o",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hello")},
	}); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("revoked token: %v", err)
	}
	// /metrics parses (metricValue checks) and counts the calls, by key
	// source, with no key.
	resp, err = http.Get(s.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, source := range []string{"tenant", "platform"} {
		if n := metricValue(t, s, "keygate_requests_total", map[string]string{"key_source": source}); n == 0 {
			t.Errorf("keygate_requests_total{key_source=%q} counted nothing", source)
		}
	}
	// Every cache on the gateway's path counts its lookups; the repeated
	// token is served from the cache.
	for _, cache := range []string{"token", "tenant", "key"} {
		if n := metricValue(t, s, "keygate_cache_lookups_total", map[string]string{"cache": cache}); n == 0 {
			t.Errorf("keygate_cache_lookups_total{cache=%q} counted nothing", cache)
		}
	}
	if n := metricValue(t, s, "keygate_cache_lookups_total", map[string]string{"cache": "token", "result": "hit"}); n == 0 {
		t.Error(`keygate_cache_lookups_total{cache="token",result="hit"} counted nothing`)
	}
	testkit.AssertNoCanary(t, "/metrics", raw)
	s.Stop(t)
	testkit.AssertNoCanary(t, "server logs", s.Logs.Bytes())
	testkit.AssertNoCanary(t, "CLI output", out.Bytes())
}

// metricValue scrapes s's /metrics and returns the sum of family's series
// whose labels include every pair of labels (0 if none).
func metricValue(tb testing.TB, s *testServer, family string, labels map[string]string) float64 {
	tb.Helper()
	resp, err := http.Get(s.URL + "/metrics")
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		tb.Fatalf("/metrics does not parse: %v", err)
	}
	var sum float64
series:
	for _, m := range families[family].GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range labels {
			if have[k] != v {
				continue series
			}
		}
		switch {
		case m.GetCounter() != nil:
			sum += m.GetCounter().GetValue()
		case m.GetGauge() != nil:
			sum += m.GetGauge().GetValue()
		}
	}
	return sum
}

// jsonCall sends a JSON request with the admin token and decodes the
// answer into out (when not nil); it returns the status.
func jsonCall(tb testing.TB, s *testServer, method, path, body string, out any) int {
	tb.Helper()
	req, err := http.NewRequest(method, s.URL+path, strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	s.Logs.Write(b) // scanned for canaries with the logs
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			tb.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
	return resp.StatusCode
}

// TestServeKeyLifecycle: test keys without saving them (valid, revoked,
// unreachable), refuse a rejected key on save, roll back a rotation, and see
// health turn red from a live 401 — against the fake provider.
func TestServeKeyLifecycle(t *testing.T) {
	fake := fakeprovider.Start(t)
	env := map[string]string{"KEYGATE_OPENAI_BASE_URL": fake.BaseURL("openai"), "KEYGATE_ANTHROPIC_BASE_URL": fake.BaseURL("anthropic"),
		"KEYGATE_MISTRAL_BASE_URL": "http://127.0.0.1:1"} // nothing listens there
	s := MustServe(t, t.TempDir(), env)
	good := "sk-" + testkit.CanaryMarker + "good00000000"
	revoked := "sk-" + testkit.CanaryMarker + "revoked00000"
	mistral := "m" + testkit.CanaryMarker + "0000000000000000"
	fake.Revoke(revoked)
	if st := jsonCall(t, s, "POST", "/api/v1/tenants", `{"name":"acme"}`, nil); st != 201 {
		t.Fatalf("create tenant: %d", st)
	}

	var tested struct {
		Results map[string]struct {
			Status     string
			Models     []string
			ModelCount int `json:"model_count"`
			Error      string
		}
	}
	st := jsonCall(t, s, "POST", "/api/v1/tenants/acme/keys:test", `{"keys":{"openai":"`+good+`","anthropic":"sk-ant-`+testkit.CanaryMarker+`000000000000000","mistral":"`+mistral+`"}}`, &tested)
	if st != 200 || tested.Results["openai"].Status != "valid" || len(tested.Results["openai"].Models) == 0 ||
		tested.Results["anthropic"].Status != "valid" || tested.Results["mistral"].Status != "unverifiable" {
		t.Fatalf("keys:test: %d %+v", st, tested)
	}
	jsonCall(t, s, "POST", "/api/v1/tenants/acme/keys:test", `{"keys":{"openai":"`+revoked+`"}}`, &tested)
	if r := tested.Results["openai"]; r.Status != "rejected" || r.Error == "" {
		t.Fatalf("revoked key tested as %+v", r)
	}
	var keys struct{ Keys []any }
	if jsonCall(t, s, "GET", "/api/v1/tenants/acme/keys", "", &keys); len(keys.Keys) != 0 {
		t.Fatal("keys:test saved a key")
	}
	// Only the candidate keys ever reached the provider.
	for _, r := range fake.Requests() {
		if k := r.Key.Reveal(); k != good && k != revoked && !strings.HasPrefix(k, "sk-ant-") {
			t.Errorf("the provider received a key that was not being tested")
		}
	}

	var e struct{ Error struct{ Code string } }
	if st := jsonCall(t, s, "PUT", "/api/v1/tenants/acme/keys/openai?test=true", `{"key":"`+revoked+`"}`, &e); st != 422 || e.Error.Code != "key_rejected" {
		t.Fatalf("saving a rejected key with ?test=true: %d %+v", st, e)
	}
	var k struct {
		Version int
		Status  string
		Hint    string
	}
	if st := jsonCall(t, s, "PUT", "/api/v1/tenants/acme/keys/openai?test=true", `{"key":"`+good+`"}`, &k); st != 201 || k.Status != "valid" || k.Version != 1 {
		t.Fatalf("saving a good key with ?test=true: %d %+v", st, k)
	}
	// Rotate to the revoked key (untested), then roll back.
	if st := jsonCall(t, s, "PUT", "/api/v1/tenants/acme/keys/openai", `{"key":"`+revoked+`"}`, &k); st != 200 || k.Version != 2 {
		t.Fatalf("rotate: %d %+v", st, k)
	}
	c, _ := client.New(s.URL, keygate.NewSecret(s.Token))
	tok, err := c.CreateGatewayToken(context.Background(), "acme", "app")
	if err != nil {
		t.Fatal(err)
	}
	st, _, _ = gatewayChat(t, s, tok.Token.Reveal())
	if st != 401 {
		t.Fatalf("call on the revoked key: %d", st)
	}
	var health struct {
		Healthy bool
		Keys    []struct {
			Provider, Status, Color string
			LastError               string `json:"last_error"`
		}
	}
	waitFor(t, "health turns red", func() bool {
		jsonCall(t, s, "GET", "/api/v1/tenants/acme/health", "", &health)
		return len(health.Keys) == 1 && health.Keys[0].Color == "red"
	})
	if health.Healthy || health.Keys[0].LastError == "" {
		t.Fatalf("health: %+v", health)
	}
	if st := jsonCall(t, s, "POST", "/api/v1/tenants/acme/keys/openai:rollback", "", &k); st != 200 || k.Version != 1 || k.Hint != "..."+good[len(good)-4:] {
		t.Fatalf("rollback: %d %+v", st, k)
	}
	if st, _, _ := gatewayChat(t, s, tok.Token.Reveal()); st != 200 {
		t.Fatalf("call after rollback: %d", st)
	}
	if st := jsonCall(t, s, "POST", "/api/v1/tenants/acme/keys/openai:rollback", "", &e); st != 409 || e.Error.Code != "conflict" {
		t.Fatalf("second rollback: %d %+v", st, e)
	}
	var versions struct {
		Versions []struct {
			Version int
			Current bool
		}
	}
	if jsonCall(t, s, "GET", "/api/v1/tenants/acme/keys/openai/versions", "", &versions); len(versions.Versions) != 2 || !versions.Versions[1].Current {
		t.Fatalf("versions: %+v", versions)
	}
	var trail struct{ Events []struct{ Action string } }
	jsonCall(t, s, "GET", "/api/v1/tenants/acme/audit?limit=50", "", &trail)
	seen := map[string]bool{}
	for _, ev := range trail.Events {
		seen[ev.Action] = true
	}
	for _, want := range []string{"key.tested", "key.set", "key.rotated", "key.status_changed", "key.rolled_back", "token.created"} {
		if !seen[want] {
			t.Errorf("no %s in the audit trail: %+v", want, trail.Events)
		}
	}
	s.Stop(t)
	testkit.AssertNoCanary(t, "logs and responses", s.Logs.Bytes())
	testkit.AssertNoCanaryInDir(t, s.DataDir)
}

// gatewayChat makes one chat call through the gateway with a gateway token.
func gatewayChat(tb testing.TB, s *testServer, tok string) (int, http.Header, []byte) {
	tb.Helper()
	req, _ := http.NewRequest("POST", s.URL+"/v1/chat/completions", strings.NewReader(`{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`))
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

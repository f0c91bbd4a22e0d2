// SPDX-License-Identifier: Apache-2.0

package proxy_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/fakeprovider"
)

// do sends a raw request with the given headers and returns status,
// headers and body.
func do(tb testing.TB, method, url, body string, hdr map[string]string) (int, http.Header, []byte) {
	tb.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

func bearer(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }

const chatBody = `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`

// TestTenantIsolation: tenant A's token never makes tenant B's key be used,
// on any route.
func TestTenantIsolation(t *testing.T) {
	g := MustGateway(t)
	_, tokA := g.MustTenant(t, "a", true)
	b, _ := g.MustTenant(t, "b", true)
	g.MustKey(t, b, "openai", otherOpenAI)
	g.MustKey(t, b, "anthropic", tenantAnthropic)
	g.MustKey(t, b, "exa", tenantExa)
	routes := []struct{ method, path, body string }{
		{"POST", "/v1/chat/completions", chatBody},
		{"POST", "/v1/completions", `{"model":"gpt-3.5-turbo-instruct","prompt":"x"}`},
		{"POST", "/v1/embeddings", `{"model":"text-embedding-3-small","input":"x"}`},
		{"POST", "/v1/responses", `{"model":"gpt-4o","input":"x"}`},
		{"POST", "/v1/messages", `{"model":"claude-sonnet-4-5","max_tokens":10,"messages":[{"role":"user","content":"x"}]}`},
		{"POST", "/v1/messages/count_tokens", `{"model":"claude-sonnet-4-5","messages":[{"role":"user","content":"x"}]}`},
		{"POST", "/exa/search", `{"query":"x"}`},
		{"GET", "/openai/v1/models", ``},
	}
	for _, rt := range routes {
		t.Run(rt.method+rt.path, func(t *testing.T) {
			status, _, body := do(t, rt.method, g.URL+rt.path, rt.body, bearer(tokA))
			if status != 400 || !strings.Contains(string(body), "provider_key_missing") {
				t.Errorf("%d %s", status, body)
			}
		})
	}
	if n := len(g.fake.Requests()); n != 0 {
		t.Errorf("the provider received %d requests for tenant a", n)
	}
	// /v1/models lists nothing usable for a.
	status, _, body := do(t, "GET", g.URL+"/v1/models", "", bearer(tokA))
	if status != 200 || strings.Contains(string(body), "gpt-4o") {
		t.Errorf("models for a: %d %s", status, body)
	}
}

// TestRejectedTenantKey: a 401 from the provider on the tenant's key reaches
// the caller as the provider's 401, marks the key invalid, and does not fall
// back to the platform key unless the policy says so.
func TestRejectedTenantKey(t *testing.T) {
	g := MustGateway(t)
	tn, tok := g.MustTenant(t, "acme", true)
	g.MustKey(t, tn, "openai", tenantOpenAI)
	g.MustKey(t, keygate.PlatformScope, "openai", platformOpenAI)
	g.fake.Revoke(tenantOpenAI)

	status, hdr, body := do(t, "POST", g.URL+"/v1/chat/completions", chatBody, bearer(tok))
	if status != 401 || hdr.Get("X-Keygate-Key-Source") != "tenant" || !strings.Contains(string(body), "invalid_api_key") && !strings.Contains(string(body), "error") {
		t.Fatalf("%d %v %s", status, hdr, body)
	}
	g.waitBackground(t)
	k, err := g.vault.Get(context.Background(), tn, "openai")
	if err != nil || k.Status != keygate.KeyStatusInvalid || k.LastError == "" || strings.Contains(k.LastError, tenantOpenAI) {
		t.Fatalf("key after 401: %+v %v", k, err)
	}
	for _, r := range g.fake.Requests() {
		if r.Key.Reveal() == platformOpenAI {
			t.Fatal("fell back to the platform key without the policy allowing it")
		}
	}

	g.MustPolicy(t, tn, keygate.Policy{Mode: keygate.ModeTenantThenPlatform, FallbackOnError: true})
	status, hdr, _ = do(t, "POST", g.URL+"/v1/chat/completions", chatBody, bearer(tok))
	if status != 200 || hdr.Get("X-Keygate-Key-Source") != "platform" || g.lastKey(t) != platformOpenAI {
		t.Fatalf("with fallback_on_error: %d source %q", status, hdr.Get("X-Keygate-Key-Source"))
	}
}

// TestRequestKeys: X-Provider-Key is used once (source request) when the
// policy allows it, refused otherwise; it is never stored.
func TestRequestKeys(t *testing.T) {
	g := MustGateway(t)
	tn, tok := g.MustTenant(t, "acme", true)
	g.MustKey(t, tn, "openai", tenantOpenAI)
	h := bearer(tok)
	h["X-Provider-Key"] = requestOpenAI
	status, _, body := do(t, "POST", g.URL+"/v1/chat/completions", chatBody, h)
	if status != 403 || !strings.Contains(string(body), "forbidden") {
		t.Fatalf("not allowed: %d %s", status, body)
	}
	g.MustPolicy(t, tn, keygate.Policy{Mode: keygate.ModeTenantThenPlatform, AllowRequestKeys: true})
	status, hdr, _ := do(t, "POST", g.URL+"/v1/chat/completions", chatBody, h)
	if status != 200 || hdr.Get("X-Keygate-Key-Source") != "request" || g.lastKey(t) != requestOpenAI {
		t.Fatalf("allowed: %d %q", status, hdr.Get("X-Keygate-Key-Source"))
	}
	h["X-Provider-Key"] = "not a key"
	if status, _, body := do(t, "POST", g.URL+"/v1/chat/completions", chatBody, h); status != 422 || !strings.Contains(string(body), "invalid_key_format") {
		t.Fatalf("malformed request key: %d %s", status, body)
	}
	evs := MustEvents(t, g, 1)
	if last := evs[len(evs)-1]; last.Source != keygate.SourceRequest || last.KeyID != "" {
		t.Errorf("usage of a request key: %+v", last)
	}
}

// TestHeaderStripping: no credential from the caller reaches the provider
// but the injected key, and no provider auth header reaches the caller.
func TestHeaderStripping(t *testing.T) {
	g := MustGateway(t)
	tn, tok := g.MustTenant(t, "acme", true)
	g.MustKey(t, tn, "openai", tenantOpenAI)
	h := map[string]string{
		// Another credential header beside the token (x-api-key,
		// x-goog-api-key) is refused outright: TestTwoCredentialsRefused.
		"Authorization":       "Bearer " + tok,
		"Cookie":              "session=abc",
		"OpenAI-Organization": "org-platform",
		"X-Keygate-Anything":  "x",
		"X-Custom":            "kept",
	}
	status, hdr, _ := do(t, "POST", g.URL+"/v1/chat/completions", chatBody, h)
	if status != 200 {
		t.Fatalf("status %d", status)
	}
	r, _ := g.fake.LastRequest()
	for _, k := range []string{"X-Api-Key", "X-Goog-Api-Key", "Cookie", "Openai-Organization", "X-Keygate-Anything", "X-Provider-Key"} {
		if r.Header.Get(k) != "" {
			t.Errorf("%s reached the provider", k)
		}
	}
	if r.Header.Get("Authorization") != "Bearer "+tenantOpenAI || r.Header.Get("X-Custom") != "kept" {
		t.Errorf("upstream headers: %v", r.Header)
	}
	for k, v := range hdr {
		for _, s := range v {
			if strings.Contains(s, tenantOpenAI) || strings.Contains(s, tok) {
				t.Errorf("response header %s carries a credential", k)
			}
		}
	}
	for _, k := range []string{"Authorization", "X-Api-Key", "Set-Cookie", "Openai-Organization"} {
		if hdr.Get(k) != "" {
			t.Errorf("response header %s passed through", k)
		}
	}
}

// TestPassthrough: /{provider}/... reaches the provider's own API with the
// tenant's key in the provider's scheme; the token in ?key= is not
// forwarded; traversal is refused.
func TestPassthrough(t *testing.T) {
	g := MustGateway(t)
	tn, tok := g.MustTenant(t, "acme", true)
	g.MustKey(t, tn, "exa", tenantExa)
	status, _, body := do(t, "POST", g.URL+"/exa/search", `{"query":"keygate"}`, map[string]string{"x-api-key": tok})
	if status != 200 {
		t.Fatalf("exa search: %d %s", status, body)
	}
	r, _ := g.fake.LastRequest()
	if r.Header.Get("X-Api-Key") != tenantExa || r.Path != "/search" {
		t.Errorf("exa saw path %q key %q", r.Path, r.Header.Get("X-Api-Key"))
	}
	status, _, _ = do(t, "GET", g.URL+"/exa/search?key="+tok+"&q=1", "", nil)
	r, _ = g.fake.LastRequest()
	if status == 401 || strings.Contains(r.RawQuery, "key=") || !strings.Contains(r.RawQuery, "q=1") {
		t.Errorf("?key= token: status %d, upstream query %q", status, r.RawQuery)
	}
	for _, p := range []string{"/exa/../openai/v1/models", "/exa/%2e%2e/x", "/exa/a/%2E%2E/b"} {
		req, _ := http.NewRequest("GET", g.URL+p, nil)
		req.URL.RawPath = p // keep the dots as sent
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Errorf("%s: %d", p, resp.StatusCode)
		}
	}
}

// TestBadInput: clear errors in the caller's dialect with stable codes.
func TestBadInput(t *testing.T) {
	g := MustGateway(t)
	tn, tok := g.MustTenant(t, "acme", true)
	g.MustKey(t, tn, "openai", tenantOpenAI)
	_, revoked := g.MustTenant(t, "gone", true)
	if err := g.store.DeleteTenant(context.Background(), "tn_gone", keygate.AuditEvent{Action: keygate.ActionTenantDeleted}); err != nil {
		t.Fatal(err)
	}
	big := `{"model":"gpt-4o","input":"` + strings.Repeat("x", 33<<20) + `"}`
	tests := []struct {
		name, path, body string
		hdr              map[string]string
		status           int
		code             string
		anthropic        bool
	}{
		{"UnknownModel", "/v1/chat/completions", `{"model":"llama-9000","messages":[]}`, bearer(tok), 400, "unknown_model", false},
		{"UnknownProviderPrefix", "/v1/chat/completions", `{"model":"nope/x","messages":[]}`, bearer(tok), 400, "unknown_model", false},
		{"MissingModel", "/v1/chat/completions", `{"messages":[]}`, bearer(tok), 400, "invalid_request", false},
		{"MalformedJSON", "/v1/chat/completions", `{"model":`, bearer(tok), 400, "invalid_json", false},
		{"BodyOverLimit", "/v1/embeddings", big, bearer(tok), 413, "body_too_large", false},
		{"MissingToken", "/v1/chat/completions", chatBody, nil, 401, "unauthorized", false},
		{"ProviderKeyAsToken", "/v1/chat/completions", chatBody, bearer(tenantOpenAI), 401, "unauthorized", false},
		{"UnknownToken", "/v1/chat/completions", chatBody, bearer("kg_unknown"), 401, "unauthorized", false},
		{"DeletedTenantToken", "/v1/chat/completions", chatBody, bearer(revoked), 401, "unauthorized", false},
		{"AnthropicMissingToken", "/v1/messages", `{"model":"claude-x"}`, nil, 401, "unauthorized", true},
		{"AnthropicMalformed", "/v1/messages", `nope`, bearer(tok), 400, "invalid_json", true},
		{"UnknownRoute", "/v1/nothing", `{}`, bearer(tok), 404, "not_found", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, _, body := do(t, "POST", g.URL+tc.path, tc.body, tc.hdr)
			if status != tc.status {
				t.Errorf("status %d, want %d: %s", status, tc.status, body)
			}
			var oe struct {
				Type  string
				Error struct{ Code, Type, Message string }
			}
			if err := json.Unmarshal(body, &oe); err != nil || oe.Error.Code != tc.code || oe.Error.Message == "" {
				t.Errorf("body %s, want code %s", body, tc.code)
			}
			if tc.anthropic && oe.Type != "error" {
				t.Errorf("not in Anthropic's error shape: %s", body)
			}
		})
	}
}

// TestCancellation: a client that goes away cancels the upstream request at
// once: before the first byte, mid-stream, and during a slow non-streaming
// call. Usage produced so far is still recorded, with status 499.
func TestCancellation(t *testing.T) {
	g := MustGateway(t)
	tn, tok := g.MustTenant(t, "acme", true)
	g.MustKey(t, tn, "openai", tenantOpenAI)
	streamBody := `{"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"a b c d e f"}]}`
	tests := []struct {
		name, body, fault string
		readEvents        int
	}{
		{"BeforeFirstByte", chatBody, "delay=10s", 0},
		{"MidStream", streamBody, "stall_after=3", 2},
		{"SlowNonStreaming", chatBody, "delay=10s", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, "POST", g.URL+"/v1/chat/completions", strings.NewReader(tc.body))
			req.Header.Set("Authorization", "Bearer "+tok)
			req.Header.Set(fakeprovider.FaultHeader, tc.fault)
			done := make(chan error, 1)
			go func() {
				resp, err := http.DefaultClient.Do(req)
				if err == nil {
					sc := bufio.NewScanner(resp.Body)
					for n := 0; n < tc.readEvents && sc.Scan(); {
						if strings.HasPrefix(sc.Text(), "data:") {
							n++
						}
					}
					done <- nil
					<-ctx.Done()
					resp.Body.Close()
					return
				}
				done <- err
			}()
			// Wait until the provider has the request (and, mid-stream,
			// the client has read some events), then hang up. Without
			// events to read, the provider holds the request in its delay
			// from the moment it has it until it is cancelled.
			waitFor(t, g, func() bool {
				last, ok := g.fake.LastRequest()
				return ok && last.Path == "/v1/chat/completions"
			})
			if tc.readEvents > 0 {
				if err := <-done; err != nil {
					t.Fatal(err)
				}
			}
			hungUp := time.Now()
			cancel()
			select {
			case r := <-g.fake.Canceled():
				if lag := r.CanceledAt.Sub(hungUp); lag > 100*time.Millisecond {
					t.Errorf("the provider saw the cancellation %v after the client hung up", lag)
				} else {
					t.Logf("provider saw the cancellation %v after the client hung up", lag)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("the upstream request was not cancelled")
			}
			waitFor(t, g, func() bool {
				evs := g.usage.Events()
				return len(evs) > 0 && evs[len(evs)-1].Canceled
			})
			evs := g.usage.Events()
			last := evs[len(evs)-1]
			if last.Status != 499 {
				t.Errorf("usage status %d, want 499", last.Status)
			}
			if tc.readEvents > 0 && last.OutputTokens == 0 && last.InputTokens == 0 {
				t.Logf("no usage reported before the cut (the provider reports usage at the end): %+v", last)
			}
			g.fake.Reset()
		})
	}
}

// waitFor waits until cond, which must depend only on the usage events
// and the requests the fake received, holds. It checks cond again each
// time one of those changes; the timeout only guards against a hang.
func waitFor(tb testing.TB, g *gw, cond func() bool) {
	tb.Helper()
	timeout := time.After(10 * time.Second)
	for {
		changed := g.changed.next() // before cond, so no change is missed
		if cond() {
			return
		}
		select {
		case <-changed:
		case <-timeout:
			tb.Fatal("condition not met in time")
		}
	}
}

// MustEvents waits until the ledger holds at least n usage events and
// returns them all. A call's event is recorded after its last byte is
// written (off the critical path), so a client can finish first.
func MustEvents(tb testing.TB, g *gw, n int) []keygate.UsageEvent {
	tb.Helper()
	var evs []keygate.UsageEvent
	waitFor(tb, g, func() bool { evs = g.usage.Events(); return len(evs) >= n })
	return evs
}

// TestRotateUnderLoad: 200 concurrent streaming calls while the tenant's
// key is rotated 20 times. No call fails, and each call used exactly one
// key, one of the versions that were current while it ran.
func TestRotateUnderLoad(t *testing.T) {
	g := MustGateway(t)
	tn, tok := g.MustTenant(t, "acme", true)
	keyOf := func(i int) string { return fmt.Sprintf("sk-rotation%024d", i) }
	g.MustKey(t, tn, "openai", keyOf(0))
	streamBody := `{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"a b c d e f g h"}]}`
	const calls, rotations = 200, 20
	var wg sync.WaitGroup
	errs := make(chan error, calls)
	for i := 0; i < calls; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("POST", g.URL+"/v1/chat/completions", strings.NewReader(streamBody))
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				errs <- err
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 200 || !strings.Contains(string(b), "[DONE]") {
				errs <- fmt.Errorf("status %d, complete %v", resp.StatusCode, strings.Contains(string(b), "[DONE]"))
			}
		}()
	}
	for r := 1; r <= rotations; r++ {
		g.MustKey(t, tn, "openai", keyOf(r))
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	valid := map[string]bool{}
	for r := 0; r <= rotations; r++ {
		valid[keyOf(r)] = true
	}
	reqs := g.fake.Requests()
	if len(reqs) != calls {
		t.Fatalf("the provider got %d requests for %d calls", len(reqs), calls)
	}
	for _, r := range reqs {
		if !valid[r.Key.Reveal()] {
			t.Errorf("a call used a key that was never stored")
		}
	}
	if v, _ := g.vault.Get(context.Background(), tn, "openai"); v.Version != rotations+1 {
		t.Errorf("version %d after %d rotations", v.Version, rotations)
	}
}

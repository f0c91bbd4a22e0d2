// SPDX-License-Identifier: Apache-2.0

package proxy_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/inmem"
	"github.com/keygate/keygate/internal/proxy"
)

// codeObserver records the codes of the gateway's own errors.
type codeObserver struct {
	mu    sync.Mutex
	codes []string
}

func (o *codeObserver) ObserveCall(keygate.UsageEvent, time.Duration) {}
func (o *codeObserver) ObserveRejection(string, string)               {}
func (o *codeObserver) ObserveScrubs(string, string, int)             {}
func (o *codeObserver) ObserveGatewayError(_, code string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.codes = append(o.codes, code)
}

// lockedBuffer is a log sink safe for the server's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// mustCorrupt damages the stored current version of owner's key for
// provider, behind the store's back, as a database administrator (or a
// bad disk) could.
func mustCorrupt(tb testing.TB, g *gw, owner keygate.TenantID, provider, how string) {
	tb.Helper()
	raw, err := sql.Open("sqlite", g.dbPath+"?_pragma=busy_timeout(5000)")
	if err != nil {
		tb.Fatal(err)
	}
	defer raw.Close()
	ctx := context.Background()
	var keyID string
	var version int
	var ct, wrapped []byte
	if err := raw.QueryRowContext(ctx, `SELECT k.id, k.current_version, v.ciphertext, v.wrapped_dek FROM provider_keys k
		JOIN provider_key_versions v ON v.key_id = k.id AND v.version = k.current_version WHERE k.owner = ? AND k.provider = ?`,
		string(owner), provider).Scan(&keyID, &version, &ct, &wrapped); err != nil {
		tb.Fatal(err)
	}
	var q string
	var arg any
	switch how {
	case "ciphertext":
		ct[len(ct)-1] ^= 1
		q, arg = `UPDATE provider_key_versions SET ciphertext = ? WHERE key_id = ? AND version = ?`, ct
	case "wrapped_dek":
		wrapped[len(wrapped)-1] ^= 1
		q, arg = `UPDATE provider_key_versions SET wrapped_dek = ? WHERE key_id = ? AND version = ?`, wrapped
	case "kek_id":
		q, arg = `UPDATE provider_key_versions SET kek_id = ? WHERE key_id = ? AND version = ?`, "mk_retired0000"
	default:
		tb.Fatalf("corrupt %q?", how)
	}
	if _, err := raw.ExecContext(ctx, q, arg, keyID, version); err != nil {
		tb.Fatal(err)
	}
}

// TestUnreadableKey: a stored key that cannot be decrypted (its ciphertext
// or wrapped data key tampered with, or sealed under a master key keygate
// does not hold) fails the calls that need it with 500 key_unreadable, in
// the caller's dialect, naming the provider and the owner, logged with its
// cause and counted; calls to another provider, of another tenant, and a
// tenant's calls whose fallback key is the unreadable one, are unaffected.
func TestUnreadableKey(t *testing.T) {
	for _, how := range []string{"ciphertext", "wrapped_dek", "kek_id"} {
		t.Run(how, func(t *testing.T) {
			obs := &codeObserver{}
			logs := &lockedBuffer{}
			g := MustGatewayWith(t, inmem.NewCounter(), func(d *proxy.Deps) {
				d.Observer = obs
				d.Logger = slog.New(slog.NewTextHandler(logs, nil))
			})
			a, tokA := g.MustTenant(t, "a", true)
			b, tokB := g.MustTenant(t, "b", true)
			_, tokC := g.MustTenant(t, "c", false) // the platform pays
			g.MustKey(t, a, "openai", tenantOpenAI)
			g.MustKey(t, a, "anthropic", tenantAnthropic)
			g.MustKey(t, b, "openai", otherOpenAI)
			g.MustKey(t, b, "anthropic", tenantAnthropic)
			g.MustKey(t, keygate.PlatformScope, "openai", platformOpenAI)
			g.MustKey(t, keygate.PlatformScope, "anthropic", platformAnthropic)
			// b may fall back on the platform's anthropic key, which is
			// the unreadable one.
			g.MustPolicy(t, b, keygate.Policy{Mode: keygate.ModeTenantThenPlatform, FallbackOnError: true})
			mustCorrupt(t, g, a, "openai", how)
			mustCorrupt(t, g, b, "anthropic", how)
			mustCorrupt(t, g, keygate.PlatformScope, "anthropic", how)

			const messages = `{"model":"claude-sonnet-4-5","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}`
			type answer struct {
				Status int
				Code   string
				Names  bool // the message names the provider and the owner
			}
			call := func(tok, path, body string, owner keygate.TenantID, provider string) answer {
				status, _, raw := do(t, "POST", g.URL+path, body, bearer(tok))
				for _, k := range []string{tenantOpenAI, otherOpenAI, tenantAnthropic, platformOpenAI, platformAnthropic} {
					if strings.Contains(string(raw), k) {
						t.Fatalf("%s answer carries a key: %s", path, raw)
					}
				}
				var doc struct {
					Type  string `json:"type"`
					Error struct {
						Type    string `json:"type"`
						Code    string `json:"code"`
						Message string `json:"message"`
					} `json:"error"`
				}
				_ = json.Unmarshal(raw, &doc)
				if status == 500 && path == "/v1/messages" && doc.Type != "error" {
					t.Errorf("not in Anthropic's error shape: %s", raw)
				}
				return answer{status, doc.Error.Code, strings.Contains(doc.Error.Message, "stored "+provider+" key of tenant "+string(owner))}
			}
			got := map[string]answer{
				"a openai (unreadable)":             call(tokA, "/v1/chat/completions", chatBody, a, "openai"),
				"a anthropic":                       call(tokA, "/v1/messages", messages, a, "anthropic"),
				"b openai":                          call(tokB, "/v1/chat/completions", chatBody, b, "openai"),
				"b anthropic (unreadable)":          call(tokB, "/v1/messages", messages, b, "anthropic"),
				"c openai, the platform's":          call(tokC, "/v1/chat/completions", chatBody, "", "openai"),
				"a openai again (not cached as ok)": call(tokA, "/v1/chat/completions", chatBody, a, "openai"),
			}
			want := map[string]answer{
				"a openai (unreadable)":             {500, keygate.CodeKeyUnreadable, true},
				"a anthropic":                       {200, "", false},
				"b openai":                          {200, "", false},
				"b anthropic (unreadable)":          {500, keygate.CodeKeyUnreadable, true},
				"c openai, the platform's":          {200, "", false},
				"a openai again (not cached as ok)": {500, keygate.CodeKeyUnreadable, true},
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("answers (-want +got):\n%s", diff)
			}
			// The model list of a tenant with an unreadable key lists the
			// providers whose keys open.
			if status, _, body := do(t, "GET", g.URL+"/v1/models", "", bearer(tokA)); status != 200 || !strings.Contains(string(body), `"anthropic/`) || strings.Contains(string(body), `"gpt-4o"`) {
				t.Errorf("a's model list: %d %s", status, body)
			}
			if status, _, body := do(t, "GET", g.URL+"/v1/models", "", bearer(tokB)); status != 200 || !strings.Contains(string(body), `"gpt-4o"`) {
				t.Errorf("b's model list: %d %s", status, body)
			}
			// A tenant whose own key works never opens its unreadable
			// fallback: give b a working anthropic key and call again.
			g.MustKey(t, b, "anthropic", tenantAnthropic)
			if a := call(tokB, "/v1/messages", messages, b, "anthropic"); a.Status != 200 {
				t.Errorf("b's call with a working key and an unreadable fallback: %+v", a)
			}
			// The platform's unreadable key fails only the calls it pays.
			g.MustPolicy(t, keygate.TenantID("tn_c"), keygate.Policy{Mode: keygate.ModePlatformOnly})
			if a := call(tokC, "/v1/messages", messages, "", "anthropic"); a.Status != 500 || a.Code != keygate.CodeKeyUnreadable {
				t.Errorf("c's call on the platform's unreadable key: %+v", a)
			}
			obs.mu.Lock()
			defer obs.mu.Unlock()
			if diff := cmp.Diff([]string{"key_unreadable", "key_unreadable", "key_unreadable", "key_unreadable"}, obs.codes); diff != "" {
				t.Errorf("gateway errors counted (-want +got):\n%s", diff)
			}
			log := logs.String()
			if !strings.Contains(log, "key_unreadable") || !strings.Contains(log, "envelope:") {
				t.Errorf("the server log does not give the cause:\n%s", log)
			}
			for _, k := range []string{tenantOpenAI, otherOpenAI, tenantAnthropic, platformAnthropic} {
				if strings.Contains(log, k) {
					t.Fatal("the server log carries a key")
				}
			}
		})
	}
}

// SPDX-License-Identifier: Apache-2.0

package proxy_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/keygate/keygate/internal/provider"
	"github.com/keygate/keygate/internal/testkit"
)

// TestKeyShapedModelNotRecorded: a key pasted into the model field, whole
// or as the part after "provider/", reaches the usage event (and so the
// ledger and /usage) only as the redaction marker.
func TestKeyShapedModelNotRecorded(t *testing.T) {
	g := MustGateway(t)
	tn, tok := g.MustTenant(t, "acme", true)
	g.MustKey(t, tn, "openai", tenantOpenAI)
	tests := []struct{ name, path, model string }{
		{"ProviderPath", "/openai/v1/chat/completions", testkit.CanaryOpenAIKey},
		{"ProviderSlashModel", "/v1/chat/completions", "openai/" + testkit.CanaryOpenAIKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev := g.mustCallUsage(t, tc.path, `{"model":"`+tc.model+`","messages":[{"role":"user","content":"a b c"}]}`, tok)
			if ev.Model != provider.Redacted {
				t.Errorf("usage event model = %q, want %q", ev.Model, provider.Redacted)
			}
		})
	}
	t.Run("RealModelKept", func(t *testing.T) {
		ev := g.mustCallUsage(t, "/v1/chat/completions", `{"model":"gpt-4o","messages":[{"role":"user","content":"a b c"}]}`, tok)
		if ev.Model != "gpt-4o" {
			t.Errorf("usage event model = %q, want gpt-4o", ev.Model)
		}
	})
}

// TestUnknownModelNotEchoed: a key-shaped model that no provider serves is
// refused without repeating it.
func TestUnknownModelNotEchoed(t *testing.T) {
	g := MustGateway(t)
	_, tok := g.MustTenant(t, "acme", true)
	st, _, b := do(t, "POST", g.URL+"/v1/chat/completions", `{"model":"`+testkit.CanaryOpenAIKey+`","messages":[]}`, bearer(tok))
	if st != 400 && st != 404 {
		t.Fatalf("status %d %s", st, b)
	}
	testkit.AssertNoCanary(t, "the answer", []byte(b))
}

// TestQueryKeyNeverForwarded: a ?key= beside a gateway token sent in a
// header is refused before anything goes upstream, whatever it holds (a
// provider key included); a gateway token sent as ?key= is taken out of
// the query before forwarding.
func TestQueryKeyNeverForwarded(t *testing.T) {
	g := MustGateway(t)
	tn, tok := g.MustTenant(t, "acme", true)
	g.MustKey(t, tn, "exa", tenantExa)
	const googleKey = "AIzaSyQUERYKEY0123456789abcdefghijklmno"
	for _, tc := range []struct {
		name, query string
		hdr         http.Header
		status      int
		secret      string
	}{
		{"ProviderKeyBesideHeaderToken", "?key=" + googleKey, http.Header{"Authorization": {"Bearer " + tok}}, 400, googleKey},
		{"ProviderKeyBesideGoogHeader", "?key=" + googleKey + "&q=1", http.Header{"X-Goog-Api-Key": {tok}}, 400, googleKey},
		{"TokenInQueryOnly", "?key=" + tok + "&q=1", nil, 200, tok},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g.fake.Reset()
			status, e := send(t, "GET", g.URL+"/exa/search"+tc.query, "", tc.hdr)
			if status != tc.status {
				t.Fatalf("status %d, want %d: %+v", status, tc.status, e)
			}
			reqs := g.fake.Requests()
			if tc.status == 400 && len(reqs) != 0 {
				t.Errorf("the provider got %d requests", len(reqs))
			}
			for _, r := range reqs {
				if strings.Contains(r.RawQuery, tc.secret) || strings.Contains(r.RawQuery, "key=") {
					t.Errorf("the query forwarded upstream is %q", r.RawQuery)
				}
			}
			if tc.status == 200 && (len(reqs) != 1 || reqs[0].RawQuery != "q=1") {
				t.Errorf("upstream requests %+v, want one with the query q=1", reqs)
			}
		})
	}
}

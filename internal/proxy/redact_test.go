package proxy_test

import (
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

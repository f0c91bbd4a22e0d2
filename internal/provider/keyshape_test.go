// SPDX-License-Identifier: Apache-2.0

package provider_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keygate/keygate/internal/testkit"
)

// TestLooksLikeKey: every key format of the catalog, keygate's tokens and
// generic random tokens look like keys; provider and model names of the
// catalog and keygate's own ids do not.
func TestLooksLikeKey(t *testing.T) {
	c := MustDefault(t)
	tests := []struct {
		name string
		s    string
		want bool
	}{
		{"OpenAIKey", testkit.CanaryOpenAIKey, true},
		{"AnthropicKey", "sk-ant-api03-abc", true},
		{"GoogleKey", "AIzaSyB0123456789", true},
		{"GroqKey", "gsk_abc", true},
		{"MistralKeyNoPrefix", strings.Repeat("a1", 16), true},
		{"DeepgramHex", "0123456789abcdef0123456789abcdef01234567", true},
		{"MixedCaseRun", "Ab3dEf7hIj1lMn0pQr5t", true},
		{"UUID", "1b4e28ba-2fa1-11d2-883f-0016d3cca427", true},
		{"GatewayToken", "kg_whatever", true},
		{"AdminToken", "kga_whatever", true},
		{"JWT", "eyJhbGciOi", true},
		{"BearerPasted", "Bearer x", true},
		{"VeryLong", strings.Repeat("a-", 101), true},
		{"BarePrefix", "sk-", false},
		{"TenantName", "acme", false},
		{"TenantID", "tn_0123456789abcdef01234567", false},
		{"RequestID", "req_0123456789abcdef01234567", false},
		{"Empty", "", false},
		{"PathWord", "chat", false},
		{"Action", "keys:test", false},
	}
	for _, p := range c.Providers() {
		tests = append(tests, struct {
			name string
			s    string
			want bool
		}{"ProviderName/" + p.Name, p.Name, false})
	}
	for _, m := range []string{"gpt-4o", "gpt-4o-mini-2024-07-18", "claude-sonnet-4-5-20250929", "gemini-2.0-flash", "mistral-small-latest", "openrouter/meta-llama/llama-3.3-70b-instruct", "text-embedding-3-small"} {
		tests = append(tests, struct {
			name string
			s    string
			want bool
		}{"Model/" + m, m, false})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := c.LooksLikeKey(tc.s); got != tc.want {
				t.Errorf("LooksLikeKey(%q) = %v, want %v", tc.s, got, tc.want)
			}
		})
	}
}

// TestRedactPath: key-shaped segments of a path are replaced, the rest
// kept as they are.
func TestRedactPath(t *testing.T) {
	c := MustDefault(t)
	tests := []struct{ name, in, want string }{
		{"Plain", "/v1/chat/completions", "/v1/chat/completions"},
		{"TenantKeys", "/api/v1/tenants/acme/keys/openai", "/api/v1/tenants/acme/keys/openai"},
		{"KeyAsTenant", "/api/v1/tenants/" + testkit.CanaryOpenAIKey + "/keys", "/api/v1/tenants/[redacted]/keys"},
		{"KeyWithAction", "/google/v1beta/models/AIzaSyB0123456789:generateContent", "/google/v1beta/models/[redacted]"},
		{"Gemini", "/google/v1beta/models/gemini-2.0-flash:generateContent", "/google/v1beta/models/gemini-2.0-flash:generateContent"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, c.RedactPath(tc.in)); diff != "" {
				t.Errorf("RedactPath(%q) (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

// TestMayEcho: only short plain names may be repeated in a message.
func TestMayEcho(t *testing.T) {
	c := MustDefault(t)
	tests := []struct {
		s    string
		want bool
	}{
		{"acme", true},
		{"openia", true},
		{"tn_0123456789abcdef", true},
		{"", false},
		{"sk-abc", false},
		{"AIzaB", false},
		{"kg_abc", false},
		{"acme corp", false},
		{"acme\x1b[31m", false},
		{strings.Repeat("a", 19), true},
		{strings.Repeat("a", 20), false}, // as long as the shortest key format
		{testkit.CanaryOpenAIKey, false},
	}
	for _, tc := range tests {
		if got := c.MayEcho(tc.s); got != tc.want {
			t.Errorf("MayEcho(%q) = %v, want %v", tc.s, got, tc.want)
		}
	}
}

// TestRedactModel: a model name that is, or has a part that is, key-shaped
// is replaced; real model names are kept.
func TestRedactModel(t *testing.T) {
	c := MustDefault(t)
	for in, want := range map[string]string{
		"gpt-4o": "gpt-4o",
		"openrouter/meta-llama/llama-3.3-70b-instruct": "openrouter/meta-llama/llama-3.3-70b-instruct",
		testkit.CanaryOpenAIKey:                        "[redacted]",
		"openai/sk-proj-abc":                           "[redacted]",
		"AIzaSyB0123456789":                            "[redacted]",
	} {
		if got := c.RedactModel(in); got != want {
			t.Errorf("RedactModel(%q) = %q, want %q", in, got, want)
		}
	}
}

// BenchmarkRedact: the cost the access log and the usage event pay per
// request for a plain path and model.
func BenchmarkRedact(b *testing.B) {
	c := MustDefault(b)
	b.Run("Path", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = c.RedactPath("/api/v1/tenants/tn_0123456789abcdef01234567/keys/openai")
		}
	})
	b.Run("Model", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = c.RedactModel("claude-sonnet-4-5-20250929")
		}
	})
}

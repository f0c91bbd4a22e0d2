// SPDX-License-Identifier: Apache-2.0

package provider_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keygate/keygate/internal/provider"
)

// MustDefault returns the embedded catalog.
func MustDefault(tb testing.TB) *provider.Catalog {
	tb.Helper()
	c, err := provider.Default()
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func TestDefaultHasTheRequiredProviders(t *testing.T) {
	want := []string{"anthropic", "deepgram", "elevenlabs", "exa", "google", "groq", "mistral", "openai", "openrouter"}
	if diff := cmp.Diff(want, MustDefault(t).Names()); diff != "" {
		t.Errorf("names (-want +got):\n%s", diff)
	}
}

func TestEveryRowIsComplete(t *testing.T) {
	c := MustDefault(t)
	for _, p := range c.Providers() {
		t.Run(p.Name, func(t *testing.T) {
			u, err := url.Parse(p.BaseURL)
			if err != nil || u.Scheme != "https" || u.Path != "" {
				t.Errorf("base URL %q: want an https origin", p.BaseURL)
			}
			if p.DisplayName == "" || p.KeysURL == "" {
				t.Errorf("display name %q, keys URL %q", p.DisplayName, p.KeysURL)
			}
			if !strings.Contains(p.Auth.Template, provider.KeyPlaceholder) || p.Auth.Header == "" {
				t.Errorf("auth %+v", p.Auth)
			}
			if p.KeyFormat.MinLen < 8 || p.KeyFormat.MaxLen < p.KeyFormat.MinLen {
				t.Errorf("key lengths %d..%d", p.KeyFormat.MinLen, p.KeyFormat.MaxLen)
			}
			if p.Probe.Method == "" || !strings.HasPrefix(p.Probe.Path, "/") || p.Probe.SuccessStatus/100 != 2 {
				t.Errorf("probe %+v", p.Probe)
			}
			switch p.Kind {
			case provider.KindLLM:
				if p.OpenAICompatPath == "" || p.Usage == provider.UsageNone {
					t.Errorf("llm without an OpenAI-compatible path (%q) or usage dialect (%q)", p.OpenAICompatPath, p.Usage)
				}
			case provider.KindSearch, provider.KindVoice:
			default:
				t.Errorf("kind %q", p.Kind)
			}
		})
	}
}

func TestRowDetails(t *testing.T) {
	c := MustDefault(t)
	tests := []struct {
		name, header, template, compat string
		usage                          provider.UsageDialect
	}{
		{"openai", "Authorization", "Bearer {key}", "/v1", provider.UsageOpenAI},
		{"anthropic", "X-Api-Key", "{key}", "/v1", provider.UsageAnthropic},
		{"google", "X-Goog-Api-Key", "{key}", "/v1beta/openai", provider.UsageGemini},
		{"mistral", "Authorization", "Bearer {key}", "/v1", provider.UsageOpenAI},
		{"openrouter", "Authorization", "Bearer {key}", "/api/v1", provider.UsageOpenAI},
		{"groq", "Authorization", "Bearer {key}", "/openai/v1", provider.UsageOpenAI},
		{"exa", "X-Api-Key", "{key}", "", provider.UsageNone},
		{"deepgram", "Authorization", "Token {key}", "", provider.UsageNone},
		{"elevenlabs", "Xi-Api-Key", "{key}", "", provider.UsageNone},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, ok := c.Lookup(tc.name)
			if !ok {
				t.Fatal("missing")
			}
			got := []any{p.Auth.Header, p.Auth.Template, p.OpenAICompatPath, p.Usage}
			want := []any{tc.header, tc.template, tc.compat, tc.usage}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	p, _ := c.Lookup("anthropic")
	if diff := cmp.Diff(map[string]string{"Anthropic-Version": "2023-06-01"}, p.Headers); diff != "" {
		t.Errorf("anthropic headers (-want +got):\n%s", diff)
	}
}

func TestLookupReturnsACopy(t *testing.T) {
	c := MustDefault(t)
	p, _ := c.Lookup("anthropic")
	p.Headers["Anthropic-Version"] = "changed"
	p.ModelPrefixes[0] = "changed"
	again, _ := c.Lookup("anthropic")
	if again.Headers["Anthropic-Version"] != "2023-06-01" || again.ModelPrefixes[0] != "claude-" {
		t.Error("changing a looked-up provider changed the catalog")
	}
	if _, ok := c.Lookup("OpenAI"); ok {
		t.Error("lookup is exact; OpenAI should not match")
	}
}

func TestAuthHeaders(t *testing.T) {
	want := []string{"Authorization", "X-Api-Key", "X-Goog-Api-Key", "Xi-Api-Key"}
	if diff := cmp.Diff(want, MustDefault(t).AuthHeaders()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestParseRejects(t *testing.T) {
	row := func(extra string) string {
		return `{"providers":[{"name":"x","display_name":"X","kind":"llm","base_url":"https://x.test",
"auth":{"header":"Authorization","template":"Bearer {key}"},
"key_format":{"min_len":20,"max_len":40,"charset":"[a-z]"},
"probe":{"method":"GET","path":"/v1/models","success_status":200},
"usage_dialect":"openai"` + extra + `}]}`
	}
	if _, err := provider.Parse([]byte(row(""))); err != nil {
		t.Fatalf("the base row must parse: %v", err)
	}
	tests := []struct{ name, data, want string }{
		{"unknown field", row(`,"colour":"red"`), "unknown field"},
		{"not JSON", `{`, "decode catalog"},
		{"empty", `{"providers":[]}`, "no providers"},
		{"bad kind", strings.Replace(row(""), `"llm"`, `"video"`, 1), "kind"},
		{"bad name", strings.Replace(row(""), `"name":"x"`, `"name":"X Y"`, 1), "name"},
		{"no placeholder", strings.Replace(row(""), `Bearer {key}`, `Bearer`, 1), "template"},
		{"http query", strings.Replace(row(""), `https://x.test`, `https://x.test?a=1`, 1), "query"},
		{"bad charset", strings.Replace(row(""), `[a-z]`, `a-z`, 1), "charset"},
		{"bad usage", strings.Replace(row(""), `"openai"`, `"tokens"`, 1), "usage_dialect"},
		{"probe status", strings.Replace(row(""), `200`, `404`, 1), "success_status"},
		{"duplicate", strings.Replace(row(""), `}]}`, `},`+strings.TrimSuffix(strings.TrimPrefix(row(""), `{"providers":[`), `]}`)+`]}`, 1), "twice"},
		{"prefix outside charset", row(`,"model_prefixes":["a/b"]`), "model_prefixes"},
		{"auth header as fixed header", row(`,"headers":{"authorization":"x"}`), "auth header"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := provider.Parse([]byte(tc.data))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

func TestSetAuthPerScheme(t *testing.T) {
	c := MustDefault(t)
	tests := []struct{ provider, header, want string }{
		{"openai", "Authorization", "Bearer sk-test"},
		{"anthropic", "X-Api-Key", "sk-test"},
		{"google", "X-Goog-Api-Key", "sk-test"},
		{"deepgram", "Authorization", "Token sk-test"},
		{"elevenlabs", "Xi-Api-Key", "sk-test"},
		{"exa", "X-Api-Key", "sk-test"},
	}
	for _, tc := range tests {
		t.Run(tc.provider, func(t *testing.T) {
			p, _ := c.Lookup(tc.provider)
			h := http.Header{tc.header: {"old value"}}
			p.SetAuth(h, mustSecret("sk-test"))
			if diff := cmp.Diff([]string{tc.want}, h.Values(tc.header)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			k, ok := p.KeyFromHeader(h)
			if !ok || k.Reveal() != "sk-test" {
				t.Errorf("KeyFromHeader after SetAuth: ok %v", ok)
			}
		})
	}
}

func TestKeyFromHeader(t *testing.T) {
	c := MustDefault(t)
	tests := []struct {
		name, provider string
		h              http.Header
		want           string // "" for not found
	}{
		{"bearer", "openai", http.Header{"Authorization": {"Bearer sk-a"}}, "sk-a"},
		{"bearer any case", "openai", http.Header{"Authorization": {"bearer sk-a"}}, "sk-a"},
		{"wrong scheme word", "openai", http.Header{"Authorization": {"Token sk-a"}}, ""},
		{"bearer without key", "openai", http.Header{"Authorization": {"Bearer "}}, ""},
		{"missing", "openai", http.Header{}, ""},
		{"anthropic primary", "anthropic", http.Header{"X-Api-Key": {"sk-ant-a"}}, "sk-ant-a"},
		{"anthropic alternative", "anthropic", http.Header{"Authorization": {"Bearer sk-ant-b"}}, "sk-ant-b"},
		{"primary wins", "anthropic", http.Header{"X-Api-Key": {"one"}, "Authorization": {"Bearer two"}}, "one"},
		{"deepgram token", "deepgram", http.Header{"Authorization": {"Token dg"}}, "dg"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, _ := c.Lookup(tc.provider)
			k, ok := p.KeyFromHeader(tc.h)
			if got := k.Reveal(); ok != (tc.want != "") || got != tc.want {
				t.Errorf("got %q, %v; want %q", got, ok, tc.want)
			}
		})
	}
}

func TestApplyHeadersKeepsTheCallers(t *testing.T) {
	p, _ := MustDefault(t).Lookup("anthropic")
	h := http.Header{}
	p.ApplyHeaders(h)
	if h.Get("Anthropic-Version") != "2023-06-01" {
		t.Errorf("not set: %v", h)
	}
	h = http.Header{"Anthropic-Version": {"2024-01-01"}}
	p.ApplyHeaders(h)
	if h.Get("Anthropic-Version") != "2024-01-01" {
		t.Errorf("overrode the caller's: %v", h)
	}
}

func TestURLs(t *testing.T) {
	p, _ := MustDefault(t).Lookup("google")
	if got := p.URL("/v1beta/models"); got != "https://generativelanguage.googleapis.com/v1beta/models" {
		t.Errorf("URL = %q", got)
	}
	got, ok := p.OpenAICompatURL("/chat/completions")
	if !ok || got != "https://generativelanguage.googleapis.com/v1beta/openai/chat/completions" {
		t.Errorf("OpenAICompatURL = %q, %v", got, ok)
	}
	d, _ := MustDefault(t).Lookup("deepgram")
	if _, ok := d.OpenAICompatURL("/chat/completions"); ok {
		t.Error("deepgram has no OpenAI-compatible API")
	}
}

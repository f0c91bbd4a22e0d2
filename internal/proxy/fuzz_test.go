// SPDX-License-Identifier: Apache-2.0

package proxy_test

import (
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// FuzzGatewayRequest sends arbitrary bodies to the gateway's routes: every
// answer is a well-formed status (never a 5xx from keygate itself, never a
// panic), the tenant's key never appears in it, and a valid JSON body that
// keygate edited (the model rewritten, usage asked for) reaches the
// provider still valid.
func FuzzGatewayRequest(f *testing.F) {
	g := MustGateway(f)
	tn, tok := g.MustTenant(f, "acme", true)
	g.MustKey(f, tn, "openai", tenantOpenAI)
	g.MustKey(f, tn, "anthropic", tenantAnthropic)
	for _, s := range []string{chatBody, `{"model":"gpt-4o"}`, `{"model":"nope/x"}`, `{`, `null`, `[]`, `{"model":"openai/../../x"}`, `{"model":"gpt-4o","stream":"yes"}`,
		`{"model":"openai/gpt-4o","stream":true,"stream_options":{"include_usage":false}}`,
		`{"Model":"openai/gpt-4o","stream":true,"stream_options":null,"messages":[]}`,
		`{"model":"openai\/gpt-4o\u0022","stream" : true , "stream_options" : { } }`} {
		f.Add("/v1/chat/completions", s)
	}
	f.Add("/v1/messages", `{"model":"claude-x","max_tokens":-1}`)
	f.Add("/v1/messages", `{"model":"anthropic/claude-sonnet-4-5","model":"anthropic/claude-x","max_tokens":5}`)
	f.Add("/exa/../openai/v1/models", `{}`)
	f.Fuzz(func(t *testing.T, path, body string) {
		if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, " \r\n\t?#%") || len(path) > 200 {
			return
		}
		if _, err := url.ParseRequestURI(path); err != nil {
			return
		}
		req := httptest.NewRequest("POST", path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		w := httptest.NewRecorder()
		g.handler.ServeHTTP(w, req)
		if w.Code >= 500 && w.Code != 502 {
			t.Fatalf("%s: %d %s", path, w.Code, w.Body)
		}
		if strings.Contains(w.Body.String(), tenantOpenAI) || strings.Contains(w.Body.String(), tenantAnthropic) {
			t.Fatalf("the key leaked in an answer to %s", path)
		}
		if sent := g.fake.Requests(); len(sent) > 0 && strings.HasPrefix(path, "/v1/") && json.Valid([]byte(body)) {
			if last := sent[len(sent)-1]; len(last.Body) > 0 && !json.Valid(last.Body) {
				t.Fatalf("%s: the provider got %q for %q", path, last.Body, body)
			}
		}
		g.fake.Reset()
	})
}

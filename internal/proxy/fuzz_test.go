package proxy_test

import (
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// FuzzGatewayRequest sends arbitrary bodies to the gateway's routes: every
// answer is a well-formed status (never a 5xx from keygate itself, never a
// panic), and the tenant's key never appears in it.
func FuzzGatewayRequest(f *testing.F) {
	g := MustGateway(f)
	tn, tok := g.MustTenant(f, "acme", true)
	g.MustKey(f, tn, "openai", tenantOpenAI)
	for _, s := range []string{chatBody, `{"model":"gpt-4o"}`, `{"model":"nope/x"}`, `{`, `null`, `[]`, `{"model":"openai/../../x"}`, `{"model":"gpt-4o","stream":"yes"}`} {
		f.Add("/v1/chat/completions", s)
	}
	f.Add("/v1/messages", `{"model":"claude-x","max_tokens":-1}`)
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
		if strings.Contains(w.Body.String(), tenantOpenAI) {
			t.Fatalf("the key leaked in an answer to %s", path)
		}
	})
}

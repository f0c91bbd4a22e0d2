// SPDX-License-Identifier: Apache-2.0

package proxy_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// gatewayError is an error answer in either dialect: OpenAI's
// {"error": {...}} or Anthropic's {"type": "error", "error": {...}}.
type gatewayError struct {
	Type  string `json:"type"`
	Error struct {
		Type    string `json:"type"`
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// send makes a request with hdr as given (several values of a header
// included) and decodes an error answer.
func send(tb testing.TB, method, url, body string, hdr http.Header) (int, gatewayError) {
	tb.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	for k, vs := range hdr {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var e gatewayError
	if resp.StatusCode != 200 {
		if err := json.Unmarshal(b, &e); err != nil {
			tb.Fatalf("%d answer is not JSON: %s", resp.StatusCode, b)
		}
	}
	return resp.StatusCode, e
}

// TestDuplicateFieldsRefused: a body in which a member keygate reads
// appears twice or in another case is refused with 400 invalid_request in
// the route's dialect, naming the member, and never reaches the provider:
// keygate would meter one model while a case-sensitive provider, or one
// that keeps the first duplicate, runs another.
func TestDuplicateFieldsRefused(t *testing.T) {
	g := MustGateway(t)
	tn, tok := g.MustTenant(t, "acme", true)
	g.MustKey(t, tn, "openai", tenantOpenAI)
	g.MustKey(t, tn, "anthropic", tenantAnthropic)
	auth := http.Header{"Authorization": {"Bearer " + tok}}
	msgs := `"messages":[{"role":"user","content":"hi"}]`
	tests := []struct {
		name, path, body string
		field            string // "" when the call goes through
		anthropic        bool
	}{
		{"ModelOtherCase", "/v1/chat/completions", `{"model":"gpt-4o","Model":"gpt-4o-mini",` + msgs + `}`, "model", false},
		{"ModelTwice", "/v1/chat/completions", `{"model":"gpt-4o","model":"gpt-4o-mini",` + msgs + `}`, "model", false},
		{"StreamTwice", "/v1/chat/completions", `{"model":"gpt-4o","stream":false,"stream":true,` + msgs + `}`, "stream", false},
		{"StreamOtherCase", "/v1/chat/completions", `{"model":"gpt-4o","STREAM":true,` + msgs + `}`, "stream", false},
		{"MaxTokensTwice", "/v1/chat/completions", `{"model":"gpt-4o","max_tokens":1,"max_tokens":100000,` + msgs + `}`, "max_tokens", false},
		{"IncludeUsageTwice", "/v1/chat/completions", `{"model":"gpt-4o","stream":true,"stream_options":{"include_usage":false,"include_usage":true},` + msgs + `}`, "stream_options.include_usage", false},
		{"AnthropicModelOtherCase", "/v1/messages", `{"model":"claude-sonnet-4-5","MODEL":"claude-opus-4-1","max_tokens":5,` + msgs + `}`, "model", true},
		{"AnthropicMaxTokensTwice", "/v1/messages", `{"model":"claude-sonnet-4-5","max_tokens":5,"max_tokens":64000,` + msgs + `}`, "max_tokens", true},
		{"UserTwice", "/v1/chat/completions", `{"model":"gpt-4o","user":"a","user":"b",` + msgs + `}`, "user", false},
		{"AnthropicMetadataTwice", "/v1/messages", `{"model":"claude-sonnet-4-5","max_tokens":5,"metadata":{},"metadata":{},` + msgs + `}`, "metadata", true},
		{"AnthropicUserIDOtherCase", "/v1/messages", `{"model":"claude-sonnet-4-5","max_tokens":5,"metadata":{"User_ID":"a"},` + msgs + `}`, "metadata.user_id", true},
		{"UnreadDuplicatePasses", "/v1/chat/completions", `{"model":"gpt-4o","seed":1,"seed":2,` + msgs + `}`, "", false},
		{"AnthropicUnreadDuplicatePasses", "/v1/messages", `{"model":"claude-sonnet-4-5","max_tokens":5,"metadata":{"x":1,"x":2},` + msgs + `}`, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g.fake.Reset()
			status, e := send(t, "POST", g.URL+tc.path, tc.body, auth)
			if tc.field == "" {
				if status != 200 {
					t.Fatalf("status %d: %+v", status, e)
				}
				if len(g.fake.Requests()) != 1 {
					t.Errorf("the provider got %d requests", len(g.fake.Requests()))
				}
				return
			}
			got := struct {
				Status         int
				Type, ErrType  string
				Code           string
				NamesTheField  bool
				ReachedProvide int
			}{status, e.Type, e.Error.Type, e.Error.Code, strings.Contains(e.Error.Message, tc.field), len(g.fake.Requests())}
			want := got
			want.Status, want.ErrType, want.Code, want.NamesTheField, want.ReachedProvide = 400, "invalid_request_error", "invalid_request", true, 0
			want.Type = ""
			if tc.anthropic {
				want.Type = "error"
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("answer (-want +got):\n%s\nmessage: %s", diff, e.Error.Message)
			}
			if strings.Contains(e.Error.Message, "mini") || strings.Contains(e.Error.Message, "Model") || strings.Contains(e.Error.Message, "MODEL") {
				t.Errorf("the message echoes the request: %s", e.Error.Message)
			}
		})
	}
}

// TestTwoCredentialsRefused: a request that carries a gateway credential
// more than once (two Authorization headers, or two carriers at once) is
// refused with 400 before anything else, since keygate would authenticate
// one while a proxy in front of it may go by the other; the answer never
// echoes a token. Each SDK's own way of sending its key is accepted.
func TestTwoCredentialsRefused(t *testing.T) {
	g := MustGateway(t)
	tn, tok := g.MustTenant(t, "acme", true)
	_, other := g.MustTenant(t, "other", true)
	g.MustKey(t, tn, "openai", tenantOpenAI)
	g.MustKey(t, tn, "anthropic", tenantAnthropic)
	g.MustKey(t, tn, "exa", tenantExa)
	msg := `{"model":"claude-sonnet-4-5","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`
	tests := []struct {
		name, path, query, body string
		hdr                     http.Header
		status                  int // 0: anything but 400
		anthropic               bool
	}{
		{"TwoAuthorization", "/v1/chat/completions", "", chatBody, http.Header{"Authorization": {"Bearer " + tok, "Bearer " + other}}, 400, false},
		{"SameAuthorizationTwice", "/v1/chat/completions", "", chatBody, http.Header{"Authorization": {"Bearer " + tok, "Bearer " + tok}}, 400, false},
		{"AuthorizationAndAPIKey", "/v1/messages", "", msg, http.Header{"Authorization": {"Bearer " + tok}, "X-Api-Key": {other}}, 400, true},
		{"TwoAPIKeys", "/v1/messages", "", msg, http.Header{"X-Api-Key": {tok, other}}, 400, true},
		{"AuthorizationAndQuery", "/v1/chat/completions", "?key=" + other, chatBody, http.Header{"Authorization": {"Bearer " + tok}}, 400, false},
		{"GoogleHeaderAndQuery", "/exa/search", "?key=" + tok, "", http.Header{"X-Goog-Api-Key": {other}}, 400, false},
		{"TwoQueryKeys", "/exa/search", "?key=" + tok + "&key=" + other, "", nil, 400, false},
		// What the official SDKs send.
		{"OpenAIBearer", "/v1/chat/completions", "", chatBody, http.Header{"Authorization": {"Bearer " + tok}}, 200, false},
		{"AnthropicAPIKey", "/v1/messages", "", msg, http.Header{"X-Api-Key": {tok}, "Anthropic-Version": {"2023-06-01"}}, 200, true},
		{"GoogleHeader", "/exa/search", "", "", http.Header{"X-Goog-Api-Key": {tok}}, 200, false},
		{"GoogleQuery", "/exa/search", "?key=" + tok, "", nil, 200, false},
		// A request key is not a gateway credential.
		{"RequestKeyBesideToken", "/v1/chat/completions", "", chatBody, http.Header{"Authorization": {"Bearer " + tok}, "X-Provider-Key": {requestOpenAI}}, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			method := "POST"
			if tc.body == "" {
				method = "GET"
			}
			g.fake.Reset()
			status, e := send(t, method, g.URL+tc.path+tc.query, tc.body, tc.hdr)
			if status != tc.status && (tc.status != 0 || status == 400) {
				t.Fatalf("status %d, want %d: %+v", status, tc.status, e)
			}
			if status != 400 {
				return
			}
			if e.Error.Code != "invalid_request" || (tc.anthropic != (e.Type == "error")) {
				t.Errorf("answer %+v, want invalid_request in the route's dialect", e)
			}
			if strings.Contains(e.Error.Message, tok) || strings.Contains(e.Error.Message, other) {
				t.Errorf("the message echoes a token: %s", e.Error.Message)
			}
			if n := len(g.fake.Requests()); n != 0 {
				t.Errorf("the provider got %d requests", n)
			}
		})
	}
}

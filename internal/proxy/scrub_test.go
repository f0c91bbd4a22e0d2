// SPDX-License-Identifier: Apache-2.0

package proxy_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anthropics/anthropic-sdk-go/v2"
	aoption "github.com/anthropics/anthropic-sdk-go/v2/option"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/fakeprovider"
)

// tenantGoogle is a well-formed Gemini key (39 characters).
const tenantGoogle = "AIzaTenantGGGGGGGGGGGGGGGGGGGGGGGGGGGGG"

// observer is the proxy's metrics sink in tests; it keeps the scrub
// counts.
type observer struct {
	mu     sync.Mutex
	scrubs map[string]int // "provider/where"
}

func (o *observer) ObserveCall(keygate.UsageEvent, time.Duration) {}
func (o *observer) ObserveGatewayError(string, string)            {}
func (o *observer) ObserveRejection(string, string)               {}
func (o *observer) ObserveScrubs(provider, where string, n int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.scrubs == nil {
		o.scrubs = map[string]int{}
	}
	o.scrubs[provider+"/"+where] += n
}

// take returns the scrub counts so far and forgets them.
func (o *observer) take() map[string]int {
	o.mu.Lock()
	defer o.mu.Unlock()
	m := o.scrubs
	o.scrubs = nil
	return m
}

// assertNoKey fails if text holds any of keys in any form the fake echoes.
func assertNoKey(tb testing.TB, where, text string, keys ...string) {
	tb.Helper()
	for _, k := range keys {
		for name, f := range fakeprovider.EchoForms(k) {
			if strings.Contains(text, f) {
				tb.Errorf("%s holds the key %s...: its %s form", where, k[:8], name)
			}
		}
	}
}

// rawCall sends a request and returns everything the caller received:
// status, headers, body and trailers, as one text.
func rawCall(tb testing.TB, method, url, body string, hdr map[string]string) (int, string) {
	tb.Helper()
	req, _ := http.NewRequestWithContext(context.Background(), method, url, strings.NewReader(body))
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	if resp.ContentLength >= 0 && int64(len(b)) != resp.ContentLength {
		tb.Errorf("Content-Length %d, body %d bytes", resp.ContentLength, len(b))
	}
	return resp.StatusCode, fmt.Sprintf("%d\n%v\n%s\n%v", resp.StatusCode, resp.Header, b, resp.Trailer)
}

// TestEchoedKeyIsScrubbed: a provider that reflects the key it received
// (in headers, a trailer, an error, a stream split inside the key, a model
// list; in clear, base64 and URL-encoded) never gets it to the caller, on
// any route, whether the key is the tenant's, the platform's or the
// request's; the scrubs are counted and usage is still metered.
func TestEchoedKeyIsScrubbed(t *testing.T) {
	g := MustGateway(t)
	tn, tok := g.MustTenant(t, "acme", true)
	g.MustKey(t, tn, "openai", tenantOpenAI)
	g.MustKey(t, tn, "anthropic", tenantAnthropic)
	g.MustKey(t, tn, "exa", tenantExa)
	g.MustKey(t, tn, "google", tenantGoogle)
	g.MustKey(t, keygate.PlatformScope, "openai", platformOpenAI)
	g.MustKey(t, keygate.PlatformScope, "anthropic", platformAnthropic)
	// A tenant without keys of its own is served with the platform's.
	_, tokP := g.MustTenant(t, "small", false)
	all := []string{tenantOpenAI, tenantAnthropic, tenantExa, tenantGoogle, platformOpenAI, platformAnthropic, requestOpenAI}
	echo := func(modes string) map[string]string {
		h := bearer(tok)
		h[fakeprovider.EchoHeader] = modes
		return h
	}
	stream := `{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"one two three"}]}`

	tests := []struct {
		name       string
		method     string
		path, body string
		hdr        map[string]string
		status     int
		key        string // the key the provider saw and echoed
		want       []string
	}{
		{"ChatBodyAndHeaders", "POST", "/v1/chat/completions", chatBody, echo("header,body"), 200, tenantOpenAI, []string{"openai/header", "openai/body"}},
		{"ChatStream", "POST", "/v1/chat/completions", stream, echo("header,body"), 200, tenantOpenAI, []string{"openai/header", "openai/body"}},
		{"ChatError", "POST", "/v1/chat/completions", chatBody, echo("error"), 400, tenantOpenAI, []string{"openai/body"}},
		{"Responses", "POST", "/v1/responses", `{"model":"gpt-4o","input":"hi"}`, echo("header"), 200, tenantOpenAI, []string{"openai/header"}},
		{"Messages", "POST", "/v1/messages", `{"model":"claude-sonnet-4-5","max_tokens":50,"stream":true,"messages":[{"role":"user","content":"hi"}]}`, echo("header,body"), 200, tenantAnthropic, []string{"anthropic/header", "anthropic/body"}},
		{"MessagesError", "POST", "/v1/messages", `{"model":"claude-sonnet-4-5","max_tokens":50,"messages":[]}`, echo("error"), 400, tenantAnthropic, []string{"anthropic/body"}},
		{"PassthroughEcho", "POST", "/exa/anything?x=1", `{"q":"x"}`, echo("header,body"), 200, tenantExa, []string{"exa/header", "exa/body"}},
		{"PassthroughStream", "POST", "/openai/v1/chat/completions", stream, echo("body"), 200, tenantOpenAI, []string{"openai/body"}},
		{"PassthroughGeminiStream", "POST", "/google/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", `{"contents":[{"parts":[{"text":"hi"}]}]}`, echo("header,body"), 200, tenantGoogle, []string{"google/header", "google/body"}},
		{"PlatformKey", "POST", "/v1/chat/completions", stream, map[string]string{"Authorization": "Bearer " + tokP, fakeprovider.EchoHeader: "all"}, 400, platformOpenAI, []string{"openai/header", "openai/body"}},
		{"PlatformKeyStream", "POST", "/v1/chat/completions", stream, map[string]string{"Authorization": "Bearer " + tokP, fakeprovider.EchoHeader: "header,body"}, 200, platformOpenAI, []string{"openai/header", "openai/body"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g.obs.take()
			status, got := rawCall(t, tc.method, g.URL+tc.path, tc.body, tc.hdr)
			if status != tc.status {
				t.Errorf("status %d, want %d: %s", status, tc.status, got)
			}
			if k := g.lastKey(t); k != tc.key {
				t.Fatalf("the provider saw %q, want %q", k, tc.key)
			}
			assertNoKey(t, "the answer", got, all...)
			if !strings.Contains(got, "[redacted") {
				t.Errorf("the answer shows no marker where the key was: %s", got)
			}
			counts := g.obs.take()
			for _, w := range tc.want {
				if counts[w] == 0 {
					t.Errorf("no scrub counted for %s: %v", w, counts)
				}
			}
		})
	}

	t.Run("Fallback", func(t *testing.T) {
		// The tenant's key is refused with a 401 that quotes it; the
		// platform key's answer, relayed, quotes the platform key.
		g.MustPolicy(t, tn, keygate.Policy{Mode: keygate.ModeTenantThenPlatform, FallbackOnError: true})
		g.fake.Revoke(tenantOpenAI)
		defer g.fake.Reset()
		status, got := rawCall(t, "POST", g.URL+"/v1/chat/completions", stream, echo("header,body"))
		if status != 200 || g.lastKey(t) != platformOpenAI || !strings.Contains(got, "X-Keygate-Key-Source:[platform]") {
			t.Fatalf("no fallback: %s", got)
		}
		assertNoKey(t, "the answer", got, all...)
		g.waitBackground(t) // the tenant key's health turned red
		g.MustPolicy(t, tn, keygate.DefaultPolicy())
	})
	t.Run("RequestKey", func(t *testing.T) {
		g.MustPolicy(t, tn, keygate.Policy{Mode: keygate.ModeTenantThenPlatform, AllowRequestKeys: true})
		defer g.MustPolicy(t, tn, keygate.DefaultPolicy())
		h := echo("all")
		h["X-Provider-Key"] = requestOpenAI
		status, got := rawCall(t, "POST", g.URL+"/v1/chat/completions", chatBody, h)
		if status != 400 || g.lastKey(t) != requestOpenAI {
			t.Fatalf("status %d, key %s", status, g.lastKey(t))
		}
		assertNoKey(t, "the answer", got, all...)
	})
	t.Run("Trailer", func(t *testing.T) {
		req, _ := http.NewRequest("POST", g.URL+"/v1/chat/completions", strings.NewReader(stream))
		for k, v := range echo("header") {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		tr := resp.Trailer.Get(fakeprovider.EchoTrailer)
		if !strings.HasPrefix(tr, "You sent") {
			t.Fatalf("trailer %q: the echo did not reach the caller, so the test proves nothing", tr)
		}
		assertNoKey(t, "the trailer", tr, all...)
	})
}

// TestEchoedKeyIsScrubbedSDK drives the same through the official SDKs: a
// streamed chat and a streamed message whose text quotes the key (split
// across chunks), and the model list, in which the provider lists the key
// as a model id. The SDKs still decode everything, and usage is metered.
func TestEchoedKeyIsScrubbedSDK(t *testing.T) {
	g := MustGateway(t)
	tn, tok := g.MustTenant(t, "acme", true)
	g.MustKey(t, tn, "openai", tenantOpenAI)
	g.MustKey(t, tn, "anthropic", tenantAnthropic)
	g.MustKey(t, keygate.PlatformScope, "anthropic", platformAnthropic)
	keys := []string{tenantOpenAI, tenantAnthropic, platformAnthropic}
	ctx := context.Background()
	echo := option.WithHeader(fakeprovider.EchoHeader, "header,body")

	t.Run("OpenAIStream", func(t *testing.T) {
		g.obs.take()
		c := openAIClient(g, tok)
		var resp *http.Response
		s := c.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{
			Model:         "gpt-4o",
			Messages:      []openai.ChatCompletionMessageParamUnion{openai.UserMessage("one two three")},
			StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
		}, echo, option.WithResponseInto(&resp))
		var acc openai.ChatCompletionAccumulator
		var raw strings.Builder
		for s.Next() {
			acc.AddChunk(s.Current())
			raw.WriteString(s.Current().RawJSON())
		}
		if err := s.Err(); err != nil {
			t.Fatal(err)
		}
		text := acc.Choices[0].Message.Content
		if !strings.HasPrefix(text, "You sent") || acc.Usage.TotalTokens == 0 {
			t.Fatalf("content %q usage %+v: the echo did not come through", text, acc.Usage)
		}
		assertNoKey(t, "the streamed text", text+raw.String()+fmt.Sprint(resp.Header), keys...)
		if n := g.obs.take()["openai/body"]; n < len(fakeprovider.EchoForms(tenantOpenAI)) {
			t.Errorf("%d body scrubs counted, want one per form at least", n)
		}
		ev := MustEvents(t, g, 1)
		if last := ev[len(ev)-1]; last.OutputTokens == 0 || last.InputTokens == 0 {
			t.Errorf("usage not metered: %+v", last)
		}
	})
	t.Run("AnthropicStream", func(t *testing.T) {
		c := anthropicClient(g, tok)
		s := c.Messages.NewStreaming(ctx, anthropic.MessageNewParams{
			Model:     "claude-sonnet-4-5",
			MaxTokens: 100,
			Messages:  []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("hi"))},
		}, aoption.WithHeader(fakeprovider.EchoHeader, "body"))
		var msg anthropic.Message
		for s.Next() {
			if err := msg.Accumulate(s.Current()); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Err(); err != nil {
			t.Fatal(err)
		}
		text := msg.Content[0].Text
		if !strings.HasPrefix(text, "You sent") || msg.Usage.OutputTokens == 0 {
			t.Fatalf("message %q, usage %+v", text, msg.Usage)
		}
		assertNoKey(t, "the message", text, keys...)
	})
	t.Run("Models", func(t *testing.T) {
		g.obs.take()
		g.fake.SetEcho("", fakeprovider.Echo{Body: true})
		defer g.fake.SetEcho("", fakeprovider.Echo{})
		c := openAIClient(g, tok)
		page, err := c.Models.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, m := range page.Data {
			ids = append(ids, m.ID+" "+m.OwnedBy)
		}
		if len(ids) < 8 {
			t.Fatalf("ids %v: the echoed ids are missing", ids)
		}
		assertNoKey(t, "the model list", strings.Join(ids, "\n")+page.RawJSON(), keys...)
		counts := g.obs.take()
		if counts["openai/body"] == 0 || counts["anthropic/body"] == 0 {
			t.Errorf("scrubs %v: want the openai and anthropic lists counted", counts)
		}
	})
}

// TestEncodedAnswerRefused: keygate reads every answer decoded (the
// caller's Accept-Encoding is never forwarded, on any route, and the
// transport decodes what it asked for itself), so a body the provider
// encoded unasked, where an echoed key could hide, is refused with a 502,
// never relayed.
func TestEncodedAnswerRefused(t *testing.T) {
	g := MustGateway(t)
	tn, tok := g.MustTenant(t, "acme", true)
	g.MustKey(t, tn, "exa", tenantExa)
	g.MustKey(t, tn, "openai", tenantOpenAI)
	for _, path := range []string{"/exa/anything", "/v1/chat/completions", "/openai/v1/chat/completions"} {
		t.Run(strings.ReplaceAll(path, "/", "_"), func(t *testing.T) {
			h := bearer(tok)
			h["Accept-Encoding"] = "br"
			status, got := rawCall(t, "POST", g.URL+path, chatBody, h)
			if status != 200 || strings.Contains(got, "Content-Encoding") {
				t.Fatalf("a plain answer: %s", got)
			}
			if r, _ := g.fake.LastRequest(); strings.Contains(r.Header.Get("Accept-Encoding"), "br") {
				t.Errorf("the caller's Accept-Encoding reached the provider: %q", r.Header.Get("Accept-Encoding"))
			}
			h[fakeprovider.FaultHeader] = "encoding=br"
			h[fakeprovider.EchoHeader] = "body"
			status, got = rawCall(t, "POST", g.URL+path, chatBody, h)
			if status != http.StatusBadGateway {
				t.Errorf("an answer in an encoding keygate did not ask for: %d, want 502", status)
			}
			assertNoKey(t, "the answer", got, tenantExa, tenantOpenAI)
		})
	}
}

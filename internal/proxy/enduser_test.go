// SPDX-License-Identifier: Apache-2.0

package proxy_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/openai/openai-go/v3"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/inmem"
	"github.com/keygate/keygate/internal/proxy"
	"github.com/keygate/keygate/internal/quota"
)

// TestEndUserRecorded: the end user a call names, by the OpenAI SDK's user,
// the Anthropic SDK's metadata.user_id or the X-Keygate-User header (on
// every route, passthrough included), is in its usage event; the body
// reaches the provider as sent and the header never does.
func TestEndUserRecorded(t *testing.T) {
	g := MustGateway(t)
	tn, tok := g.MustTenant(t, "acme", true)
	g.MustKey(t, tn, "openai", tenantOpenAI)
	g.MustKey(t, tn, "anthropic", tenantAnthropic)
	ctx := context.Background()
	oc, ac := openAIClient(g, tok), anthropicClient(g, tok)
	var want []string
	check := func(t *testing.T, user string) {
		t.Helper()
		want = append(want, user)
		r, _ := g.fake.LastRequest()
		if v, ok := r.Header[http.CanonicalHeaderKey("X-Keygate-User")]; ok {
			t.Errorf("the provider got X-Keygate-User %q", v)
		}
	}

	t.Run("OpenAISDKUser", func(t *testing.T) {
		if _, err := oc.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
			Model:    "gpt-4o",
			Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")},
			User:     openai.String("alice@example.com"),
		}); err != nil {
			t.Fatal(err)
		}
		check(t, "alice@example.com")
		if r, _ := g.fake.LastRequest(); !strings.Contains(string(r.Body), `"user":"alice@example.com"`) {
			t.Errorf("the provider got %s, without the caller's user", r.Body)
		}
	})
	t.Run("OpenAISDKEmbeddingsUser", func(t *testing.T) {
		if _, err := oc.Embeddings.New(ctx, openai.EmbeddingNewParams{
			Model: "text-embedding-3-small",
			Input: openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: []string{"a b"}},
			User:  openai.String("org:7+bob"),
		}); err != nil {
			t.Fatal(err)
		}
		check(t, "org:7+bob")
	})
	t.Run("AnthropicSDKMetadataUserID", func(t *testing.T) {
		if _, err := ac.Messages.New(ctx, anthropic.MessageNewParams{
			Model:     "claude-sonnet-4-5",
			MaxTokens: 10,
			Messages:  []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("hi"))},
			Metadata:  anthropic.MetadataParam{UserID: anthropic.String("u_42")},
		}); err != nil {
			t.Fatal(err)
		}
		check(t, "u_42")
	})
	t.Run("Header", func(t *testing.T) {
		hdr := bearer(tok)
		hdr["X-Keygate-User"] = "carol.c"
		if st, _, b := do(t, "POST", g.URL+"/v1/chat/completions", chatBody, hdr); st != 200 {
			t.Fatalf("%d %s", st, b)
		}
		check(t, "carol.c")
	})
	t.Run("HeaderAndSameBodyUser", func(t *testing.T) {
		hdr := bearer(tok)
		hdr["X-Keygate-User"] = "dave"
		if st, _, b := do(t, "POST", g.URL+"/v1/chat/completions", `{"model":"gpt-4o","user":"dave","messages":[]}`, hdr); st != 200 {
			t.Fatalf("%d %s", st, b)
		}
		check(t, "dave")
	})
	t.Run("HeaderOnPassthrough", func(t *testing.T) {
		hdr := bearer(tok)
		hdr["X-Keygate-User"] = "erin"
		if st, _, b := do(t, "POST", g.URL+"/openai/v1/chat/completions", chatBody, hdr); st != 200 {
			t.Fatalf("%d %s", st, b)
		}
		check(t, "erin")
	})
	t.Run("NoUser", func(t *testing.T) {
		if st, _, b := do(t, "POST", g.URL+"/v1/chat/completions", `{"model":"gpt-4o","user":"","messages":[]}`, bearer(tok)); st != 200 {
			t.Fatalf("%d %s", st, b)
		}
		check(t, "")
	})

	evs := MustEvents(t, g, len(want))
	var got []string
	for _, ev := range evs {
		got = append(got, ev.EndUser)
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("end users recorded %q, want %q", got, want)
	}
}

// TestEndUserRefused: an end user keygate may not record (wrong length or
// characters, a credential's shape, two headers, or a header and a body
// that disagree) is a 400 invalid_request that says where it came from,
// never echoes the value, and reaches no provider.
func TestEndUserRefused(t *testing.T) {
	g := MustGateway(t)
	tn, tok := g.MustTenant(t, "acme", true)
	g.MustKey(t, tn, "openai", tenantOpenAI)
	g.MustKey(t, tn, "anthropic", tenantAnthropic)
	long := strings.Repeat("u", keygate.MaxEndUserLen+1)
	tests := []struct {
		name, path, body string
		header           []string // X-Keygate-User values
		secret           string   // the value that must not be echoed
		where            string
	}{
		{"BodyTooLong", "/v1/chat/completions", `{"model":"gpt-4o","user":"` + long + `"}`, nil, long, "the body's user"},
		{"BodySpace", "/v1/chat/completions", `{"model":"gpt-4o","user":"ann smith"}`, nil, "ann smith", "the body's user"},
		{"BodyKey", "/v1/chat/completions", `{"model":"gpt-4o","user":"` + otherOpenAI + `"}`, nil, otherOpenAI, "the body's user"},
		{"BodyUUID", "/v1/embeddings", `{"model":"text-embedding-3-small","input":"x","user":"3f1c9a0e-8d4b-4f61-9b7a-2c5e1d0f7a93"}`, nil, "3f1c9a0e", "the body's user"},
		{"MetadataKey", "/v1/messages", `{"model":"claude-sonnet-4-5","max_tokens":5,"metadata":{"user_id":"` + tenantAnthropic + `"}}`, nil, tenantAnthropic, "metadata.user_id"},
		{"MetadataNonASCII", "/v1/messages", `{"model":"claude-sonnet-4-5","max_tokens":5,"metadata":{"user_id":"jos\u00e9"}}`, nil, "jos", "metadata.user_id"},
		{"HeaderKey", "/v1/chat/completions", chatBody, []string{"kg_" + strings.Repeat("x", 40)}, "kg_xxxx", "X-Keygate-User header"},
		{"HeaderSlash", "/openai/v1/models", ``, []string{"a/b"}, "a/b", "X-Keygate-User header"},
		{"HeaderTwice", "/v1/chat/completions", chatBody, []string{"a", "b"}, "", "2 X-Keygate-User headers"},
		{"HeaderAndBodyDiffer", "/v1/chat/completions", `{"model":"gpt-4o","user":"bob"}`, []string{"alice"}, "alice", "name different end users"},
		{"UserTwice", "/v1/chat/completions", `{"model":"gpt-4o","user":"a","user":"b"}`, nil, "", "user more than once"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g.fake.Reset()
			req, err := http.NewRequest("POST", g.URL+tc.path, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+tok)
			for _, v := range tc.header {
				req.Header.Add("X-Keygate-User", v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var e struct {
				Error struct{ Code, Message string }
			}
			if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != 400 || e.Error.Code != keygate.CodeInvalidRequest || !strings.Contains(e.Error.Message, tc.where) {
				t.Errorf("%d %+v; want 400 invalid_request naming %q", resp.StatusCode, e.Error, tc.where)
			}
			if tc.secret != "" && strings.Contains(e.Error.Message, tc.secret) {
				t.Errorf("the refusal echoes the value: %q", e.Error.Message)
			}
			if n := len(g.fake.Requests()); n != 0 {
				t.Errorf("the provider got %d requests", n)
			}
		})
	}
}

// fakeClock is a settable clock for the quota service.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.now = t }

// TestPerUserDailyLimit: a tenant's hard per-user daily limit stops end user
// A (429 budget_exceeded naming the per-user limit, with Retry-After until
// UTC midnight) while user B of the same tenant, and calls naming no user,
// keep working; A works again the next day.
func TestPerUserDailyLimit(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 3, 2, 18, 0, 0, 0, time.UTC)}
	g := MustGatewayWith(t, inmem.NewCounter(), func(d *proxy.Deps) {
		d.Quota = quota.New(inmem.NewCounter(), quota.Options{Now: clock.Now})
	})
	tn, tok := g.MustTenant(t, "acme", true)
	g.MustKey(t, keygate.PlatformScope, "openai", platformOpenAI)
	ctx := context.Background()
	// Each call reserves about 25 tokens (its body and max_tokens) and
	// settles at what the fake provider reports (6): about ten fit in 80.
	if _, err := g.store.PutBudget(ctx, keygate.Budget{Tenant: tn, Hard: true, PerUserDailyTokens: ptr(80)},
		keygate.AuditEvent{Action: keygate.ActionBudgetUpdated, Tenant: tn}); err != nil {
		t.Fatal(err)
	}
	call := func(user string) (int, http.Header, []byte) {
		hdr := bearer(tok)
		if user != "" {
			hdr["X-Keygate-User"] = user
		}
		return do(t, "POST", g.URL+"/v1/chat/completions", `{"model":"gpt-4o","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`, hdr)
	}
	ok := 0
	var refusal []byte
	var retry string
	for range 40 {
		st, hdr, b := call("alice")
		if st == 429 {
			refusal, retry = b, hdr.Get("Retry-After")
			break
		}
		if st != 200 {
			t.Fatalf("alice: %d %s", st, b)
		}
		ok++
		MustEvents(t, g, ok) // settled before the next call is admitted
	}
	if ok == 0 || refusal == nil {
		t.Fatalf("alice: %d calls admitted, refused %s: the per-user limit did not bite", ok, refusal)
	}
	var e struct {
		Error struct{ Code, Message string }
	}
	_ = json.Unmarshal(refusal, &e)
	if e.Error.Code != keygate.CodeBudgetExceeded || !strings.Contains(e.Error.Message, "per-user daily token limit") || strings.Contains(e.Error.Message, "alice") {
		t.Errorf("refusal %s: want budget_exceeded naming the per-user limit, not the user", refusal)
	}
	if retry != strconv.Itoa(6*3600) {
		t.Errorf("Retry-After %q, want until midnight (21600)", retry)
	}
	if st, _, b := call("bob"); st != 200 {
		t.Errorf("bob, same tenant, after alice's limit: %d %s", st, b)
	}
	if st, _, b := call(""); st != 200 {
		t.Errorf("a call naming no end user: %d %s", st, b)
	}
	if st, _, _ := call("alice"); st != 429 {
		t.Errorf("alice again: %d, want 429", st)
	}
	clock.Set(time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC))
	if st, _, b := call("alice"); st != 200 {
		t.Errorf("alice the next day: %d %s", st, b)
	}
}

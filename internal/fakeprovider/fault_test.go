// SPDX-License-Identifier: Apache-2.0

package fakeprovider_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/openai/openai-go/v3"

	"github.com/keygate/keygate/internal/fakeprovider"
	"github.com/keygate/keygate/internal/provider"
)

// probeBody returns the decoded probe body of p, or nil.
func probeBody(tb testing.TB, p provider.Provider) any {
	tb.Helper()
	if p.Probe.Body == "" {
		return nil
	}
	var v any
	if err := json.Unmarshal([]byte(p.Probe.Body), &v); err != nil {
		tb.Fatal(err)
	}
	return v
}

func TestAuthEveryProvider(t *testing.T) {
	cat, err := provider.Default()
	if err != nil {
		t.Fatal(err)
	}
	s := MustStart(t)
	s.Revoke("sk-revoked-000000000000000000000")
	for _, p := range cat.Providers() {
		t.Run(p.Name, func(t *testing.T) {
			key := testKeys[p.Name]
			if key == "" {
				t.Fatalf("no test key for %s: add one to testKeys", p.Name)
			}
			status, _, _ := MustDo(t, s, p, p.Probe.Method, p.Probe.Path, key, probeBody(t, p), nil)
			if status != p.Probe.SuccessStatus {
				t.Fatalf("probe with a good key: status %d, want %d", status, p.Probe.SuccessStatus)
			}
			r, _ := s.LastRequest()
			if !r.Key.Equal(mustSecret(key)) || r.Header.Get(p.Auth.Header) == "" {
				t.Errorf("recorded key matches %v, header %s present %v", r.Key.Equal(mustSecret(key)), p.Auth.Header, r.Header.Get(p.Auth.Header) != "")
			}
			for _, tc := range []struct{ name, key string }{
				{"missing", ""},
				{"revoked", "sk-revoked-000000000000000000000"},
			} {
				status, _, body := MustDo(t, s, p, p.Probe.Method, p.Probe.Path, tc.key, probeBody(t, p), nil)
				if status != http.StatusUnauthorized || body == nil {
					t.Errorf("%s key: status %d body %v, want 401 with a JSON error", tc.name, status, body)
				}
				r, _ := s.LastRequest()
				if r.Authorized || r.Status != http.StatusUnauthorized {
					t.Errorf("%s key recorded as authorized %v status %d", tc.name, r.Authorized, r.Status)
				}
			}
		})
	}
}

func TestAcceptOnly(t *testing.T) {
	s := MustStart(t)
	s.Accept(testKeys["openai"])
	p := MustLookup(t, "openai")
	if st, _, _ := MustDo(t, s, p, "GET", "/v1/models", testKeys["openai"], nil, nil); st != 200 {
		t.Errorf("accepted key: %d", st)
	}
	if st, _, _ := MustDo(t, s, p, "GET", "/v1/models", "sk-other-00000000000000000000", nil, nil); st != 401 {
		t.Errorf("other key: %d, want 401", st)
	}
}

func TestErrorShapes(t *testing.T) {
	s := MustStart(t)
	s.Revoke("bad-key-0000000000000000000000000")
	tests := []struct {
		provider, path string
		want           string // a JSON path that must be present
	}{
		{"openai", "/v1/models", "error.code"},
		{"anthropic", "/v1/models", "error.type"},
		{"google", "/v1beta/models", "error.status"},
		{"deepgram", "/v1/projects", "err_code"},
		{"elevenlabs", "/v1/models", "detail.status"},
	}
	for _, tc := range tests {
		t.Run(tc.provider, func(t *testing.T) {
			_, _, body := MustDo(t, s, MustLookup(t, tc.provider), "GET", tc.path, "bad-key-0000000000000000000000000", nil, nil)
			var v any = body
			for _, k := range strings.Split(tc.want, ".") {
				m, _ := v.(map[string]any)
				v = m[k]
			}
			if v == nil {
				t.Errorf("no %s in %v", tc.want, body)
			}
		})
	}
}

func TestFault429ThenRecovers(t *testing.T) {
	s := MustStart(t)
	s.SetFault("openai", fakeprovider.Fault{Status: http.StatusTooManyRequests, RetryAfter: "7", Times: 1})
	c := openAIClient(t, s, "openai")
	_, err := c.Models.List(context.Background())
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) {
		t.Fatalf("err = %v, want *openai.Error", err)
	}
	if apiErr.StatusCode != 429 || apiErr.Response.Header.Get("Retry-After") != "7" {
		t.Errorf("status %d Retry-After %q, want 429 and 7", apiErr.StatusCode, apiErr.Response.Header.Get("Retry-After"))
	}
	if _, err := c.Models.List(context.Background()); err != nil {
		t.Errorf("second call (fault used up): %v", err)
	}
}

func TestFaultHeader(t *testing.T) {
	tests := []struct {
		name, header string
		want         int
	}{
		{"500", "status=500", 500},
		{"529 anthropic style", "status=529", 529},
		{"delay then ok", "delay=1ms", 200},
		{"malformed", "status", 400},
		{"unknown key", "explode=1", 400},
	}
	s := MustStart(t)
	p := MustLookup(t, "anthropic")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, _, _ := MustDo(t, s, p, "GET", "/v1/models", testKeys["anthropic"], nil, http.Header{fakeprovider.FaultHeader: {tc.header}})
			if status != tc.want {
				t.Errorf("status %d, want %d", status, tc.want)
			}
		})
	}
}

func TestFaultCatalogWide(t *testing.T) {
	s := MustStart(t)
	s.SetFault("", fakeprovider.Fault{Status: 500})
	s.SetFault("groq", fakeprovider.Fault{Status: 503})
	for name, want := range map[string]int{"openai": 500, "groq": 503} {
		p := MustLookup(t, name)
		if st, _, _ := MustDo(t, s, p, "GET", p.Probe.Path, testKeys[name], nil, nil); st != want {
			t.Errorf("%s: %d, want %d", name, st, want)
		}
	}
	s.SetFault("", fakeprovider.Fault{})
	s.SetFault("groq", fakeprovider.Fault{})
	p := MustLookup(t, "openai")
	if st, _, _ := MustDo(t, s, p, "GET", "/v1/models", testKeys["openai"], nil, nil); st != 200 {
		t.Errorf("after clearing: %d", st)
	}
}

func TestStreamCut(t *testing.T) {
	s := MustStart(t)
	s.SetFault("openai", fakeprovider.Fault{CutAfter: 3})
	c := openAIClient(t, s, "openai")
	stream := c.Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{
		Model:    "gpt-4o",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")},
	})
	n := 0
	for stream.Next() {
		n++
	}
	if stream.Err() == nil {
		t.Error("a cut stream ended without an error")
	}
	if n != 3 {
		t.Errorf("got %d chunks before the cut, want 3", n)
	}
}

// openStream starts a raw streaming chat request and returns after reading
// the first event, with the function that cancels it.
func openStream(t *testing.T, s *fakeprovider.Server) (cancel func(), first string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	body := strings.NewReader(`{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"hi"}]}`)
	req, err := http.NewRequestWithContext(ctx, "POST", s.BaseURL("openai")+"/v1/chat/completions", body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testKeys["openai"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	return cancel, line
}

// waitCanceled waits for the fake to report a cancelled request. The
// timeout only guards against a hang; nothing here measures time.
func waitCanceled(t *testing.T, s *fakeprovider.Server) fakeprovider.Request {
	t.Helper()
	select {
	case r := <-s.Canceled():
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("the fake never saw the cancellation")
		return fakeprovider.Request{}
	}
}

func TestStallThenCancelObserved(t *testing.T) {
	at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	s := MustStart(t, fakeprovider.WithClock(func() time.Time { return at }))
	s.SetFault("openai", fakeprovider.Fault{StallAfter: 2})
	cancel, first := openStream(t, s)
	if !strings.HasPrefix(first, "data: {") {
		t.Fatalf("first line %q", first)
	}
	cancel()
	r := waitCanceled(t, s)
	if diff := cmp.Diff([]any{"/v1/chat/completions", at}, []any{r.Path, r.CanceledAt}); diff != "" {
		t.Errorf("cancelled request (-want +got):\n%s", diff)
	}
	all := s.Requests()
	if len(all) != 1 || all[0].CanceledAt.IsZero() {
		t.Errorf("Requests() does not show the cancellation: %+v", all)
	}
}

func TestDelayCancelObserved(t *testing.T) {
	arrived := make(chan fakeprovider.Request, 1)
	s := MustStart(t, fakeprovider.WithRequestHook(func(r fakeprovider.Request) { arrived <- r }))
	s.SetFault("openai", fakeprovider.Fault{Delay: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	c := openAIClient(t, s, "openai")
	errc := make(chan error, 1)
	go func() {
		_, err := c.Models.List(ctx)
		errc <- err
	}()
	<-arrived // the request is in the fake, held by the delay
	cancel()
	waitCanceled(t, s)
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("client error = %v, want context.Canceled", err)
	}
}

// TestCloseReleasesStalledStream: closing the fake ends a stream that is
// stalled mid-way, without the client going away: the handler returns, the
// response ends cleanly (no more events, no [DONE]), and the fake records
// an answered, not a cancelled, request. The server's Close then returns.
func TestCloseReleasesStalledStream(t *testing.T) {
	s := fakeprovider.NewServer()
	s.SetFault("", fakeprovider.Fault{StallAfter: 1})
	body := strings.NewReader(`{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"hi"}]}`)
	req, err := http.NewRequest("POST", s.BaseURL("openai")+"/v1/chat/completions", body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testKeys["openai"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	if first, err := r.ReadString('\n'); err != nil || !strings.HasPrefix(first, "data: ") {
		t.Fatalf("first line %q, %v; want an event", first, err)
	}
	type rest struct {
		b   []byte
		err error
	}
	ended := make(chan rest, 1)
	go func() {
		b, err := io.ReadAll(r)
		ended <- rest{b, err}
	}()

	s.Fake.Close()
	select {
	case got := <-ended:
		if got.err != nil {
			t.Errorf("the stream ended with %v, want a clean end", got.err)
		}
		if strings.Contains(string(got.b), "data: ") {
			t.Errorf("events after the stall: %q", got.b)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("closing the fake did not release the stalled stream")
	}
	last, ok := s.LastRequest()
	if !ok || last.Status != http.StatusOK || !last.CanceledAt.IsZero() {
		t.Errorf("recorded request: status %d, cancelled at %v; want 200, not cancelled", last.Status, last.CanceledAt)
	}

	closed := make(chan struct{})
	go func() { s.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("the server's Close did not return")
	}
}

func TestEchoAndPrefixes(t *testing.T) {
	s := MustStart(t)
	p := MustLookup(t, "deepgram")
	status, _, body := MustDo(t, s, p, "POST", "/v1/listen?model=nova-3", testKeys["deepgram"], map[string]any{"url": "https://example.com/a.wav"}, nil)
	if status != 200 {
		t.Fatalf("status %d", status)
	}
	want := map[string]any{
		"fake": true, "provider": "deepgram", "method": "POST", "path": "/v1/listen",
		"query": "model=nova-3", "body": map[string]any{"url": "https://example.com/a.wav"}, "body_bytes": float64(35),
	}
	if diff := cmp.Diff(want, body); diff != "" {
		t.Errorf("echo (-want +got):\n%s", diff)
	}
	resp, err := http.Get(s.URL + "/nope/v1/models")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("unknown provider prefix: %d, want 404", resp.StatusCode)
	}
}

func TestBaseURLsFitTheCatalog(t *testing.T) {
	s := MustStart(t)
	cat, err := provider.Default()
	if err != nil {
		t.Fatal(err)
	}
	over, err := cat.WithBaseURLs(s.BaseURLs())
	if err != nil {
		t.Fatal(err)
	}
	p, _ := over.Lookup("openai")
	if p.BaseURL != s.URL+"/openai" {
		t.Errorf("openai base URL %q", p.BaseURL)
	}
	env := s.Env()
	if len(env) != len(cat.Names()) || !strings.HasPrefix(env[0], "KEYGATE_ANTHROPIC_BASE_URL=http://127.0.0.1:") {
		t.Errorf("Env() = %v", env)
	}
}

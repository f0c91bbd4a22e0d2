// SPDX-License-Identifier: Apache-2.0

package fakeprovider_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/keygate/keygate/internal/fakeprovider"
)

// TestEchoReflectsTheKey checks each place echo mode puts the key and its
// encodings, so that tests of keygate's scrubbing rely on a fake that does
// leak.
func TestEchoReflectsTheKey(t *testing.T) {
	s := MustStart(t)
	key := testKeys["openai"]
	forms := fakeprovider.EchoForms(key)
	hasAll := func(t *testing.T, where, text string) {
		t.Helper()
		for name, f := range forms {
			if !strings.Contains(text, f) {
				t.Errorf("%s lacks the key's %s form", where, name)
			}
		}
	}
	do := func(t *testing.T, echo, path, body string) (*http.Response, []string) {
		t.Helper()
		method := http.MethodGet
		if body != "" {
			method = http.MethodPost
		}
		req, _ := http.NewRequestWithContext(context.Background(), method, s.BaseURL("openai")+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		if echo != "" {
			req.Header.Set(fakeprovider.EchoHeader, echo)
		}
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, []string{string(b)}
	}

	t.Run("Header", func(t *testing.T) {
		resp, _ := do(t, "header", "/v1/chat/completions", `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`)
		if resp.Header.Get("X-Echo-Key") != key || resp.Header.Get("X-Echo-Key-Base64") != forms["base64"] {
			t.Errorf("headers %v do not echo the key", resp.Header)
		}
		hasAll(t, "the trailer", resp.Trailer.Get(fakeprovider.EchoTrailer))
	})
	t.Run("Stream", func(t *testing.T) {
		resp, chunks := do(t, "body", "/v1/chat/completions", `{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"hi"}]}`)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d", resp.StatusCode)
		}
		whole := strings.Join(chunks, "")
		hasAll(t, "the stream", whole)
		if resp.Header.Get("X-Echo-Key") != "" {
			t.Error("body echo also echoed headers")
		}
	})
	t.Run("Error", func(t *testing.T) {
		resp, chunks := do(t, "error", "/v1/chat/completions", `{"model":"gpt-4o","messages":[]}`)
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("status %d, want 400", resp.StatusCode)
		}
		hasAll(t, "the error", strings.Join(chunks, ""))
	})
	t.Run("ModelsBySetEcho", func(t *testing.T) {
		s.Fake.SetEcho("openai", fakeprovider.Echo{Body: true})
		defer s.Fake.SetEcho("openai", fakeprovider.Echo{})
		_, chunks := do(t, "", "/v1/models", "")
		if whole := strings.Join(chunks, ""); !strings.Contains(whole, `"id":"`+key+`"`) {
			t.Errorf("the model list %s has no id that is the key", whole)
		}
	})
	t.Run("Off", func(t *testing.T) {
		_, chunks := do(t, "", "/v1/chat/completions", `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`)
		if strings.Contains(strings.Join(chunks, ""), key) {
			t.Error("the key was echoed with echo mode off")
		}
	})
}

// SPDX-License-Identifier: Apache-2.0

package fakeprovider_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/keygate/keygate/internal/fakeprovider"
	"github.com/keygate/keygate/internal/provider"
)

// Test keys: well formed for their provider, never real.
var testKeys = map[string]string{
	"openai":     "sk-proj-fakeTESTkey0000000000000001",
	"anthropic":  "sk-ant-api03-fakeTESTkey000000000000000000000001",
	"google":     "AIzaFAKEtestKEY000000000000000000000001",
	"mistral":    "fakeTESTkey000000000000000000000001",
	"openrouter": "sk-or-v1-fakeTESTkey00000000000000001",
	"groq":       "gsk_fakeTESTkey000000000000000000001",
	"exa":        "fake-test-key-0000-0000-000000000001",
	"deepgram":   "fakeTESTkey000000000000000000000000000001",
	"elevenlabs": "sk_fakeTESTkey000000000000000000000001",
}

// MustStart starts a fake for the test.
func MustStart(tb testing.TB, opts ...fakeprovider.Option) *fakeprovider.Server {
	tb.Helper()
	return fakeprovider.Start(tb, opts...)
}

// MustLookup returns a provider of the default catalog.
func MustLookup(tb testing.TB, name string) provider.Provider {
	tb.Helper()
	c, err := provider.Default()
	if err != nil {
		tb.Fatal(err)
	}
	p, ok := c.Lookup(name)
	if !ok {
		tb.Fatalf("no provider %q", name)
	}
	return p
}

// MustDo sends a raw request to the fake for provider p with key (none when
// empty) and returns the status, headers and decoded JSON body.
func MustDo(tb testing.TB, s *fakeprovider.Server, p provider.Provider, method, path, key string, body any, hdr http.Header) (int, http.Header, map[string]any) {
	tb.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			tb.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, s.BaseURL(p.Name)+path, rd)
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		req.Header[k] = v
	}
	if key != "" {
		p.SetAuth(req.Header, mustSecret(key))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("read %s %s: %v", method, path, err)
	}
	var out map[string]any
	if len(raw) > 0 && raw[0] == '{' {
		if err := json.Unmarshal(raw, &out); err != nil {
			tb.Fatalf("decode %s %s: %v\n%s", method, path, err, raw)
		}
	}
	return resp.StatusCode, resp.Header, out
}

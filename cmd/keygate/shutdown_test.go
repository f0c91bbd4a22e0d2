// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/fakeprovider"
)

// TestServeDrainsOnShutdown: a stream in flight when the server is told to
// stop (SIGTERM cancels run's context) is served to the end; run then
// returns without error.
func TestServeDrainsOnShutdown(t *testing.T) {
	fake := fakeprovider.Start(t)
	env := fakeProviderEnv(fake)
	s := MustServe(t, t.TempDir(), env, "--shutdown-timeout", "10s")
	ctx := context.Background()
	c := s.MustTenant(t, "acme")
	if _, err := c.PutKey(ctx, "acme", "openai", keygate.NewSecret("sk-drainTestKey0000000000000000")); err != nil {
		t.Fatal(err)
	}
	tok, err := c.CreateGatewayToken(ctx, "acme", "app")
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", s.URL+"/v1/chat/completions", strings.NewReader(`{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"a b c d e"}]}`))
	req.Header.Set("Authorization", "Bearer "+tok.Token.Reveal())
	req.Header.Set(fakeprovider.FaultHeader, "delay=300ms")
	type answer struct {
		status int
		body   string
		err    error
	}
	done := make(chan answer, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- answer{err: err}
			return
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		done <- answer{resp.StatusCode, string(b), err}
	}()
	waitFor(t, "the call reaches the provider", func() bool { return len(fake.Requests()) > 0 })
	stopped := make(chan struct{})
	go func() { s.Stop(t); close(stopped) }()
	select {
	case a := <-done:
		if a.err != nil || a.status != 200 || !strings.Contains(a.body, "[DONE]") {
			t.Fatalf("in-flight stream during shutdown: %d %v complete=%v", a.status, a.err, strings.Contains(a.body, "[DONE]"))
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the in-flight call did not finish")
	}
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("the server did not stop after draining")
	}
	if _, err := http.Get(s.URL + "/healthz"); err == nil {
		t.Error("the server still accepts connections after shutdown")
	}
}

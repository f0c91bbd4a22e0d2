// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/keygate/keygate/internal/provider"
)

// devRun is a `keygate dev fake-provider` running in the background.
type devRun struct {
	env    map[string]string // KEYGATE_<PROVIDER>_BASE_URL → URL
	lines  []string
	cancel context.CancelFunc
	done   chan error
}

// MustStartDev runs `keygate dev fake-provider --addr 127.0.0.1:0 args...`
// until the test ends, and returns once it has printed its environment.
func MustStartDev(tb testing.TB, args ...string) *devRun {
	tb.Helper()
	names, err := provider.Default()
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	d := &devRun{env: map[string]string{}, cancel: cancel, done: make(chan error, 1)}
	c := &cli{getenv: func(string) string { return "" }, stdin: strings.NewReader(""), stdout: pw, stderr: io.Discard, now: fakeNow}
	go func() {
		err := c.run(ctx, append([]string{"dev", "fake-provider", "--addr", "127.0.0.1:0"}, args...))
		pw.CloseWithError(io.EOF)
		d.done <- err
	}()
	tb.Cleanup(func() { d.stop(tb) })
	sc := bufio.NewScanner(pr)
	for len(d.lines) < len(names.Names()) && sc.Scan() {
		line := sc.Text()
		d.lines = append(d.lines, line)
		k, v, _ := strings.Cut(line, "=")
		d.env[k] = v
	}
	if len(d.lines) < len(names.Names()) {
		tb.Fatalf("dev fake-provider printed %q, then stopped: %v", d.lines, <-d.done)
	}
	// Keep draining, so a later write cannot block the command.
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	return d
}

// stop cancels the command (SIGINT) and returns what it returned.
func (d *devRun) stop(tb testing.TB) error {
	tb.Helper()
	d.cancel()
	select {
	case err, ok := <-d.done:
		if ok {
			close(d.done)
		}
		return err
	case <-time.After(time.Minute):
		tb.Fatal("dev fake-provider did not stop within a minute of its context ending")
	}
	return nil
}

// mustCall sends one request and returns the status.
func mustCall(tb testing.TB, method, url, header, key, body string) int {
	tb.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(header, key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

func TestDevFakeProvider(t *testing.T) {
	d := MustStartDev(t, "--revoke", "sk-revoked-fake-key-0001", "--revoke=sk-ant-revoked-fake-0002", "--delay", "1ms")

	// One line per provider, sorted, each the fake's root plus /<provider>.
	cat, _ := provider.Default()
	base := strings.TrimSuffix(d.env["KEYGATE_OPENAI_BASE_URL"], "/openai")
	var want []string
	for _, n := range cat.Names() {
		want = append(want, provider.EnvBaseURL(n)+"="+base+"/"+n)
	}
	if diff := cmp.Diff(want, d.lines); diff != "" || !strings.HasPrefix(base, "http://127.0.0.1:") {
		t.Errorf("printed environment (-want +got):\n%s", diff)
	}

	chat := `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`
	msg := `{"model":"claude-3-5-haiku-latest","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}`
	tests := []struct {
		name                       string
		env, path, header, key, in string
		want                       int
	}{
		{"OpenAIOK", "KEYGATE_OPENAI_BASE_URL", "/v1/chat/completions", "Authorization", "Bearer sk-good-fake-key-0003", chat, 200},
		{"OpenAIRevoked", "KEYGATE_OPENAI_BASE_URL", "/v1/chat/completions", "Authorization", "Bearer sk-revoked-fake-key-0001", chat, 401},
		{"AnthropicOK", "KEYGATE_ANTHROPIC_BASE_URL", "/v1/messages", "x-api-key", "sk-ant-good-fake-0004", msg, 200},
		{"AnthropicRevoked", "KEYGATE_ANTHROPIC_BASE_URL", "/v1/messages", "x-api-key", "sk-ant-revoked-fake-0002", msg, 401},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			url := d.env[tc.env] + tc.path
			if got := mustCall(t, "POST", url, tc.header, tc.key, tc.in); got != tc.want {
				t.Errorf("POST %s with %s: status %d, want %d", url, tc.key, got, tc.want)
			}
		})
	}

	if err := d.stop(t); err != nil {
		t.Errorf("stopping: %v, want nil (exit 0)", err)
	}
	if _, err := http.Get(base + "/openai/v1/models"); err == nil {
		t.Errorf("the fake still answers after it stopped")
	}
}

func TestDevFakeProviderErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	tests := []struct {
		name       string
		args       []string
		wantExit   int
		wantStderr string
	}{
		{"ErrNegativeDelay", []string{"--delay", "-1s"}, exitUsage, "--delay must not be negative"},
		{"ErrBadDelay", []string{"--delay", "soon"}, exitUsage, "invalid value \"soon\" for flag -delay"},
		{"ErrAddrNoPort", []string{"--addr", "localhost"}, exitUsage, `--addr "localhost": want host:port`},
		{"ErrArgument", []string{"openai"}, exitUsage, `unexpected argument "openai"`},
		{"ErrEmptyRevoke", []string{"--revoke="}, exitUsage, "must not be empty"},
		{"ErrTokenFlag", []string{"--token", "kga_x"}, exitUsage, "flag provided but not defined: -token"},
		{"ErrAddrInUse", []string{"--addr", ln.Addr().String()}, exitFailure, "address already in use"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := MustRun(t, nil, "", append([]string{"dev", "fake-provider"}, tc.args...)...)
			if r.exit != tc.wantExit || !strings.Contains(r.stderr, tc.wantStderr) || r.stdout != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d and stderr containing %q", r.exit, r.stdout, r.stderr, tc.wantExit, tc.wantStderr)
			}
		})
	}
}

func TestDevFakeProviderHelp(t *testing.T) {
	r := MustRun(t, nil, "", "dev", "fake-provider", "--help")
	for _, want := range []string{"Usage: keygate dev fake-provider", "-revoke", "made-up test keys", "never pass a real provider key", "-delay", "127.0.0.1:9090"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("help does not say %q:\n%s", want, r.stdout)
		}
	}
	if r := MustRun(t, nil, "", "help", "dev"); !strings.Contains(r.stdout, "talk to no keygate server") {
		t.Errorf("help dev = %q", r.stdout)
	}
}

// TestDevFakeRotation checks that the fake's request log stays bounded, and
// that a fresh fake keeps the revoked keys.
func TestDevFakeRotation(t *testing.T) {
	d := newDevFake([]string{"sk-revoked-fake-key-0001"}, 0)
	d.limit = 3
	hs := httptest.NewServer(d)
	defer hs.Close()
	first := d.cur.Load()
	for i := range 7 {
		key := "Bearer sk-good-fake-key-0003"
		want := 200
		if i%2 == 1 {
			key, want = "Bearer sk-revoked-fake-key-0001", 401
		}
		if got := mustCall(t, "GET", hs.URL+"/openai/v1/models", "Authorization", key, ""); got != want {
			t.Errorf("request %d: status %d, want %d", i+1, got, want)
		}
	}
	if d.cur.Load() == first {
		t.Fatal("the fake was not replaced after its limit")
	}
	if n := len(d.cur.Load().Requests()); n < 1 || n > 3 {
		t.Errorf("the current fake holds %d requests, want 1 to 3", n)
	}
}

// TestDevFakeCloseReleasesDelayed checks that stopping does not wait for
// --delay: close answers the delayed requests at once.
func TestDevFakeCloseReleasesDelayed(t *testing.T) {
	d := newDevFake(nil, time.Hour)
	arrived := make(chan struct{})
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		d.ServeHTTP(w, r)
	}))
	defer hs.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		resp, err := http.Get(hs.URL + "/openai/v1/models")
		if err == nil {
			resp.Body.Close()
		}
	}()
	<-arrived
	d.close()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("a delayed request was still waiting a minute after close")
	}
}

// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/fakeprovider"
)

// TestServeSlowConnections: with short limits, an idle keep-alive
// connection is closed after the idle timeout, a body trickled in is cut
// at the body deadline with 408 request_timeout (management API, gateway,
// passthrough), and a streamed answer that lasts longer than the body deadline
// is served to its end.
func TestServeSlowConnections(t *testing.T) {
	fake := fakeprovider.Start(t)
	env := fakeProviderEnv(fake)
	const limit = time.Second
	s := MustServe(t, t.TempDir(), env, "--idle-timeout", limit.String(), "--body-read-timeout", limit.String())
	ctx := context.Background()
	c := s.MustTenant(t, "acme")
	if _, err := c.PutKey(ctx, "acme", "openai", keygate.NewSecret("sk-slowTestKey00000000000000000")); err != nil {
		t.Fatal(err)
	}
	tok, err := c.CreateGatewayToken(ctx, "acme", "app")
	if err != nil {
		t.Fatal(err)
	}
	addr := strings.TrimPrefix(s.URL, "http://")

	t.Run("idle connection closed", func(t *testing.T) {
		conn := dialT(t, addr)
		br := bufio.NewReader(conn)
		fmt.Fprintf(conn, "GET /healthz HTTP/1.1\r\nHost: keygate\r\n\r\n")
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Close {
			t.Fatalf("healthz: %d, close %v", resp.StatusCode, resp.Close)
		}
		idle := time.Now()
		// The guard deadline only stops a hang; the server must close first.
		_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
		_, err = br.ReadByte()
		if !errors.Is(err, io.EOF) {
			t.Fatalf("idle keep-alive connection: read %v, want EOF (closed by the server)", err)
		}
		if held := time.Since(idle); held < limit-100*time.Millisecond {
			t.Fatalf("closed after %s, before the idle timeout of %s", held, limit)
		}
	})

	trickle := func(t *testing.T, path, auth, body string) (time.Duration, *http.Response, []byte) {
		t.Helper()
		conn := dialT(t, addr)
		start := time.Now()
		fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: keygate\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", path, auth, len(body)+1000)
		// One byte every 100ms, never the whole body: every byte arrives
		// well within any per-read timeout, so only a deadline on the
		// whole body stops it.
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			tick := time.NewTicker(100 * time.Millisecond)
			defer tick.Stop()
			for i := 0; ; i++ {
				b := byte(' ')
				if i < len(body) {
					b = body[i]
				}
				if _, err := conn.Write([]byte{b}); err != nil {
					return
				}
				select {
				case <-stop:
					return
				case <-tick.C:
				}
			}
		}()
		_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("no answer to a trickled body: %v", err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return time.Since(start), resp, b
	}

	t.Run("trickled body, management API", func(t *testing.T) {
		took, resp, b := trickle(t, "/api/v1/tenants", s.Token, `{"name":"slow"`)
		var e struct {
			Error struct{ Code string } `json:"error"`
		}
		if resp.StatusCode != http.StatusRequestTimeout || json.Unmarshal(b, &e) != nil || e.Error.Code != keygate.CodeRequestTimeout {
			t.Fatalf("trickled body: %d %s, want 408 %s", resp.StatusCode, b, keygate.CodeRequestTimeout)
		}
		if took > 10*limit {
			t.Fatalf("trickled body answered after %s, deadline %s", took, limit)
		}
		t.Logf("trickled body cut after %s (deadline %s)", took.Round(time.Millisecond), limit)
	})

	t.Run("trickled body, gateway", func(t *testing.T) {
		_, resp, b := trickle(t, "/v1/chat/completions", tok.Token.Reveal(), `{"model":"gpt-4o","messages":[`)
		var e struct {
			Error struct{ Code, Type string } `json:"error"`
		}
		if resp.StatusCode != http.StatusRequestTimeout || json.Unmarshal(b, &e) != nil || e.Error.Code != keygate.CodeRequestTimeout {
			t.Fatalf("trickled gateway body: %d %s, want 408 %s", resp.StatusCode, b, keygate.CodeRequestTimeout)
		}
		if n := len(fake.Requests()); n != 0 {
			t.Fatalf("the provider saw %d requests of a body that never arrived", n)
		}
	})

	t.Run("trickled body, passthrough", func(t *testing.T) {
		_, resp, b := trickle(t, "/openai/v1/chat/completions", tok.Token.Reveal(), `{"model":"gpt-4o","messages":[`)
		var e struct {
			Error struct{ Code string } `json:"error"`
		}
		if resp.StatusCode != http.StatusRequestTimeout || json.Unmarshal(b, &e) != nil || e.Error.Code != keygate.CodeRequestTimeout {
			t.Fatalf("trickled passthrough body: %d %s, want 408 %s", resp.StatusCode, b, keygate.CodeRequestTimeout)
		}
	})

	t.Run("stream longer than the body deadline", func(t *testing.T) {
		req, _ := http.NewRequest("POST", s.URL+"/v1/chat/completions", strings.NewReader(`{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"a b c d e"}]}`))
		req.Header.Set("Authorization", "Bearer "+tok.Token.Reveal())
		// The answer starts after the body deadline has passed, and the
		// stream is still read to its end.
		req.Header.Set(fakeprovider.FaultHeader, "delay="+(limit+limit/2).String())
		start := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 || !strings.Contains(string(b), "[DONE]") {
			t.Fatalf("stream: %d %v complete=%v", resp.StatusCode, err, strings.Contains(string(b), "[DONE]"))
		}
		if took := time.Since(start); took < limit {
			t.Fatalf("the stream took %s, not longer than the body deadline %s", took, limit)
		}
	})
}

// TestServeConnectionCap: with --max-connections 2, a third connection is
// not served while two are open, and is served as soon as one closes; the
// open_connections gauge counts them.
func TestServeConnectionCap(t *testing.T) {
	s := MustServe(t, t.TempDir(), nil, "--max-connections", "2")
	addr := strings.TrimPrefix(s.URL, "http://")
	get := func(conn net.Conn, br *bufio.Reader) error {
		if _, err := fmt.Fprintf(conn, "GET /healthz HTTP/1.1\r\nHost: keygate\r\n\r\n"); err != nil {
			return err
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	}
	var held []net.Conn
	for i := range 2 {
		conn := dialT(t, addr)
		if err := get(conn, bufio.NewReader(conn)); err != nil {
			t.Fatalf("connection %d: %v", i+1, err)
		}
		held = append(held, conn) // kept open, idle
	}
	third := dialT(t, addr) // the kernel accepts it into the backlog
	br := bufio.NewReader(third)
	served := make(chan error, 1)
	go func() { served <- get(third, br) }()
	// Not served while the cap is reached. A negative can only be shown
	// over a while; 300ms is many times a local round trip.
	select {
	case err := <-served:
		t.Fatalf("a third connection was served past the cap of 2 (err %v)", err)
	case <-time.After(300 * time.Millisecond):
	}
	held[0].Close()
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("third connection after one closed: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the third connection was not served after one closed")
	}
	held[1].Close()
	third.Close()
	// Only the scrape's own connection remains.
	waitFor(t, "keygate_open_connections to count the scrape alone", func() bool {
		return metricValue(t, s, "keygate_open_connections", nil) == 1
	})
}

// dialT opens a TCP connection to addr, closed when the test ends.
func dialT(tb testing.TB, addr string) net.Conn {
	tb.Helper()
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = conn.Close() })
	return conn
}

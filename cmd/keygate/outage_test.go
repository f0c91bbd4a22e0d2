// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/client"
	"github.com/keygate/keygate/internal/fakeprovider"
	"github.com/keygate/keygate/internal/testkit"
)

// cutter forwards TCP connections to target until Cut, which drops every
// connection and refuses new ones (as a stopped database would); Restore
// accepts again.
type cutter struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	cut    bool
	conns  map[net.Conn]bool
}

func MustCutter(tb testing.TB, target string) *cutter {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	c := &cutter{ln: ln, target: target, conns: map[net.Conn]bool{}}
	tb.Cleanup(func() { ln.Close(); c.Cut() })
	go c.serve()
	return c
}

func (c *cutter) serve() {
	for {
		in, err := c.ln.Accept()
		if err != nil {
			return
		}
		c.mu.Lock()
		if c.cut {
			c.mu.Unlock()
			in.Close()
			continue
		}
		out, err := net.Dial("tcp", c.target)
		if err != nil {
			c.mu.Unlock()
			in.Close()
			continue
		}
		c.conns[in], c.conns[out] = true, true
		c.mu.Unlock()
		go func() { _, _ = io.Copy(out, in); out.Close() }()
		go func() { _, _ = io.Copy(in, out); in.Close() }()
	}
}

func (c *cutter) Cut() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cut = true
	for conn := range c.conns {
		conn.Close()
	}
	clear(c.conns)
}

func (c *cutter) Restore() {
	c.mu.Lock()
	c.cut = false
	c.mu.Unlock()
}

// TestServeStorageOutage: PostgreSQL becomes unreachable mid-traffic. Calls
// whose credentials are cached keep working for a bounded time (the cache
// lifetime, --cache-ttl), then fail closed with 503 unavailable; management calls fail
// cleanly with 503 and write nothing; /readyz says not ready; when the
// database returns everything recovers without a restart, and the usage of
// every call served during the outage reaches the ledger.
func TestServeStorageOutage(t *testing.T) {
	pgURL, schema := testkit.PostgresSchema(t)
	u, err := url.Parse(pgURL)
	if err != nil {
		t.Fatal(err)
	}
	cut := MustCutter(t, u.Host)
	u.Host = cut.ln.Addr().String()
	q := u.Query()
	q.Set("search_path", schema)
	q.Set("connect_timeout", "2")
	u.RawQuery = q.Encode()
	fake := fakeprovider.Start(t)
	env := map[string]string{"KEYGATE_OPENAI_BASE_URL": fake.BaseURL("openai")}
	// A short cache lifetime, so that the outage outlasts it within the
	// test's patience.
	s := MustServe(t, t.TempDir(), env, "--database-url", u.String(), "--cache-ttl", "5s")
	ctx := context.Background()
	c := s.MustTenant(t, "acme")
	if _, err := c.PutKey(ctx, "acme", "openai", keygate.NewSecret("sk-outageTestKey00000000000000")); err != nil {
		t.Fatal(err)
	}
	tok, err := c.CreateGatewayToken(ctx, "acme", "app")
	if err != nil {
		t.Fatal(err)
	}
	// The change feed announces the setup's changes to this replica too,
	// and each notice drops the cached entry it names: a notice heard
	// after the warm-up would empty the cache it filled. The token's
	// notice is the last of the setup (the feed delivers in commit order).
	waitFor(t, "the change feed to deliver the setup's changes", func() bool {
		return metricValue(t, s, "keygate_change_feed_changes_total", map[string]string{"kind": "token"}) >= 1
	})
	body := `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`
	served := 0 // calls answered 200, each of which the ledger must keep
	if st, _, b := gatewayCall(t, s, tok.Token.Reveal(), body); st != 200 {
		t.Fatalf("warm-up call: %d %s", st, b)
	}
	served++
	// The warm-up call turns the key's health green in the background;
	// wait for that audit event before taking the head.
	waitFor(t, "key health recorded", func() bool {
		k, err := c.GetKey(ctx, "acme", "openai")
		return err == nil && k.Status == "valid"
	})
	seqBefore, err := c.VerifyAudit(ctx)
	if err != nil {
		t.Fatal(err)
	}

	misses := metricValue(t, s, "keygate_cache_lookups_total", map[string]string{"result": "miss"})
	cut.Cut()
	outage := time.Now()
	if st, _, b := gatewayCall(t, s, tok.Token.Reveal(), body); st != 200 {
		t.Fatalf("a call with cached credentials right after the outage began: %d %s", st, b)
	}
	served++
	if m := metricValue(t, s, "keygate_cache_lookups_total", map[string]string{"result": "miss"}); m != misses {
		t.Errorf("the call during the outage missed a cache %v times", m-misses)
	}
	var e struct{ Error struct{ Code string } }
	if st := jsonCall(t, s, "PUT", "/api/v1/tenants/acme/keys/openai", `{"key":"sk-outageTestKeyRotated0000000000"}`, &e); st != 503 || e.Error.Code != "unavailable" {
		t.Fatalf("a key change during the outage: %d %+v", st, e)
	}
	if st := jsonCall(t, s, "GET", "/readyz", "", nil); st != 503 {
		t.Errorf("/readyz during the outage: %d", st)
	}
	// Once the cached tenant settings expire (--cache-ttl), calls fail
	// closed.
	var st int
	var b []byte
	waitFor(t, "calls fail closed", func() bool {
		st, _, b = gatewayCall(t, s, tok.Token.Reveal(), body)
		if st == 200 {
			served++
		}
		return st != 200
	})
	if st != 503 || !strings.Contains(string(b), `"unavailable"`) {
		t.Fatalf("after the cache expired: %d %s, want 503 unavailable", st, b)
	}
	t.Logf("calls with cached credentials worked for %v of the outage, then failed closed", time.Since(outage).Round(100*time.Millisecond))

	cut.Restore()
	waitFor(t, "recovery", func() bool {
		st, _, _ := gatewayCall(t, s, tok.Token.Reveal(), body)
		if st == 200 {
			served++
		}
		return st == 200
	})
	// The calls served during the outage were metered: the ledger held
	// their usage until the database came back.
	var recorded int64
	waitFor(t, "the usage of every call served", func() bool {
		r, err := c.Usage(ctx, client.UsageQuery{Tenant: "acme"})
		recorded = r.TenantPaid.Requests
		return err == nil && recorded >= int64(served)
	})
	if recorded != int64(served) {
		t.Errorf("usage ledger holds %d calls, want the %d served", recorded, served)
	}
	if n := metricValue(t, s, "keygate_usage_dropped_total", map[string]string{"reason": "write_failed"}); n != 0 {
		t.Errorf("%v usage events dropped by the outage", n)
	}
	t.Logf("%d calls served across the outage, all %d in the usage ledger", served, recorded)
	v, err := c.VerifyAudit(ctx)
	if err != nil || !v.OK || v.HeadSeq != seqBefore.HeadSeq {
		t.Fatalf("audit after the outage: %+v %v (before: head %d): the refused change must have written nothing", v, err, seqBefore.HeadSeq)
	}
	if k, err := c.GetKey(ctx, "acme", "openai"); err != nil || k.Version != 1 {
		t.Fatalf("key after the outage: %+v %v", k, err)
	}
}

// TestServeRedisOutage: the Redis that holds budget and rate-limit counters
// goes away mid-traffic. By default calls that need a budget check fail
// closed with 503 unavailable (a hard budget that cannot be checked is not
// enforced by guessing); with --quota-fail-open they are admitted and each
// is logged. Either way calls no limit covers (the tenant's own key under a
// platform-only budget) keep working, and when Redis returns budgeted calls
// are checked again.
func TestServeRedisOutage(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int // of a budgeted call while Redis is gone
	}{
		{"FailClosed", nil, 503},
		{"FailOpen", []string{"--quota-fail-open"}, 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			redisURL := testkit.RedisURL(t)
			u, err := url.Parse(redisURL)
			if err != nil {
				t.Fatal(err)
			}
			cut := MustCutter(t, u.Host)
			u.Host = cut.ln.Addr().String()
			fake := fakeprovider.Start(t)
			env := map[string]string{"KEYGATE_OPENAI_BASE_URL": fake.BaseURL("openai"), "KEYGATE_ANTHROPIC_BASE_URL": fake.BaseURL("anthropic")}
			s := MustServe(t, t.TempDir(), env, append([]string{"--redis-url", u.String()}, tc.args...)...)
			ctx := context.Background()
			c := s.MustTenant(t, "acme")
			if _, err := c.PutKey(ctx, "platform", "openai", keygate.NewSecret("sk-redisOutagePlatformKey0000000")); err != nil {
				t.Fatal(err)
			}
			if _, err := c.PutKey(ctx, "acme", "anthropic", keygate.NewSecret("sk-ant-redisOutageTenantKey00000000000000000")); err != nil {
				t.Fatal(err)
			}
			if st := jsonCall(t, s, "PUT", "/api/v1/tenants/acme/budget", `{"daily_usd":"100","hard":true}`, nil); st != 200 {
				t.Fatalf("budget: %d", st)
			}
			tok, err := c.CreateGatewayToken(ctx, "acme", "app")
			if err != nil {
				t.Fatal(err)
			}
			platformCall := `{"model":"gpt-4o","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`
			ownKeyCall := `{"model":"claude-sonnet-4-5","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`
			if st, _, b := gatewayCall(t, s, tok.Token.Reveal(), platformCall); st != 200 {
				t.Fatalf("before the outage: %d %s", st, b)
			}
			cut.Cut()
			st, hdr, b := gatewayCall(t, s, tok.Token.Reveal(), platformCall)
			if st != tc.wantCode {
				t.Fatalf("a budgeted call while Redis is gone: %d %s, want %d", st, b, tc.wantCode)
			}
			switch st {
			case 503:
				if !strings.Contains(string(b), `"unavailable"`) {
					t.Errorf("the refusal is not unavailable: %s", b)
				}
			case 200:
				if hdr.Get("X-Keygate-Key-Source") != "platform" {
					t.Errorf("admitted call paid by %q, want platform", hdr.Get("X-Keygate-Key-Source"))
				}
				if !strings.Contains(string(s.Logs.Bytes()), "admitting (fail open)") {
					t.Error("the admitted call left no log line")
				}
			}
			if st, hdr, b := gatewayCall(t, s, tok.Token.Reveal(), ownKeyCall); st != 200 || hdr.Get("X-Keygate-Key-Source") != "tenant" {
				t.Fatalf("a call on the tenant's own key while Redis is gone: %d %s", st, b)
			}
			cut.Restore()
			waitFor(t, "budgeted calls recover", func() bool {
				st, _, _ := gatewayCall(t, s, tok.Token.Reveal(), platformCall)
				return st == 200
			})
		})
	}
}

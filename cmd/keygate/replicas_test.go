// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/client"
	"github.com/keygate/keygate/internal/fakeprovider"
	"github.com/keygate/keygate/internal/testkit"
)

// replicaLagBound is how soon every replica must act on a change made
// through another one (docs/operator.md, Storage).
const replicaLagBound = time.Second

// replicaCluster is keygate servers "a", "b", "c"... on one PostgreSQL
// schema, as replicas behind a load balancer. Each connects with its own
// application_name, so that a test can find its connections in
// pg_stat_activity.
type replicaCluster struct {
	servers []*testServer
	pgURL   string            // the test server's URL, for the test's own connections
	dbURL   string            // pgURL with the test's schema as search_path
	app     string            // application_name prefix, unique to the test
	env     map[string]string // of every replica
	args    []string          // of every replica, besides --database-url
}

// startReplicas starts n replicas that share one new PostgreSQL schema, one
// master key, one admin token and the fake provider; args are added to
// every replica's command line.
func startReplicas(t *testing.T, n int, fake *fakeprovider.Server, args ...string) *replicaCluster {
	t.Helper()
	pgURL, schema := testkit.PostgresSchema(t)
	mk := make([]byte, 32)
	_, _ = rand.Read(mk)
	rc := &replicaCluster{
		pgURL: pgURL,
		dbURL: withQueryParam(pgURL, "search_path", schema),
		app:   "kgt-" + schema[len(schema)-8:], // the schema's random suffix
		env: map[string]string{
			"KEYGATE_ADMIN_TOKEN": "kga_replicaTest_EdPZmKlNpPn4ShtmVtJt4kWtTaMCF7XFzGiI",
			"KEYGATE_MASTER_KEY":  "env://KG_TEST_MASTER_KEY",
			"KG_TEST_MASTER_KEY":  base64.StdEncoding.EncodeToString(mk),
		},
		args: args,
	}
	maps.Copy(rc.env, fakeProviderEnv(fake))
	for i := range n {
		rc.servers = append(rc.servers, rc.start(t, i))
	}
	return rc
}

// start starts replica i (a new one if i is past the last).
func (rc *replicaCluster) start(t *testing.T, i int) *testServer {
	t.Helper()
	db := withQueryParam(rc.dbURL, "application_name", rc.app+"-"+replicaName(i))
	s := MustServe(t, t.TempDir(), rc.env, append([]string{"--database-url", db}, rc.args...)...)
	s.Token = rc.env["KEYGATE_ADMIN_TOKEN"]
	return s
}

// client returns an API client of replica i.
func (rc *replicaCluster) client(t *testing.T, i int) *client.Client {
	t.Helper()
	c, err := client.New(rc.servers[i].URL, keygate.NewSecret(rc.env["KEYGATE_ADMIN_TOKEN"]))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// listenerName is the application_name of replica i's change-feed
// connection (internal/postgres/notify.go).
func (rc *replicaCluster) listenerName(i int) string {
	return rc.app + "-" + replicaName(i) + " keygate change feed"
}

func replicaName(i int) string { return string(rune('a' + i)) }

// withQueryParam adds k=v to the query of a postgres:// URL.
func withQueryParam(u, k, v string) string {
	sep := "?"
	if strings.Contains(u, "?") {
		sep = "&"
	}
	return u + sep + url.QueryEscape(k) + "=" + url.QueryEscape(v)
}

// roundRobin sends gateway calls to the replicas in turn, as a load
// balancer without affinity does, and tells which provider key each call
// reached the fake provider with.
type roundRobin struct {
	servers []*testServer
	fake    *fakeprovider.Server
	token   string
	next    int // replica of the next call
	seq     int // calls made, for unique markers
}

// callOn makes one gateway call through replica i. It returns the status
// and the key the fake provider received ("" unless the status is 200).
func (rr *roundRobin) callOn(t *testing.T, i int) (int, string) {
	t.Helper()
	rr.seq++
	// The marker finds this call among the fake's requests, whatever else
	// reaches the fake meanwhile.
	marker := fmt.Sprintf("rr-probe-%06d", rr.seq)
	st, _, body := gatewayCall(t, rr.servers[i], rr.token, `{"model":"gpt-4o","messages":[{"role":"user","content":"`+marker+`"}]}`)
	if st != 200 {
		return st, ""
	}
	reqs := rr.fake.Requests()
	for j := len(reqs) - 1; j >= 0; j-- {
		if bytes.Contains(reqs[j].Body, []byte(marker)) {
			return st, reqs[j].Key.Reveal()
		}
	}
	t.Fatalf("call %s through %s answered 200 (%s) but never reached the fake provider", marker, replicaName(i), body)
	return 0, ""
}

// mustAll calls every replica once and fails unless each used key: their
// caches now hold it, so only a change notification, a resync or the cache
// lifetime can make them use another.
func (rr *roundRobin) mustAll(t *testing.T, key string) {
	t.Helper()
	for i := range rr.servers {
		if st, got := rr.callOn(t, i); st != 200 || got != key {
			t.Fatalf("replica %s: status %d, key %s; want 200 with %s", replicaName(i), st, keygate.NewSecret(got).Hint(), keygate.NewSecret(key).Hint())
		}
	}
}

// lags sends round-robin calls until every replica's call has reached the
// new state, and returns per replica the time from start to its first such
// call. reached classifies a call's status and key: true for the new state,
// false for the old one, an error for anything else. A replica that goes
// back to the old state fails the test, as does one that has not reached
// the new state 10 s after start.
func (rr *roundRobin) lags(t *testing.T, start time.Time, reached func(status int, key string) (bool, error)) []time.Duration {
	t.Helper()
	lags := make([]time.Duration, len(rr.servers))
	done := make([]bool, len(rr.servers))
	left := len(rr.servers)
	for left > 0 {
		i := rr.next
		rr.next = (rr.next + 1) % len(rr.servers)
		st, key := rr.callOn(t, i)
		at := time.Since(start)
		ok, err := reached(st, key)
		switch {
		case err != nil:
			t.Fatalf("replica %s: %v", replicaName(i), err)
		case ok && !done[i]:
			lags[i], done[i] = at, true
			left--
		case !ok && done[i]:
			t.Fatalf("replica %s went back to the old state %v after reaching the new one", replicaName(i), at)
		}
		if at > 10*time.Second {
			t.Fatalf("after %v, replicas still in the old state: %v", at, pending(done))
		}
		time.Sleep(2 * time.Millisecond) // a poll, not a load test
	}
	return lags
}

func pending(done []bool) []string {
	var out []string
	for i, d := range done {
		if !d {
			out = append(out, replicaName(i))
		}
	}
	return out
}

// rotated classifies calls for lags: the old key or the new one.
func rotated(old, new string) func(int, string) (bool, error) {
	return func(st int, key string) (bool, error) {
		switch {
		case st != 200:
			return false, fmt.Errorf("status %d during a rotation", st)
		case key == new:
			return true, nil
		case key == old:
			return false, nil
		}
		return false, fmt.Errorf("unexpected key %s", keygate.NewSecret(key).Hint())
	}
}

// checkLags logs every replica's lag and fails for one over the bound.
func checkLags(t *testing.T, what string, lags []time.Duration) {
	t.Helper()
	var b strings.Builder
	for i, l := range lags {
		fmt.Fprintf(&b, " %s=%v", replicaName(i), l.Round(time.Millisecond))
		if l > replicaLagBound {
			t.Errorf("%s: replica %s took %v, want at most %v", what, replicaName(i), l, replicaLagBound)
		}
	}
	t.Logf("%s: lag per replica (from the API call being sent to the first gateway call that showed it):%s", what, b.String())
}

// TestServeReplicasSeeRotation: three replicas on one PostgreSQL, a client
// that spreads its calls over them in turn. A key rotated through one
// replica is used by each of the others within a second, although every
// replica had the old key cached (LISTEN/NOTIFY); the direction does not
// matter (rotations through a, then through b); a gateway token revoked
// through c stops working on all three within a second.
func TestServeReplicasSeeRotation(t *testing.T) {
	fake := fakeprovider.Start(t)
	rc := startReplicas(t, 3, fake)
	ctx := context.Background()
	admin := rc.client(t, 0)
	if _, err := admin.CreateTenant(ctx, client.CreateTenantParams{Name: "acme"}); err != nil {
		t.Fatal(err)
	}
	keys := []string{"sk-replicaKeyVersionOne000000000", "sk-replicaKeyVersionTwo000000000", "sk-replicaKeyVersionThree0000000"}
	if _, err := admin.PutKey(ctx, "acme", "openai", keygate.NewSecret(keys[0])); err != nil {
		t.Fatal(err)
	}
	tok, err := admin.CreateGatewayToken(ctx, "acme", "app")
	if err != nil {
		t.Fatal(err)
	}
	rr := &roundRobin{servers: rc.servers, fake: fake, token: tok.Token.Reveal()}
	for step, via := range []int{0, 1} {
		old, new := keys[step], keys[step+1]
		rr.mustAll(t, old)
		start := time.Now()
		if _, err := rc.client(t, via).PutKey(ctx, "acme", "openai", keygate.NewSecret(new)); err != nil {
			t.Fatal(err)
		}
		checkLags(t, "rotation through "+replicaName(via), rr.lags(t, start, rotated(old, new)))
	}

	rr.mustAll(t, keys[2]) // the token's answer is cached everywhere
	start := time.Now()
	if err := rc.client(t, 2).RevokeGatewayToken(ctx, "acme", tok.ID); err != nil {
		t.Fatal(err)
	}
	checkLags(t, "revocation through c", rr.lags(t, start, func(st int, _ string) (bool, error) {
		switch st {
		case 200:
			return false, nil
		case 401:
			return true, nil
		}
		return false, fmt.Errorf("status %d during a revocation", st)
	}))
}

// TestServeReplicaResyncsAfterListenCut: the safety net behind NOTIFY. The
// change-feed connection of replica b is killed (pg_terminate_backend) and
// a key is rotated through a before b reconnects, so the notification never
// reaches b. b reconnects 100 ms later and drops its whole cache (resync):
// it uses the new key within a second, long before its cached copy would
// have expired (30 s), and hears later rotations by notification again.
func TestServeReplicaResyncsAfterListenCut(t *testing.T) {
	fake := fakeprovider.Start(t)
	rc := startReplicas(t, 3, fake)
	ctx := context.Background()
	admin := rc.client(t, 0)
	if _, err := admin.CreateTenant(ctx, client.CreateTenantParams{Name: "acme"}); err != nil {
		t.Fatal(err)
	}
	key := "sk-replicaKeyBeforeCut0000000000"
	if _, err := admin.PutKey(ctx, "acme", "openai", keygate.NewSecret(key)); err != nil {
		t.Fatal(err)
	}
	tok, err := admin.CreateGatewayToken(ctx, "acme", "app")
	if err != nil {
		t.Fatal(err)
	}
	rr := &roundRobin{servers: rc.servers, fake: fake, token: tok.Token.Reveal()}

	db, err := pgx.Connect(ctx, rc.pgURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close(context.Background()) })
	// feeds counts replica i's change-feed connections; a replica names the
	// connection before it LISTENs, so 0 means "not listening".
	feeds := func(i int) int {
		var n int
		if err := db.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE application_name = $1`, rc.listenerName(i)).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	waitFor(t, "every replica's change feed", func() bool { return feeds(0) == 1 && feeds(1) == 1 && feeds(2) == 1 })

	const b = 1
	for attempt := 1; ; attempt++ {
		if attempt > 10 {
			t.Fatal("10 times, b reconnected before the rotation committed; the test could not cut it for long enough")
		}
		waitFor(t, "b's one change feed", func() bool { return feeds(b) == 1 })
		rr.mustAll(t, key)
		var killed []bool
		// Without a timeout: with one, PostgreSQL polls for the end of the
		// backend every 100 ms, as long as b waits before reconnecting.
		rows, err := db.Query(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`, rc.listenerName(b))
		if err == nil {
			killed, err = pgx.CollectRows(rows, pgx.RowTo[bool])
		}
		if err != nil || len(killed) != 1 || !killed[0] {
			t.Fatalf("cut b's change feed: terminated %v (%v), want its one connection", killed, err)
		}
		cut := time.Now()
		next := fmt.Sprintf("sk-replicaKeyAfterCut%011d", attempt)
		if _, err := admin.PutKey(ctx, "acme", "openai", keygate.NewSecret(next)); err != nil {
			t.Fatal(err)
		}
		committed := time.Now()
		old := key
		key = next
		if feeds(b) > 0 {
			// b may have heard the notification: this proves nothing.
			t.Logf("attempt %d: %v after the cut, when the rotation had committed, b's change feed was back (or not gone yet); again", attempt, time.Since(cut).Round(time.Millisecond))
			waitFor(t, "b to use the rotated key", func() bool { _, k := rr.callOn(t, b); return k == key })
			continue
		}
		// b was not listening when the rotation committed: the
		// notification is lost to it, and its cache holds the old key.
		for {
			st, k := rr.callOn(t, b)
			if ok, err := rotated(old, key)(st, k); err != nil {
				t.Fatalf("replica b: %v", err)
			} else if ok {
				break
			}
			if time.Since(committed) > 10*time.Second {
				t.Fatal("replica b still uses the old key 10 s after a rotation it missed")
			}
			time.Sleep(2 * time.Millisecond)
		}
		lag := time.Since(committed)
		t.Logf("attempt %d: b missed the notification (cut %v before the rotation committed) and used the rotated key %v after the commit, %v after the cut (bound %v; its cached copy would have lived 30 s)",
			attempt, committed.Sub(cut).Round(time.Millisecond), lag.Round(time.Millisecond), time.Since(cut).Round(time.Millisecond), replicaLagBound)
		if lag > replicaLagBound {
			t.Errorf("b resynced %v after the rotation, want at most %v", lag, replicaLagBound)
		}
		break
	}

	// The feed is back: a rotation reaches b, and the others, by
	// notification again.
	waitFor(t, "b's change feed", func() bool { return feeds(b) == 1 })
	rr.mustAll(t, key)
	next := "sk-replicaKeyAfterReconnect00000"
	start := time.Now()
	if _, err := rc.client(t, 2).PutKey(ctx, "acme", "openai", keygate.NewSecret(next)); err != nil {
		t.Fatal(err)
	}
	checkLags(t, "rotation through c after b reconnected", rr.lags(t, start, rotated(key, next)))
}

// TestServeBudgetAcrossReplicas: three replicas share one PostgreSQL and
// one Redis. 300 concurrent platform-paid calls spread over them in turn
// against a hard budget that allows exactly 100: exactly 100 succeed, the
// rest get 429 budget_exceeded, and the ledger records exactly 100 calls.
// Then 60 key writes spread over the three at once leave a valid audit
// chain and 60 key versions.
func TestServeBudgetAcrossReplicas(t *testing.T) {
	fake := fakeprovider.Start(t)
	rc := startReplicas(t, 3, fake, "--redis-url", testkit.RedisURL(t), "--prices-file", pricesFile(t))
	servers := rc.servers
	ctx := context.Background()
	c := rc.client(t, 0)
	if _, err := c.CreateTenant(ctx, client.CreateTenantParams{Name: "acme"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutKey(ctx, "platform", "openai", keygate.NewSecret("sk-platformKeyForReplicaTest000000")); err != nil {
		t.Fatal(err)
	}
	if st := jsonCall(t, servers[1], "PUT", "/api/v1/tenants/acme/budget", `{"daily_usd":"0.0005","hard":true}`, nil); st != 200 {
		t.Fatalf("budget: %d", st)
	}
	tok, err := c.CreateGatewayToken(ctx, "acme", "app")
	if err != nil {
		t.Fatal(err)
	}
	// Each call costs exactly 5 micro-USD (pricesFile): the budget admits 100.
	const calls, admit = 300, 100
	body := `{"model":"gpt-4o","max_tokens":5,"messages":[{"role":"user","content":"count to ten"}]}`
	var mu sync.Mutex
	statuses := make([]map[int]int, len(servers))
	for i := range statuses {
		statuses[i] = map[int]int{}
	}
	var wg sync.WaitGroup
	for i := range calls {
		wg.Go(func() {
			r := i % len(servers)
			req, _ := http.NewRequest("POST", servers[r].URL+"/v1/chat/completions", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+tok.Token.Reveal())
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			mu.Lock()
			statuses[r][resp.StatusCode]++
			mu.Unlock()
		})
	}
	wg.Wait()
	total := map[int]int{}
	for r, m := range statuses {
		t.Logf("budget: replica %s answered %v", replicaName(r), m)
		for st, n := range m {
			total[st] += n
		}
	}
	t.Logf("budget: %d concurrent calls over %d replicas against a budget of %d: %d admitted, %d refused with 429 (all statuses %v)",
		calls, len(servers), admit, total[200], total[429], total)
	if total[200] != admit || total[429] != calls-admit {
		t.Fatalf("statuses %v: want exactly %d admitted and %d refused", total, admit, calls-admit)
	}

	// The audit chain stays valid with three writers: 60 key changes
	// spread over the replicas at once.
	const writes = 60
	var clients []*client.Client
	for i := range servers {
		clients = append(clients, rc.client(t, i))
	}
	for i := range writes {
		wg.Go(func() {
			if _, err := clients[i%len(clients)].PutKey(ctx, "acme", "openai", keygate.NewSecret(fmt.Sprintf("sk-replicaWriter%020d", i))); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for i, rcl := range clients {
		v, err := rcl.VerifyAudit(ctx)
		if err != nil || !v.OK {
			t.Fatalf("audit chain, verified through %s, after concurrent writes on three replicas: %+v %v", replicaName(i), v, err)
		}
		if i == 0 {
			t.Logf("audit: %d concurrent key writes over %d replicas; chain of %d events valid (head %d)", writes, len(servers), v.Events, v.HeadSeq)
		}
	}
	if k, err := c.GetKey(ctx, "acme", "openai"); err != nil || k.Version != writes {
		t.Fatalf("versions after %d concurrent writes: %+v %v", writes, k, err)
	}

	for _, s := range servers {
		s.Stop(t) // drains each ledger
	}
	s := rc.start(t, len(servers))
	var u struct {
		PlatformPaid struct {
			Requests     int64
			OutputTokens int64  `json:"output_tokens"`
			CostUSD      string `json:"cost_usd"`
		} `json:"platform_paid"`
	}
	jsonCall(t, s, "GET", "/api/v1/tenants/acme/usage", "", &u)
	t.Logf("ledger: %+v", u.PlatformPaid)
	if u.PlatformPaid.Requests != admit || u.PlatformPaid.OutputTokens != 5*admit || u.PlatformPaid.CostUSD != "0.0005" {
		t.Errorf("ledger: %+v, want %d requests, %d output tokens, 0.0005 USD", u.PlatformPaid, admit, 5*admit)
	}
}

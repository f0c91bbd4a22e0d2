// SPDX-License-Identifier: Apache-2.0

package redis_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/redis"
	"github.com/keygate/keygate/internal/testkit"
)

var t0 = time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC)

func request(id string) keygate.QuotaRequest {
	return keygate.QuotaRequest{ID: id, Now: t0, ReserveTTL: 10 * time.Minute,
		Budgets: []keygate.QuotaBudget{{Key: "{tn_1}:b:tok:d20260105", Limit: 100, Amount: 10, Enforce: true, ExpireAt: t0.Add(13 * time.Hour)}},
		Rates:   []keygate.QuotaRate{{Key: "{tn_1}:r:*:tpm", Limit: 1000, Period: time.Minute, Cost: 10}}}
}

// TestKeys checks the key layout and that every key expires: nothing
// keygate writes stays in Redis forever, and a settled call leaves no
// reservation behind.
func TestKeys(t *testing.T) {
	ctx := context.Background()
	client, prefix := testkit.RedisClient(t), testkit.RedisPrefix(t)
	c := redis.New(client, redis.Options{Prefix: prefix})
	if _, err := c.Admit(ctx, request("r1")); err != nil {
		t.Fatalf("Admit: %v", err)
	}
	ttls := func() map[string]time.Duration {
		keys, err := client.Keys(ctx, prefix+"*").Result()
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]time.Duration{}
		for _, k := range keys {
			d, err := client.PTTL(ctx, k).Result()
			if err != nil {
				t.Fatal(err)
			}
			out[strings.TrimPrefix(k, prefix)] = d.Round(time.Hour)
		}
		return out
	}
	want := map[string]time.Duration{
		"{tn_1}:b:tok:d20260105":     13 * time.Hour, // ExpireAt - Now
		"{tn_1}:b:tok:d20260105:res": 13 * time.Hour,
		"{tn_1}:r:*:tpm":             0, // 600ms to drain + 1s
	}
	if diff := cmp.Diff(want, ttls()); diff != "" {
		t.Errorf("keys and TTLs after Admit (-want +got):\n%s", diff)
	}
	fields, err := client.HGetAll(ctx, prefix+"{tn_1}:b:tok:d20260105").Result()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"r": "10", "a:r1": "10"}, fields); diff != "" {
		t.Errorf("budget hash after Admit (-want +got):\n%s", diff)
	}

	s := request("r1")
	s.Budgets[0].Amount, s.Rates[0].Cost = 7, -3
	if err := c.Settle(ctx, s); err != nil {
		t.Fatalf("Settle: %v", err)
	}
	fields, err = client.HGetAll(ctx, prefix+"{tn_1}:b:tok:d20260105").Result()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"r": "0", "c": "7"}, fields); diff != "" {
		t.Errorf("budget hash after Settle (-want +got):\n%s", diff)
	}
	if n, err := client.ZCard(ctx, prefix+"{tn_1}:b:tok:d20260105:res").Result(); err != nil || n != 0 {
		t.Errorf("reservations after Settle: %d (%v), want 0", n, err)
	}
	for k, d := range ttls() {
		if d < 0 {
			t.Errorf("key %s has no expiry", k)
		}
	}
}

// TestScriptReload checks that a Redis that lost its script cache (a
// restart, a failover, SCRIPT FLUSH) is served by loading the script again.
func TestScriptReload(t *testing.T) {
	ctx := context.Background()
	client := testkit.RedisClient(t)
	c := redis.New(client, redis.Options{Prefix: testkit.RedisPrefix(t)})
	for i, id := range []string{"r1", "r2"} {
		if i == 1 {
			if err := client.ScriptFlush(ctx).Err(); err != nil {
				t.Fatal(err)
			}
		}
		if res, err := c.Admit(ctx, request(id)); err != nil || !res.Admitted() {
			t.Fatalf("Admit %s = %+v, %v", id, res, err)
		}
	}
}

func TestUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := redis.Open(ctx, "redis://127.0.0.1:1/0", redis.Options{}); err == nil {
		t.Error("Open of a closed port: no error")
	}
	if _, err := redis.Open(ctx, "http://user:hunter2@example.com", redis.Options{}); err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("Open of a bad URL = %v, want an error without the password", err)
	}
}

func TestOpen(t *testing.T) {
	ctx := context.Background()
	c, err := redis.Open(ctx, testkit.RedisURL(t), redis.Options{Prefix: testkit.RedisPrefix(t)})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if err := c.Ping(ctx); err != nil {
		t.Errorf("Ping: %v", err)
	}
	if res, err := c.Admit(ctx, request("r1")); err != nil || !res.Admitted() {
		t.Errorf("Admit = %+v, %v", res, err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if _, err := c.Admit(ctx, request("r2")); err == nil {
		t.Error("Admit after Close: no error")
	}
}

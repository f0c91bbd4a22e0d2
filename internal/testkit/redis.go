// SPDX-License-Identifier: Apache-2.0

package testkit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// RedisDefaultURL is the test server RedisURL uses unless
// KEYGATE_TEST_REDIS_URL names another.
const RedisDefaultURL = "redis://127.0.0.1:6379/0"

// RedisURL returns the URL of the test Redis server (KEYGATE_TEST_REDIS_URL,
// default RedisDefaultURL) after checking that it answers a PING. If it
// does not, the test is skipped with the reason, or fails when
// KEYGATE_REQUIRE_INTEGRATION=1.
func RedisURL(tb testing.TB) string {
	tb.Helper()
	url := os.Getenv("KEYGATE_TEST_REDIS_URL")
	if url == "" {
		url = RedisDefaultURL
	}
	opts, err := goredis.ParseURL(url)
	if err == nil {
		// One dial attempt: an absent server should skip fast.
		probe := *opts
		probe.DialerRetries, probe.MaxRetries = 1, -1
		opts = &probe
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c := goredis.NewClient(opts)
		err = c.Ping(ctx).Err()
		_ = c.Close()
	}
	if err != nil {
		addr := "(unparsable KEYGATE_TEST_REDIS_URL)"
		if opts != nil {
			addr = opts.Addr // never the URL: it may hold a password
		}
		msg := "Redis at " + addr + " is not reachable (" + err.Error() + "); set KEYGATE_TEST_REDIS_URL to use another server"
		if os.Getenv("KEYGATE_REQUIRE_INTEGRATION") == "1" {
			tb.Fatalf("%s; KEYGATE_REQUIRE_INTEGRATION=1, so this is a failure", msg)
		}
		tb.Skipf("%s; skipping (set KEYGATE_REQUIRE_INTEGRATION=1 to fail instead)", msg)
	}
	return url
}

// RedisClient returns a new client of the test Redis server (see RedisURL),
// closed when the test ends.
func RedisClient(tb testing.TB) *goredis.Client {
	tb.Helper()
	opts, err := goredis.ParseURL(RedisURL(tb))
	if err != nil {
		tb.Fatalf("parse redis url: %v", err)
	}
	c := goredis.NewClient(opts)
	tb.Cleanup(func() { _ = c.Close() })
	return c
}

// RedisPrefix returns a key prefix that belongs to this test alone
// ("keygate:test:<name>:<random>:"), so that tests share one server in
// parallel. When the test ends, every key under it is deleted.
func RedisPrefix(tb testing.TB) string {
	tb.Helper()
	url := RedisURL(tb)
	var b strings.Builder
	for _, r := range strings.ToLower(tb.Name()) {
		if b.Len() >= 40 {
			break
		}
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_') // no glob characters or hash-tag braces
		}
	}
	var rnd [4]byte
	_, _ = rand.Read(rnd[:]) // crypto/rand.Read never fails
	prefix := "keygate:test:" + b.String() + ":" + hex.EncodeToString(rnd[:]) + ":"
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		opts, err := goredis.ParseURL(url)
		if err != nil {
			tb.Errorf("parse redis url: %v", err)
			return
		}
		c := goredis.NewClient(opts)
		defer c.Close()
		iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		var keys []string
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		if err := iter.Err(); err != nil {
			tb.Errorf("scan redis keys %s*: %v", prefix, err)
			return
		}
		if len(keys) > 0 {
			if err := c.Del(ctx, keys...).Err(); err != nil {
				tb.Errorf("delete redis keys %s*: %v", prefix, err)
			}
		}
	})
	return prefix
}

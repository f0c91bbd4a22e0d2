// SPDX-License-Identifier: Apache-2.0

// Package redis counts budgets and rate limits in Redis, for several keygate
// replicas that must enforce them together: every admission and every
// settlement is one Lua script (EVALSHA, loaded on first use), so they are
// atomic across replicas. See scripts.go for the key layout.
package redis

import (
	"context"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/keygate/keygate"
)

// DefaultPrefix starts every key keygate writes to Redis.
const DefaultPrefix = "keygate:"

// Options are the optional settings of a Counter.
type Options struct {
	// Prefix starts every key; default DefaultPrefix. Several keygate
	// deployments (or tests) may share one Redis with distinct prefixes.
	Prefix string
}

// Counter is the quota Counter (quota.Counter) on Redis. Safe for
// concurrent use.
type Counter struct {
	client goredis.UniversalClient
	owned  bool // Close closes client
	prefix string
	admit  *goredis.Script
	settle *goredis.Script
}

// New returns a Counter on client, which the caller keeps and closes. The
// client may be a single node, a Sentinel failover client or a Cluster: all
// the keys of one script share a tenant hash tag.
func New(client goredis.UniversalClient, opts Options) *Counter {
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	return &Counter{
		client: client,
		prefix: opts.Prefix,
		admit:  goredis.NewScript(scriptAdmit),
		settle: goredis.NewScript(scriptSettle),
	}
}

// Open connects to the Redis server at url ("redis://[:password@]host:port/db"
// or "rediss://..." for TLS) and returns a Counter that owns the connection.
// It fails if the URL is invalid or the server does not answer a PING.
func Open(ctx context.Context, url string, opts Options) (*Counter, error) {
	o, err := goredis.ParseURL(url)
	if err != nil {
		// The URL may hold a password: name the error, not the URL.
		return nil, fmt.Errorf("parse redis url: %w", err)
	}
	client := goredis.NewClient(o)
	if err := client.Ping(ctx).Err(); err != nil {
		_ = client.Close()
		return nil, fmt.Errorf("ping redis at %s: %w", o.Addr, err)
	}
	c := New(client, opts)
	c.owned = true
	return c, nil
}

// Ping reports whether Redis answers (for /readyz).
func (c *Counter) Ping(ctx context.Context) error {
	if err := c.client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("ping redis: %w", err)
	}
	return nil
}

// Close closes the connection if Open made it.
func (c *Counter) Close() error {
	if !c.owned {
		return nil
	}
	return c.client.Close()
}

// Admit implements quota.Counter with one script: all or nothing, budgets
// first.
func (c *Counter) Admit(ctx context.Context, r keygate.QuotaRequest) (keygate.QuotaResult, error) {
	if err := r.Validate(); err != nil {
		return keygate.QuotaResult{}, err
	}
	keys := c.keys(r)
	args := make([]any, 0, 5+4*len(r.Budgets)+3*len(r.Rates))
	args = append(args, r.ID, r.Now.UnixMilli(), r.ReserveTTL.Milliseconds(), len(r.Budgets), len(r.Rates))
	for _, b := range r.Budgets {
		// The key must outlive its reservations, whatever ExpireAt says.
		ttl := max(b.ExpireAt.Sub(r.Now), r.ReserveTTL+time.Second)
		args = append(args, b.Limit, strconv.FormatInt(b.Amount, 10), enforce(b.Enforce), ttl.Milliseconds())
	}
	for _, q := range r.Rates {
		args = append(args, q.Limit, q.Period.Milliseconds(), q.Cost)
	}
	out, err := c.admit.Run(ctx, c.client, keys, args...).Int64Slice()
	if err != nil {
		return keygate.QuotaResult{}, fmt.Errorf("redis quota admit %s: %w", r.ID, err)
	}
	if len(out) != 4 {
		return keygate.QuotaResult{}, fmt.Errorf("redis quota admit %s: script returned %d values", r.ID, len(out))
	}
	var res keygate.QuotaResult
	switch i := int(out[1]) - 1; out[0] {
	case 0:
		if o := int(out[3]) - 1; o >= 0 && o < len(r.Budgets) {
			res.Over = r.Budgets[o].Key
		}
	case 1:
		if i < 0 || i >= len(r.Budgets) {
			return res, fmt.Errorf("redis quota admit %s: script refused budget %d", r.ID, i+1)
		}
		res.Refused = r.Budgets[i].Key
	case 2:
		if i < 0 || i >= len(r.Rates) {
			return res, fmt.Errorf("redis quota admit %s: script refused rate %d", r.ID, i+1)
		}
		res.Refused = r.Rates[i].Key
		res.RetryAfter = msDuration(out[2])
	default:
		return res, fmt.Errorf("redis quota admit %s: script returned status %d", r.ID, out[0])
	}
	return res, nil
}

// Settle implements quota.Counter with one script.
func (c *Counter) Settle(ctx context.Context, r keygate.QuotaRequest) error {
	if err := r.Validate(); err != nil {
		return err
	}
	keys := c.keys(r)
	args := make([]any, 0, 4+2*len(r.Budgets)+3*len(r.Rates))
	args = append(args, r.ID, r.Now.UnixMilli(), len(r.Budgets), len(r.Rates))
	for _, b := range r.Budgets {
		ttl := max(b.ExpireAt.Sub(r.Now), time.Second)
		args = append(args, strconv.FormatInt(b.Amount, 10), ttl.Milliseconds())
	}
	for _, q := range r.Rates {
		args = append(args, q.Limit, q.Period.Milliseconds(), q.Cost)
	}
	if err := c.settle.Run(ctx, c.client, keys, args...).Err(); err != nil {
		return fmt.Errorf("redis quota settle %s: %w", r.ID, err)
	}
	return nil
}

// keys lists the script's keys: K and K:res per budget, K per rate.
func (c *Counter) keys(r keygate.QuotaRequest) []string {
	keys := make([]string, 0, 2*len(r.Budgets)+len(r.Rates))
	for _, b := range r.Budgets {
		k := c.prefix + b.Key
		keys = append(keys, k, k+":res")
	}
	for _, q := range r.Rates {
		keys = append(keys, c.prefix+q.Key)
	}
	return keys
}

func enforce(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

func msDuration(ms int64) time.Duration { return time.Duration(ms) * time.Millisecond }

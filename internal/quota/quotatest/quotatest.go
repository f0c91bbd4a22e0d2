// SPDX-License-Identifier: Apache-2.0

// Package quotatest is the conformance suite of quota.Counter: every
// backend (internal/inmem, internal/redis) runs Run, which states the
// contract as tests. It also runs quota.Service on the backend, with several
// Service instances sharing it the way replicas do, to prove the budgets and
// rate limits exact under concurrency.
package quotatest

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/quota"
)

// Opener sets up an empty namespace of counters for one test and returns a
// function that makes Counters on it. Each call of that function is another
// replica's view of the same counters (for Redis: a new client on the same
// key prefix; in memory: the same Counter). Cleanup is registered on tb.
type Opener func(tb testing.TB) func() quota.Counter

// Run runs the conformance suite against the backend that open sets up.
func Run(t *testing.T, open Opener) {
	t.Run("Budget", func(t *testing.T) { testBudget(t, open) })
	t.Run("Settle", func(t *testing.T) { testSettle(t, open) })
	t.Run("Rate", func(t *testing.T) { testRate(t, open) })
	t.Run("Mixed", func(t *testing.T) { testMixed(t, open) })
	t.Run("Invalid", func(t *testing.T) { testInvalid(t, open) })
	t.Run("Concurrent", func(t *testing.T) { testConcurrent(t, open) })
	t.Run("Service", func(t *testing.T) { testService(t, open) })
	t.Run("TokenScopes", func(t *testing.T) { testTokenScopes(t, open) })
}

// t0 is the suite's starting time: noon, so that day windows do not move
// unless a test moves the clock on purpose.
var t0 = time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC)

// step is one operation of a sequence test: an admission (settle false) or
// a settlement, and the result the admission must have.
type step struct {
	name   string
	settle bool
	req    keygate.QuotaRequest
	want   keygate.QuotaResult
}

// runSteps applies steps in order on one counter and diffs each admission.
func runSteps(t *testing.T, c quota.Counter, steps []step) {
	t.Helper()
	ctx := context.Background()
	for i, s := range steps {
		if s.settle {
			if err := c.Settle(ctx, s.req); err != nil {
				t.Fatalf("step %d (%s): Settle: %v", i, s.name, err)
			}
			continue
		}
		got, err := c.Admit(ctx, s.req)
		if err != nil {
			t.Fatalf("step %d (%s): Admit: %v", i, s.name, err)
		}
		if diff := cmp.Diff(s.want, got); diff != "" {
			t.Errorf("step %d (%s): Admit result (-want +got):\n%s", i, s.name, diff)
		}
	}
}

// budget returns a hard budget counter.
func budget(key string, limit, amount int64) keygate.QuotaBudget {
	return keygate.QuotaBudget{Key: key, Limit: limit, Amount: amount, Enforce: true, ExpireAt: t0.Add(48 * time.Hour)}
}

// rate returns a per-minute rate counter.
func rate(key string, limit, cost int64) keygate.QuotaRate {
	return keygate.QuotaRate{Key: key, Limit: limit, Period: time.Minute, Cost: cost}
}

// admit returns an admission request at t0+at with a 10-minute TTL.
func admit(id string, at time.Duration, budgets []keygate.QuotaBudget, rates ...keygate.QuotaRate) keygate.QuotaRequest {
	return keygate.QuotaRequest{ID: id, Now: t0.Add(at), ReserveTTL: 10 * time.Minute, Budgets: budgets, Rates: rates}
}

// settle returns a settlement request at t0+at.
func settle(id string, at time.Duration, budgets []keygate.QuotaBudget, rates ...keygate.QuotaRate) keygate.QuotaRequest {
	return keygate.QuotaRequest{ID: id, Now: t0.Add(at), Budgets: budgets, Rates: rates}
}

func bs(b ...keygate.QuotaBudget) []keygate.QuotaBudget { return b }

// refused is the result of a refusal by key.
func refused(key string) keygate.QuotaResult { return keygate.QuotaResult{Refused: key} }

// ok is an admission.
var ok = keygate.QuotaResult{}

// Clock is a fake clock for Services under test, safe for concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a Clock at t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// Advance moves the clock by d.
func (c *Clock) Advance(d time.Duration) { c.Set(c.Now().Add(d)) }

func id(i int) string { return "r" + strconv.Itoa(i) }

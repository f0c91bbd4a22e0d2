// SPDX-License-Identifier: Apache-2.0

// Package inmem holds single-node implementations of keygate's shared
// contracts: state that lives in this process only, for a deployment of one
// replica.
package inmem

import (
	"context"
	"sync"
	"time"

	"github.com/keygate/keygate"
)

// sweepEvery is how many operations pass between sweeps of forgotten
// counters, so that memory follows the number of live windows, not the
// process's age.
const sweepEvery = 4096

// Counter counts budgets and rates in memory: the quota Counter of a
// single node (it satisfies quota.Counter). Counters are lost on restart. Safe
// for concurrent use; every operation holds one mutex for a few map
// lookups, which keeps it exact and far from being the bottleneck.
type Counter struct {
	mu      sync.Mutex
	budgets map[string]*budgetCell
	rates   map[string]*rateCell
	ops     int
}

// budgetCell is one budget counter in one window.
type budgetCell struct {
	committed int64
	reserved  int64 // the sum of res
	res       map[string]reservation
	next      time.Time // earliest reservation expiry; zero when res is empty
	expireAt  time.Time
}

type reservation struct {
	amount int64
	until  time.Time // counts while now <= until
}

// rateCell is one GCRA counter: level units at time t (see
// keygate.QuotaRate), draining at limit units per millisecond.
type rateCell struct {
	level int64
	t     int64 // unix milliseconds
	limit int64
}

// NewCounter returns an empty Counter.
func NewCounter() *Counter {
	return &Counter{budgets: make(map[string]*budgetCell), rates: make(map[string]*rateCell)}
}

// Admit implements quota.Counter: all or nothing, budgets first.
func (c *Counter) Admit(_ context.Context, r keygate.QuotaRequest) (keygate.QuotaResult, error) {
	if err := r.Validate(); err != nil {
		return keygate.QuotaResult{}, err
	}
	now := r.Now.UnixMilli()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tick(r.Now)
	var res keygate.QuotaResult
	for _, b := range r.Budgets {
		cell := c.budgets[b.Key]
		var used int64
		if cell != nil {
			cell.purge(r.Now)
			used = cell.committed + cell.reserved
		}
		if !keygate.QuotaFits(used, b.Amount, b.Limit) {
			if b.Enforce {
				return keygate.QuotaResult{Refused: b.Key}, nil
			}
			if res.Over == "" {
				res.Over = b.Key
			}
		}
	}
	for _, q := range r.Rates {
		cell := c.rates[q.Key]
		var lvl int64
		if cell != nil {
			lvl = cell.levelAt(now)
		}
		period := q.Period.Milliseconds()
		if excess := lvl + q.Cost*period - q.Limit*period; excess > 0 {
			retry := (excess + q.Limit - 1) / q.Limit
			return keygate.QuotaResult{Refused: q.Key, RetryAfter: time.Duration(retry) * time.Millisecond}, nil
		}
	}
	until := r.Now.Add(r.ReserveTTL)
	for _, b := range r.Budgets {
		cell := c.budget(b)
		if old, ok := cell.res[r.ID]; ok { // a reused id replaces its reservation
			cell.reserved -= old.amount
		}
		cell.res[r.ID] = reservation{amount: b.Amount, until: until}
		cell.reserved += b.Amount
		if cell.next.IsZero() || until.Before(cell.next) {
			cell.next = until
		}
	}
	for _, q := range r.Rates {
		c.rate(q, now).add(q.Cost*q.Period.Milliseconds(), now)
	}
	return res, nil
}

// Settle implements quota.Counter.
func (c *Counter) Settle(_ context.Context, r keygate.QuotaRequest) error {
	if err := r.Validate(); err != nil {
		return err
	}
	now := r.Now.UnixMilli()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tick(r.Now)
	for _, b := range r.Budgets {
		cell := c.budgets[b.Key]
		if cell != nil {
			if old, ok := cell.res[r.ID]; ok {
				cell.reserved -= old.amount
				delete(cell.res, r.ID)
			}
		}
		if b.Amount != 0 {
			c.budget(b).committed += b.Amount
		}
	}
	for _, q := range r.Rates {
		c.rate(q, now).add(q.Cost*q.Period.Milliseconds(), now)
	}
	return nil
}

// budget returns b's cell, creating it, and extends its life to b.ExpireAt.
func (c *Counter) budget(b keygate.QuotaBudget) *budgetCell {
	cell := c.budgets[b.Key]
	if cell == nil {
		cell = &budgetCell{res: make(map[string]reservation)}
		c.budgets[b.Key] = cell
	}
	if b.ExpireAt.After(cell.expireAt) {
		cell.expireAt = b.ExpireAt
	}
	return cell
}

// rate returns q's cell, creating it.
func (c *Counter) rate(q keygate.QuotaRate, now int64) *rateCell {
	cell := c.rates[q.Key]
	if cell == nil {
		cell = &rateCell{t: now}
		c.rates[q.Key] = cell
	}
	cell.limit = q.Limit
	return cell
}

// purge drops the reservations that expired before now.
func (b *budgetCell) purge(now time.Time) {
	if b.next.IsZero() || !now.After(b.next) {
		return
	}
	b.next = time.Time{}
	for id, r := range b.res {
		if now.After(r.until) {
			b.reserved -= r.amount
			delete(b.res, id)
		} else if b.next.IsZero() || r.until.Before(b.next) {
			b.next = r.until
		}
	}
}

// levelAt returns the level drained up to now. A now before the last
// update (another replica's clock, or a clock step back) drains nothing.
func (r *rateCell) levelAt(now int64) int64 {
	elapsed := now - r.t
	if elapsed <= 0 || r.level == 0 {
		return r.level
	}
	if elapsed >= r.level/r.limit+1 { // compared first: elapsed*limit may overflow
		return 0
	}
	return max(r.level-elapsed*r.limit, 0)
}

// add drains the level to now and moves it by delta, never below zero.
func (r *rateCell) add(delta, now int64) {
	r.level = max(r.levelAt(now)+delta, 0)
	r.t = max(r.t, now)
}

// tick counts an operation and, every sweepEvery, forgets budget counters
// whose window is over and rate counters that have drained.
func (c *Counter) tick(now time.Time) {
	c.ops++
	if c.ops < sweepEvery {
		return
	}
	c.ops = 0
	for k, b := range c.budgets {
		if now.After(b.expireAt) {
			b.purge(now)
			if len(b.res) == 0 {
				delete(c.budgets, k)
			}
		}
	}
	ms := now.UnixMilli()
	for k, r := range c.rates {
		if r.levelAt(ms) == 0 {
			delete(c.rates, k)
		}
	}
}

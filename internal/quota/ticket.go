// SPDX-License-Identifier: Apache-2.0

package quota

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/keygate/keygate"
)

// Ticket is an admitted call's hold on its tenant's budgets and rate
// limits. End it exactly once, with Settle when the call ran (even partly)
// or Release when it failed before using anything; later calls are no-ops.
// Safe for concurrent use.
type Ticket struct {
	s      *Service
	tenant keygate.TenantID
	token  string // the gateway token, when its own limits are counted
	id     string
	nb, nr int
	// A call meets at most ten budget counters (day and month, in money
	// and tokens, of the tenant and of its token, and its end user's day
	// in both) and six rate counters (RPM and TPM, for its provider, for
	// every provider and of its token); fixed arrays keep admission to one
	// allocation besides the keys.
	budgets [10]keygate.QuotaBudget
	bmeta   [10]budgetMeta
	rates   [6]keygate.QuotaRate
	rmeta   [6]rateMeta
	over    string
	done    atomic.Bool
}

// Over names the soft budget limit (LimitDailyUSD ...) that this call
// passed, "" if none. Hard limits never get here: they refuse.
func (t *Ticket) Over() string { return t.over }

// Settle ends the call with its actual usage (tokens: input plus output;
// micro-USD: its cost): each budget reservation is replaced by the actual
// tokens or micro-USD, and the TPM counters are
// corrected by actual tokens minus the tokens charged at admission.
// Negative actuals count as zero. It runs even if ctx is cancelled (bounded
// by Options.SettleTimeout when set). The error (the counter could not be reached;
// the reservation then expires after Options.ReserveTTL and the usage is
// not counted) is for the caller to log.
func (t *Ticket) Settle(ctx context.Context, actualTokens, actualMicros int64) error {
	return t.finish(ctx, max(actualTokens, 0), max(actualMicros, 0), false)
}

// Release ends a call that used nothing (it failed before the provider did
// any work): reservations are dropped, TPM charges given back, and the
// request still counts toward RPM. Errors as for Settle.
func (t *Ticket) Release(ctx context.Context) error {
	return t.finish(ctx, 0, 0, true)
}

func (t *Ticket) finish(ctx context.Context, tokens, micros int64, release bool) error {
	if t == nil || !t.done.CompareAndSwap(false, true) {
		return nil
	}
	// The ticket is done: its own arrays become the settlement, which
	// keeps Settle free of allocations.
	for i := range t.nb {
		t.budgets[i].Amount = micros
		if t.bmeta[i].tokens {
			t.budgets[i].Amount = tokens
		}
	}
	nr := 0
	for i := range t.nr {
		if t.rmeta[i].limit != LimitTPM {
			continue // a request is a request, whatever happened
		}
		r := t.rates[i]
		if release {
			r.Cost = -r.Cost
		} else {
			r.Cost = tokens - r.Cost
		}
		if r.Cost != 0 {
			t.rates[nr] = r
			nr++
		}
	}
	if t.nb == 0 && nr == 0 {
		return nil
	}
	ctx = context.WithoutCancel(ctx)
	if d := t.s.opt.SettleTimeout; d > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	err := t.s.counter.Settle(ctx, keygate.QuotaRequest{
		ID:      t.id,
		Now:     t.s.opt.Now(),
		Budgets: t.budgets[:t.nb],
		Rates:   t.rates[:nr],
	})
	if err != nil {
		return fmt.Errorf("settle call of %s: %w", t.tenant, err)
	}
	return nil
}

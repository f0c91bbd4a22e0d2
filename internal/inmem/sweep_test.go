// SPDX-License-Identifier: Apache-2.0

package inmem

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/keygate/keygate"
)

// TestSweepForgets checks that memory follows the live windows: budget
// counters past their ExpireAt with no live reservation, and drained rate
// counters, are dropped; live ones stay.
func TestSweepForgets(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC)
	c := NewCounter()
	for i := range 100 {
		k := "{tn_" + strconv.Itoa(i) + "}"
		r := keygate.QuotaRequest{ID: "r" + strconv.Itoa(i), Now: t0, ReserveTTL: 10 * time.Minute,
			Budgets: []keygate.QuotaBudget{{Key: k + ":b", Limit: 10, Amount: 1, ExpireAt: t0.Add(time.Hour)}},
			Rates:   []keygate.QuotaRate{{Key: k + ":r", Limit: 10, Period: time.Minute, Cost: 1}}}
		if _, err := c.Admit(ctx, r); err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			r.Budgets[0].Amount, r.Rates = 1, nil
			if err := c.Settle(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
	}
	live := keygate.QuotaRequest{ID: "live", Now: t0.Add(2 * time.Hour), ReserveTTL: 10 * time.Minute,
		Budgets: []keygate.QuotaBudget{{Key: "{tn_live}:b", Limit: 10, Amount: 1, ExpireAt: t0.Add(3 * time.Hour)}},
		Rates:   []keygate.QuotaRate{{Key: "{tn_live}:r", Limit: 10, Period: time.Minute, Cost: 0}}}
	for range sweepEvery { // the sweep runs within these
		if _, err := c.Admit(ctx, live); err != nil {
			t.Fatal(err)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.budgets) != 1 || c.budgets["{tn_live}:b"] == nil {
		t.Errorf("%d budget counters left, want only the live one", len(c.budgets))
	}
	if len(c.rates) > 1 {
		t.Errorf("%d rate counters left, want at most the live one", len(c.rates))
	}
}

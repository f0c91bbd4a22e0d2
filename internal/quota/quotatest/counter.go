// SPDX-License-Identifier: Apache-2.0

package quotatest

import (
	"context"
	"testing"
	"time"

	"github.com/keygate/keygate"
)

func testBudget(t *testing.T, open Opener) {
	soft := func(limit, amount int64) keygate.QuotaBudget {
		b := budget("{tn_1}:b:soft", limit, amount)
		b.Enforce = false
		return b
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"AdmitsUntilLimit", []step{
			{name: "3 of 10", req: admit("a", 0, bs(budget("{tn_1}:b:x", 10, 3))), want: ok},
			{name: "6 of 10", req: admit("b", 0, bs(budget("{tn_1}:b:x", 10, 3))), want: ok},
			{name: "9 of 10", req: admit("c", 0, bs(budget("{tn_1}:b:x", 10, 3))), want: ok},
			{name: "12 of 10", req: admit("d", 0, bs(budget("{tn_1}:b:x", 10, 3))), want: refused("{tn_1}:b:x")},
			{name: "10 of 10", req: admit("e", 0, bs(budget("{tn_1}:b:x", 10, 1))), want: ok},
		}},
		{"ZeroAmountNeedsRoom", []step{
			{name: "empty", req: admit("a", 0, bs(budget("{tn_1}:b:x", 10, 0))), want: ok},
			{name: "fill", req: admit("b", 0, bs(budget("{tn_1}:b:x", 10, 10))), want: ok},
			{name: "spent", req: admit("c", 0, bs(budget("{tn_1}:b:x", 10, 0))), want: refused("{tn_1}:b:x")},
		}},
		{"ZeroLimitRefusesAll", []step{
			{name: "zero", req: admit("a", 0, bs(budget("{tn_1}:b:x", 0, 0))), want: refused("{tn_1}:b:x")},
		}},
		{"SoftNeverRefuses", []step{
			{name: "under", req: admit("a", 0, bs(soft(5, 3))), want: ok},
			{name: "over", req: admit("b", 0, bs(soft(5, 3))), want: keygate.QuotaResult{Over: "{tn_1}:b:soft"}},
			{name: "further", req: admit("c", 0, bs(soft(5, 3))), want: keygate.QuotaResult{Over: "{tn_1}:b:soft"}},
		}},
		{"AllOrNothing", []step{
			{name: "both", req: admit("a", 0, bs(budget("{tn_1}:b:big", 10, 2), budget("{tn_1}:b:small", 2, 2))), want: ok},
			{name: "small refuses", req: admit("b", 0, bs(budget("{tn_1}:b:big", 10, 2), budget("{tn_1}:b:small", 2, 2))), want: refused("{tn_1}:b:small")},
			{name: "big kept 8", req: admit("c", 0, bs(budget("{tn_1}:b:big", 10, 8))), want: ok},
			{name: "big full", req: admit("d", 0, bs(budget("{tn_1}:b:big", 10, 1))), want: refused("{tn_1}:b:big")},
		}},
		{"FirstRefusalReported", []step{
			{name: "fill b", req: admit("a", 0, bs(budget("{tn_1}:b:b", 1, 1))), want: ok},
			{name: "fill a", req: admit("b", 0, bs(budget("{tn_1}:b:a", 1, 1))), want: ok},
			{name: "a first", req: admit("c", 0, bs(budget("{tn_1}:b:a", 1, 1), budget("{tn_1}:b:b", 1, 1))), want: refused("{tn_1}:b:a")},
		}},
		{"KeysIndependent", []step{
			{name: "fill x", req: admit("a", 0, bs(budget("{tn_1}:b:x", 5, 5))), want: ok},
			{name: "y empty", req: admit("b", 0, bs(budget("{tn_1}:b:y", 5, 5))), want: ok},
			{name: "other tenant", req: admit("c", 0, bs(budget("{tn_2}:b:x", 5, 5))), want: ok},
		}},
		{"ReservationExpires", []step{
			{name: "fill", req: admit("a", 0, bs(budget("{tn_1}:b:x", 10, 10))), want: ok},
			{name: "at ttl still held", req: admit("b", 10*time.Minute, bs(budget("{tn_1}:b:x", 10, 1))), want: refused("{tn_1}:b:x")},
			{name: "after ttl gone", req: admit("c", 10*time.Minute+time.Millisecond, bs(budget("{tn_1}:b:x", 10, 10))), want: ok},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			runSteps(t, open(t)(), tc.steps)
		})
	}
}

func testSettle(t *testing.T, open Opener) {
	x := func(limit, amount int64) []keygate.QuotaBudget { return bs(budget("{tn_1}:b:x", limit, amount)) }
	tests := []struct {
		name  string
		steps []step
	}{
		{"CommitsActual", []step{
			{name: "reserve 10", req: admit("a", 0, x(10, 10)), want: ok},
			{name: "actual 4", settle: true, req: settle("a", time.Second, x(0, 4))},
			{name: "6 left", req: admit("b", time.Second, x(10, 6)), want: ok},
			{name: "none left", req: admit("c", time.Second, x(10, 0)), want: refused("{tn_1}:b:x")},
		}},
		{"ActualAboveEstimate", []step{
			{name: "reserve 2", req: admit("a", 0, x(10, 2)), want: ok},
			{name: "actual 12", settle: true, req: settle("a", 0, x(0, 12))},
			{name: "over", req: admit("b", 0, x(10, 0)), want: refused("{tn_1}:b:x")},
		}},
		{"ReleaseFrees", []step{
			{name: "fill", req: admit("a", 0, x(10, 10)), want: ok},
			{name: "release", settle: true, req: settle("a", 0, x(0, 0))},
			{name: "again", req: admit("b", 0, x(10, 10)), want: ok},
		}},
		{"SecondSettleDropsNothingMore", []step{
			{name: "a", req: admit("a", 0, x(10, 5)), want: ok},
			{name: "b", req: admit("b", 0, x(10, 5)), want: ok},
			{name: "release a", settle: true, req: settle("a", 0, x(0, 0))},
			{name: "release a again", settle: true, req: settle("a", 0, x(0, 0))},
			{name: "5 free", req: admit("c", 0, x(10, 5)), want: ok},
			{name: "b still held", req: admit("d", 0, x(10, 1)), want: refused("{tn_1}:b:x")},
		}},
		{"SettleAfterExpiryStillCommits", []step{
			{name: "a", req: admit("a", 0, x(10, 10)), want: ok},
			{name: "b after a expired", req: admit("b", 11*time.Minute, x(10, 10)), want: ok},
			{name: "a actual 3", settle: true, req: settle("a", 11*time.Minute, x(0, 3))},
			{name: "b release", settle: true, req: settle("b", 11*time.Minute, x(0, 0))},
			{name: "7 left", req: admit("c", 11*time.Minute, x(10, 7)), want: ok},
			{name: "none", req: admit("d", 11*time.Minute, x(10, 1)), want: refused("{tn_1}:b:x")},
		}},
		{"SettleWithoutAdmission", []step{
			{name: "commit", settle: true, req: settle("a", 0, x(0, 9))},
			{name: "1 left", req: admit("b", 0, x(10, 1)), want: ok},
			{name: "none", req: admit("c", 0, x(10, 1)), want: refused("{tn_1}:b:x")},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			runSteps(t, open(t)(), tc.steps)
		})
	}
}

func testRate(t *testing.T, open Opener) {
	const k = "{tn_1}:r:openai:rpm"
	r := func(limit, cost int64) keygate.QuotaRate { return rate(k, limit, cost) }
	retry := func(d time.Duration) keygate.QuotaResult { return keygate.QuotaResult{Refused: k, RetryAfter: d} }
	var burst []step
	for i := range 5 {
		burst = append(burst, step{name: "burst " + id(i), req: admit(id(i), 0, nil, r(5, 1)), want: ok})
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"BurstOfLimit", append(burst[:5:5],
			step{name: "sixth", req: admit("x", 0, nil, r(5, 1)), want: retry(12 * time.Second)},
			step{name: "later", req: admit("y", 5*time.Second, nil, r(5, 1)), want: retry(7 * time.Second)},
		)},
		{"Drains", append(burst[:5:5],
			step{name: "one drained", req: admit("x", 12*time.Second, nil, r(5, 1)), want: ok},
			step{name: "then full", req: admit("y", 12*time.Second, nil, r(5, 1)), want: retry(12 * time.Second)},
			step{name: "all drained", req: admit("z", 72*time.Second, nil, r(5, 5)), want: ok},
			step{name: "full again", req: admit("w", 72*time.Second, nil, r(5, 1)), want: retry(12 * time.Second)},
		)},
		{"CostAboveLimitNeverFits", []step{
			{name: "six of five", req: admit("a", 0, nil, r(5, 6)), want: retry(12 * time.Second)},
		}},
		{"ExactForOddLimits", []step{
			{name: "seven", req: admit("a", 0, nil, r(7, 7)), want: ok},
			{name: "eighth", req: admit("b", 0, nil, r(7, 1)), want: retry(8572 * time.Millisecond)},
		}},
		{"LargeLimits", []step{
			{name: "billion", req: admit("a", 0, nil, r(1_000_000_000, 1_000_000_000)), want: ok},
			{name: "one more", req: admit("b", 0, nil, r(1_000_000_000, 1)), want: retry(time.Millisecond)},
		}},
		{"ZeroCostChecksDebt", []step{
			{name: "fill", req: admit("a", 0, nil, r(100, 100)), want: ok},
			{name: "zero fits full", req: admit("b", 0, nil, r(100, 0)), want: ok},
			{name: "debt", settle: true, req: settle("a", 0, nil, r(100, 30))},
			{name: "zero refused in debt", req: admit("c", 0, nil, r(100, 0)), want: retry(18 * time.Second)},
		}},
		{"CorrectionUp", []step{
			{name: "50", req: admit("a", 0, nil, r(100, 50)), want: ok},
			{name: "+100", settle: true, req: settle("a", 0, nil, r(100, 100))},
			{name: "refused", req: admit("b", 0, nil, r(100, 1)), want: retry(30600 * time.Millisecond)},
		}},
		{"CorrectionDown", []step{
			{name: "100", req: admit("a", 0, nil, r(100, 100)), want: ok},
			{name: "-60", settle: true, req: settle("a", 0, nil, r(100, -60))},
			{name: "60 fit", req: admit("b", 0, nil, r(100, 60)), want: ok},
			{name: "1 does not", req: admit("c", 0, nil, r(100, 1)), want: retry(600 * time.Millisecond)},
		}},
		{"CorrectionNeverBelowZero", []step{
			{name: "10", req: admit("a", 0, nil, r(100, 10)), want: ok},
			{name: "-500", settle: true, req: settle("a", 0, nil, r(100, -500))},
			{name: "100 fit", req: admit("b", 0, nil, r(100, 100)), want: ok},
			{name: "1 does not", req: admit("c", 0, nil, r(100, 1)), want: retry(600 * time.Millisecond)},
		}},
		{"ClockBehind", []step{
			{name: "fill", req: admit("a", time.Minute, nil, r(2, 2)), want: ok},
			{name: "earlier replica", req: admit("b", 0, nil, r(2, 1)), want: retry(30 * time.Second)},
			{name: "drains from latest", req: admit("c", time.Minute+30*time.Second, nil, r(2, 1)), want: ok},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			runSteps(t, open(t)(), tc.steps)
		})
	}
}

// testMixed checks that budgets and rates in one request are all or
// nothing together.
func testMixed(t *testing.T, open Opener) {
	const bk, rk = "{tn_1}:b:x", "{tn_1}:r:*:rpm"
	tests := []struct {
		name  string
		steps []step
	}{
		{"RateRefusalReservesNothing", []step{
			{name: "both", req: admit("a", 0, bs(budget(bk, 10, 5)), rate(rk, 1, 1)), want: ok},
			{name: "rate refuses", req: admit("b", 0, bs(budget(bk, 10, 5)), rate(rk, 1, 1)), want: keygate.QuotaResult{Refused: rk, RetryAfter: time.Minute}},
			{name: "budget kept 5", req: admit("c", 0, bs(budget(bk, 10, 5))), want: ok},
		}},
		{"BudgetRefusalConsumesNoRate", []step{
			{name: "fill budget", req: admit("a", 0, bs(budget(bk, 5, 5))), want: ok},
			{name: "budget refuses", req: admit("b", 0, bs(budget(bk, 5, 1)), rate(rk, 1, 1)), want: refused(bk)},
			{name: "rate unused", req: admit("c", 0, nil, rate(rk, 1, 1)), want: ok},
		}},
		{"SoftOverWithRate", []step{
			{name: "soft passed", req: admit("a", 0, bs(keygate.QuotaBudget{Key: bk, Limit: 1, Amount: 2, ExpireAt: t0.Add(time.Hour)}), rate(rk, 5, 1)), want: keygate.QuotaResult{Over: bk}},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			runSteps(t, open(t)(), tc.steps)
		})
	}
}

func testInvalid(t *testing.T, open Opener) {
	tests := []struct {
		name string
		req  keygate.QuotaRequest
	}{
		{"ErrRateLimitZero", admit("a", 0, nil, rate("{tn_1}:r:x", 0, 1))},
		{"ErrRatePeriodZero", admit("a", 0, nil, keygate.QuotaRate{Key: "{tn_1}:r:x", Limit: 1, Cost: 1})},
		{"ErrRateKeyEmpty", admit("a", 0, nil, rate("", 1, 1))},
		{"ErrBudgetKeyEmpty", admit("a", 0, bs(budget("", 1, 1)))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := open(t)()
			if _, err := c.Admit(context.Background(), tc.req); err == nil {
				t.Error("Admit: no error")
			}
			if err := c.Settle(context.Background(), tc.req); err == nil {
				t.Error("Settle: no error")
			}
		})
	}
}

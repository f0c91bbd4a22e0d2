// SPDX-License-Identifier: Apache-2.0

package quotatest

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/quota"
)

// cluster is Replicas Services, each on its own Counter view of one
// namespace, sharing a fake clock: replicas of one deployment.
type cluster struct {
	clock    *Clock
	services []*quota.Service
	soft     atomic.Int64 // OnSoftExceeded calls
}

func newCluster(tb testing.TB, open Opener, now time.Time) *cluster {
	cl := &cluster{clock: NewClock(now)}
	for _, c := range replicas(tb, open, Replicas) {
		cl.services = append(cl.services, quota.New(c, quota.Options{
			Now:            cl.clock.Now,
			ReserveTTL:     10 * time.Minute,
			OnSoftExceeded: func(keygate.TenantID, string) { cl.soft.Add(1) },
		}))
	}
	return cl
}

// outcome tallies a wave of calls.
type outcome struct {
	Admitted int
	Denied   map[string]int // by code/limit
	Errors   int
}

// wave runs Calls concurrent admissions of call (spread over the replicas)
// and then end on each admitted ticket, and tallies the outcome. Refusals
// are checked with check. The tickets are returned when hold is set and
// end is nil.
func (cl *cluster) wave(t *testing.T, call quota.Call, end func(*quota.Ticket) error, check func(*quota.Denied)) (outcome, []*quota.Ticket) {
	t.Helper()
	var (
		mu      sync.Mutex
		out     = outcome{Denied: map[string]int{}}
		tickets []*quota.Ticket
	)
	ctx := context.Background()
	race(func(i int) bool {
		tk, err := cl.services[i%Replicas].Admit(ctx, call)
		if err == nil && end != nil {
			err = end(tk)
		}
		mu.Lock()
		defer mu.Unlock()
		var d *quota.Denied
		switch {
		case err == nil:
			out.Admitted++
			if end == nil {
				tickets = append(tickets, tk)
			}
		case errors.As(err, &d):
			out.Denied[keygate.ErrorCode(err)+"/"+d.Limit]++
			if check != nil {
				check(d)
			}
		default:
			out.Errors++
			t.Errorf("call %d: %v", i, err)
		}
		return err == nil
	})
	return out, tickets
}

func settleAll(t *testing.T, tickets []*quota.Ticket, tokens, micros int64) {
	t.Helper()
	for _, tk := range tickets {
		if err := tk.Settle(context.Background(), tokens, micros); err != nil {
			t.Fatalf("Settle: %v", err)
		}
	}
}

func ptr(v int64) *int64 { return &v }

func wantOutcome(t *testing.T, what string, want, got outcome) {
	t.Helper()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", what, diff)
	}
}

func testService(t *testing.T, open Opener) {
	const tenant = keygate.TenantID("tn_q")
	platformCall := func(b keygate.Budget, limits []keygate.RateLimit, tokens, micros int64) quota.Call {
		b.Tenant = tenant
		return quota.Call{Tenant: tenant, Provider: "openai", Source: keygate.SourcePlatform, Budget: b, Limits: limits,
			EstimateTokens: tokens, EstimateMicros: micros}
	}
	settleWith := func(tokens, micros int64) func(*quota.Ticket) error {
		return func(tk *quota.Ticket) error { return tk.Settle(context.Background(), tokens, micros) }
	}
	midnight := time.Date(2026, 1, 6, 0, 0, 0, 0, time.UTC)

	t.Run("BudgetExact", func(t *testing.T) {
		cl := newCluster(t, open, t0)
		call := platformCall(keygate.Budget{Hard: true, DailyUSDMicros: ptr(Allowed * 2500)}, nil, 10, 2500)
		check := func(d *quota.Denied) {
			if !d.ResetAt.Equal(midnight) || d.RetryAfter != 12*time.Hour {
				t.Errorf("refusal resets at %v after %v, want %v after 12h", d.ResetAt, d.RetryAfter, midnight)
			}
		}
		got, _ := cl.wave(t, call, settleWith(10, 2500), check)
		wantOutcome(t, "wave", outcome{Admitted: Allowed, Denied: map[string]int{"budget_exceeded/daily_usd": Calls - Allowed}}, got)
		got, _ = cl.wave(t, call, settleWith(10, 2500), nil)
		wantOutcome(t, "after", outcome{Denied: map[string]int{"budget_exceeded/daily_usd": Calls}}, got)
	})

	t.Run("BudgetSecondWaveUsesRemainder", func(t *testing.T) {
		cl := newCluster(t, open, t0)
		call := platformCall(keygate.Budget{Hard: true, MonthlyTokens: ptr(Allowed * 10)}, nil, 10, 0)
		got, tickets := cl.wave(t, call, nil, nil)
		wantOutcome(t, "first wave (held)", outcome{Admitted: Allowed, Denied: map[string]int{"budget_exceeded/monthly_tokens": Calls - Allowed}}, got)
		settleAll(t, tickets, 4, 0) // 400 of 1000 used: 600 free, 60 calls of 10
		got, _ = cl.wave(t, call, nil, nil)
		wantOutcome(t, "second wave", outcome{Admitted: 60, Denied: map[string]int{"budget_exceeded/monthly_tokens": Calls - 60}}, got)
	})

	for _, tc := range []struct {
		name   string
		limit  keygate.RateLimit
		tokens int64
		denied string
		retry  time.Duration
	}{
		{"RPMExact", keygate.RateLimit{RPM: Allowed}, 10, "rate_limited/rpm", 600 * time.Millisecond},
		{"TPMExact", keygate.RateLimit{Provider: "openai", TPM: Allowed * 10}, 10, "rate_limited/tpm", 600 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cl := newCluster(t, open, t0)
			call := platformCall(keygate.Budget{}, []keygate.RateLimit{tc.limit}, tc.tokens, 0)
			check := func(d *quota.Denied) {
				if d.RetryAfter != tc.retry || !d.ResetAt.IsZero() {
					t.Errorf("refusal: retry after %v, reset %v; want %v, none", d.RetryAfter, d.ResetAt, tc.retry)
				}
			}
			want := outcome{Admitted: Allowed, Denied: map[string]int{tc.denied: Calls - Allowed}}
			got, _ := cl.wave(t, call, settleWith(tc.tokens, 0), check)
			wantOutcome(t, "first minute", want, got)
			cl.clock.Advance(time.Minute)
			got, _ = cl.wave(t, call, settleWith(tc.tokens, 0), check)
			wantOutcome(t, "next minute", want, got)
		})
	}

	t.Run("TPMSettleGivesBack", func(t *testing.T) {
		cl := newCluster(t, open, t0)
		call := platformCall(keygate.Budget{}, []keygate.RateLimit{{TPM: Allowed * 10}}, 10, 0)
		got, tickets := cl.wave(t, call, nil, nil)
		wantOutcome(t, "held", outcome{Admitted: Allowed, Denied: map[string]int{"rate_limited/tpm": Calls - Allowed}}, got)
		settleAll(t, tickets, 5, 0) // 500 of 1000 tokens given back
		got, _ = cl.wave(t, call, nil, nil)
		wantOutcome(t, "after", outcome{Admitted: 50, Denied: map[string]int{"rate_limited/tpm": Calls - 50}}, got)
	})

	for _, tc := range []struct {
		name  string
		start time.Time
		reset time.Time
		b     keygate.Budget
	}{
		{"DailyWindowResets", time.Date(2026, 1, 5, 23, 59, 59, 0, time.UTC), midnight,
			keygate.Budget{Hard: true, DailyTokens: ptr(100)}},
		{"MonthlyWindowResets", time.Date(2026, 1, 31, 23, 0, 0, 0, time.UTC), time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC),
			keygate.Budget{Hard: true, MonthlyUSDMicros: ptr(1000)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cl := newCluster(t, open, tc.start)
			s, ctx := cl.services[0], context.Background()
			call := platformCall(tc.b, nil, 100, 1000)
			MustAdmit(t, s, call).MustSettle(t, 100, 1000)
			_, err := s.Admit(ctx, call)
			d, ok := quota.AsDenied(err)
			if !ok || !d.ResetAt.Equal(tc.reset) || d.RetryAfter != max(tc.reset.Sub(tc.start), time.Second) {
				t.Fatalf("spent: Admit = %v; want budget_exceeded resetting at %v", err, tc.reset)
			}
			cl.clock.Set(tc.reset.Add(-time.Millisecond))
			if _, err := cl.services[1].Admit(ctx, call); !keygate.IsCode(err, keygate.CodeBudgetExceeded) {
				t.Fatalf("just before reset: Admit = %v, want budget_exceeded", err)
			}
			cl.clock.Set(tc.reset)
			MustAdmit(t, cl.services[2], call)
		})
	}

	t.Run("SoftNeverRefuses", func(t *testing.T) {
		cl := newCluster(t, open, t0)
		call := platformCall(keygate.Budget{DailyTokens: ptr(100)}, nil, 10, 0)
		got, tickets := cl.wave(t, call, nil, nil)
		wantOutcome(t, "wave", outcome{Admitted: Calls, Denied: map[string]int{}}, got)
		over := 0
		for _, tk := range tickets {
			if tk.Over() == quota.LimitDailyTokens {
				over++
			}
		}
		if want := Calls - 10; over != want || cl.soft.Load() != int64(want) {
			t.Errorf("%d tickets over, %d callbacks; want %d", over, cl.soft.Load(), want)
		}
	})

	t.Run("ReleaseFrees", func(t *testing.T) {
		cl := newCluster(t, open, t0)
		call := platformCall(keygate.Budget{Hard: true, DailyTokens: ptr(100)}, []keygate.RateLimit{{RPM: 2, TPM: 100}}, 100, 0)
		MustAdmit(t, cl.services[0], call).MustRelease(t)
		MustAdmit(t, cl.services[1], call) // budget and TPM given back
		_, err := cl.services[2].Admit(context.Background(), call)
		if d, ok := quota.AsDenied(err); !ok || d.Limit != quota.LimitDailyTokens {
			t.Fatalf("third: Admit = %v, want the daily token budget to refuse", err)
		}
		call.Budget = keygate.Budget{}
		call.EstimateTokens = 0
		_, err = cl.services[0].Admit(context.Background(), call)
		if d, ok := quota.AsDenied(err); !ok || d.Limit != quota.LimitRPM {
			t.Fatalf("fourth: Admit = %v, want RPM to refuse (a released call still counts)", err)
		}
	})

	t.Run("AbandonedReservationExpires", func(t *testing.T) {
		cl := newCluster(t, open, t0)
		call := platformCall(keygate.Budget{Hard: true, DailyTokens: ptr(100)}, nil, 100, 0)
		MustAdmit(t, cl.services[0], call) // its replica "dies": never settled
		cl.clock.Advance(10 * time.Minute)
		if _, err := cl.services[1].Admit(context.Background(), call); !keygate.IsCode(err, keygate.CodeBudgetExceeded) {
			t.Fatalf("within TTL: Admit = %v, want budget_exceeded", err)
		}
		cl.clock.Advance(time.Millisecond)
		MustAdmit(t, cl.services[1], call)
	})

	t.Run("PerUserDaily", func(t *testing.T) {
		// User A spends its per-user day; user B of the same tenant keeps
		// working, as do calls that name no user; A works again at
		// midnight. The tenant's own budget counts all of them.
		cl := newCluster(t, open, t0)
		b := keygate.Budget{Hard: true, DailyUSDMicros: ptr(10 * Calls * 2500), PerUserDailyUSDMicros: ptr(Allowed * 2500)}
		alice, bob, anon := platformCall(b, nil, 10, 2500), platformCall(b, nil, 10, 2500), platformCall(b, nil, 10, 2500)
		alice.User, bob.User = "alice@example.com", "org:7+bob"
		check := func(d *quota.Denied) {
			msg := keygate.ErrorMessage(d)
			if !strings.Contains(msg, "per-user daily limit") || strings.Contains(msg, "alice") || !d.ResetAt.Equal(midnight) {
				t.Errorf("refusal %q resetting at %v: want the per-user daily limit named, no user id, reset at %v", msg, d.ResetAt, midnight)
			}
		}
		denied := map[string]int{"budget_exceeded/per_user_daily_usd": Calls - Allowed}
		got, _ := cl.wave(t, alice, settleWith(10, 2500), check)
		wantOutcome(t, "alice", outcome{Admitted: Allowed, Denied: denied}, got)
		got, _ = cl.wave(t, bob, settleWith(10, 2500), check)
		wantOutcome(t, "bob, same tenant", outcome{Admitted: Allowed, Denied: denied}, got)
		got, _ = cl.wave(t, anon, settleWith(10, 2500), nil)
		wantOutcome(t, "no end user", outcome{Admitted: Calls, Denied: map[string]int{}}, got)
		got, _ = cl.wave(t, alice, settleWith(10, 2500), nil)
		wantOutcome(t, "alice again", outcome{Denied: map[string]int{"budget_exceeded/per_user_daily_usd": Calls}}, got)
		cl.clock.Set(midnight)
		MustAdmit(t, cl.services[1], alice)

		// A per-user token limit, soft: measured, never refused.
		soft := keygate.Budget{PerUserDailyTokens: ptr(10)}
		carol := platformCall(soft, nil, 10, 0)
		carol.User = "carol"
		MustAdmit(t, cl.services[0], carol).MustSettle(t, 10, 0)
		if tk := MustAdmit(t, cl.services[2], carol); tk.Over() != quota.LimitUserDailyTokens {
			t.Errorf("soft per-user limit passed: Over = %q, want %q", tk.Over(), quota.LimitUserDailyTokens)
		}
	})

	t.Run("AppliesTo", func(t *testing.T) {
		spent := keygate.Budget{Hard: true, DailyTokens: ptr(0)}
		tests := []struct {
			name      string
			appliesTo string
			source    keygate.KeySource
			want      outcome
		}{
			{"PlatformBudgetSkipsTenantKey", keygate.AppliesToPlatform, keygate.SourceTenant, outcome{Admitted: Calls, Denied: map[string]int{}}},
			{"PlatformBudgetSkipsRequestKey", "", keygate.SourceRequest, outcome{Admitted: Calls, Denied: map[string]int{}}},
			{"AllBudgetLimitsTenantKey", keygate.AppliesToAll, keygate.SourceTenant, outcome{Denied: map[string]int{"budget_exceeded/daily_tokens": Calls}}},
			{"PlatformBudgetLimitsPlatform", "", keygate.SourcePlatform, outcome{Denied: map[string]int{"budget_exceeded/daily_tokens": Calls}}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				cl := newCluster(t, open, t0)
				b := spent
				b.AppliesTo = tc.appliesTo
				call := platformCall(b, []keygate.RateLimit{{RPM: 1, AppliesTo: tc.appliesTo}}, 1, 0)
				call.Source = tc.source
				got, _ := cl.wave(t, call, settleWith(1, 0), nil)
				wantOutcome(t, "wave", tc.want, got)
			})
		}
	})
}

// testTokenScopes: a gateway token's own budget and rate limits (its
// scope's) are counted in counters of their own beside the tenant's, exact
// under concurrency; spending one token's budget leaves the tenant's other
// tokens working; the tenant's budget still binds a token whose own is
// larger; a refusal names the token whose limit refused.
func testTokenScopes(t *testing.T, open Opener) {
	const tenant = keygate.TenantID("tn_q")
	tokenCall := func(token string, scope keygate.TokenScope, b keygate.Budget, micros int64) quota.Call {
		b.Tenant = tenant
		return quota.Call{Tenant: tenant, Provider: "openai", Source: keygate.SourceTenant, Budget: b,
			Token: token, TokenScope: &scope, EstimateTokens: 10, EstimateMicros: micros}
	}
	settle := func(tk *quota.Ticket) error { return tk.Settle(context.Background(), 10, 2500) }
	checkToken := func(want string) func(*quota.Denied) {
		return func(d *quota.Denied) {
			if d.Token != want {
				t.Errorf("refusal names token %q, want %q (%v)", d.Token, want, d.Err)
			}
		}
	}

	t.Run("BudgetExactPerToken", func(t *testing.T) {
		cl := newCluster(t, open, t0)
		scope := keygate.TokenScope{DailyUSDMicros: ptr(Allowed * 2500)}
		got, _ := cl.wave(t, tokenCall("gt_a", scope, keygate.Budget{}, 2500), settle, checkToken("gt_a"))
		wantOutcome(t, "token a", outcome{Admitted: Allowed, Denied: map[string]int{"budget_exceeded/daily_usd": Calls - Allowed}}, got)
		// Another token of the same tenant, with the same budget of its
		// own, is untouched by a's spending.
		got, _ = cl.wave(t, tokenCall("gt_b", scope, keygate.Budget{}, 2500), settle, checkToken("gt_b"))
		wantOutcome(t, "token b", outcome{Admitted: Allowed, Denied: map[string]int{"budget_exceeded/daily_usd": Calls - Allowed}}, got)
		// And a token without limits of its own is not limited at all.
		got, _ = cl.wave(t, tokenCall("gt_c", keygate.TokenScope{Providers: []string{"openai"}}, keygate.Budget{}, 2500), settle, nil)
		wantOutcome(t, "token c", outcome{Admitted: Calls, Denied: map[string]int{}}, got)
	})

	t.Run("TenantBudgetStillBinds", func(t *testing.T) {
		cl := newCluster(t, open, t0)
		scope := keygate.TokenScope{DailyUSDMicros: ptr(Calls * 2500)}
		tenantBudget := keygate.Budget{Hard: true, DailyUSDMicros: ptr(Allowed * 2500), AppliesTo: keygate.AppliesToAll}
		got, _ := cl.wave(t, tokenCall("gt_a", scope, tenantBudget, 2500), settle, checkToken(""))
		wantOutcome(t, "wave", outcome{Admitted: Allowed, Denied: map[string]int{"budget_exceeded/daily_usd": Calls - Allowed}}, got)
	})

	t.Run("RPMPerToken", func(t *testing.T) {
		cl := newCluster(t, open, t0)
		scope := keygate.TokenScope{RPM: Allowed}
		got, _ := cl.wave(t, tokenCall("gt_a", scope, keygate.Budget{}, 0), settle, checkToken("gt_a"))
		wantOutcome(t, "token a", outcome{Admitted: Allowed, Denied: map[string]int{"rate_limited/rpm": Calls - Allowed}}, got)
		got, _ = cl.wave(t, tokenCall("gt_b", scope, keygate.Budget{}, 0), settle, checkToken("gt_b"))
		wantOutcome(t, "token b", outcome{Admitted: Allowed, Denied: map[string]int{"rate_limited/rpm": Calls - Allowed}}, got)
	})

	t.Run("TokenTPMBesideTenantTPM", func(t *testing.T) {
		cl := newCluster(t, open, t0)
		scope := keygate.TokenScope{TPM: Allowed * 10}
		limits := []keygate.RateLimit{{TPM: Calls * 10, AppliesTo: keygate.AppliesToAll}}
		c := tokenCall("gt_a", scope, keygate.Budget{}, 0)
		c.Limits = limits
		got, _ := cl.wave(t, c, settle, checkToken("gt_a"))
		wantOutcome(t, "wave", outcome{Admitted: Allowed, Denied: map[string]int{"rate_limited/tpm": Calls - Allowed}}, got)
	})
}

// MustAdmit admits c on s or fails tb.
func MustAdmit(tb testing.TB, s *quota.Service, c quota.Call) *TestTicket {
	tb.Helper()
	tk, err := s.Admit(context.Background(), c)
	if err != nil {
		tb.Fatalf("Admit: %v", err)
	}
	return &TestTicket{tk}
}

// TestTicket adds Must helpers to a Ticket.
type TestTicket struct{ *quota.Ticket }

// MustSettle settles the ticket or fails tb.
func (t *TestTicket) MustSettle(tb testing.TB, tokens, micros int64) {
	tb.Helper()
	if err := t.Settle(context.Background(), tokens, micros); err != nil {
		tb.Fatalf("Settle: %v", err)
	}
}

// MustRelease releases the ticket or fails tb.
func (t *TestTicket) MustRelease(tb testing.TB) {
	tb.Helper()
	if err := t.Release(context.Background()); err != nil {
		tb.Fatalf("Release: %v", err)
	}
}

// SPDX-License-Identifier: Apache-2.0

package quota_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/quota"
)

// recorder is a Counter that records requests and answers with res/err:
// for inspecting what the Service asks, and for forcing error paths.
type recorder struct {
	mu      sync.Mutex
	admits  []keygate.QuotaRequest
	settles []keygate.QuotaRequest
	ctxErrs []error // ctx.Err() seen by each Settle
	res     keygate.QuotaResult
	err     error
}

func clone(r keygate.QuotaRequest) keygate.QuotaRequest {
	r.Budgets = append([]keygate.QuotaBudget(nil), r.Budgets...)
	r.Rates = append([]keygate.QuotaRate(nil), r.Rates...)
	return r
}

func (c *recorder) Admit(_ context.Context, r keygate.QuotaRequest) (keygate.QuotaResult, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.admits = append(c.admits, clone(r))
	return c.res, c.err
}

func (c *recorder) Settle(ctx context.Context, r keygate.QuotaRequest) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.settles = append(c.settles, clone(r))
	c.ctxErrs = append(c.ctxErrs, ctx.Err())
	return c.err
}

var (
	t0       = time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC)
	midnight = time.Date(2026, 1, 6, 0, 0, 0, 0, time.UTC)
	feb1     = time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
)

func ptr(v int64) *int64 { return &v }

// MustNew returns a Service on c with a clock fixed at t0.
func MustNew(tb testing.TB, c quota.Counter, opts quota.Options) *quota.Service {
	tb.Helper()
	if opts.Now == nil {
		opts.Now = func() time.Time { return t0 }
	}
	return quota.New(c, opts)
}

// ignoreID ignores reservation ids, which are random per process.
var ignoreID = cmpopts.IgnoreFields(keygate.QuotaRequest{}, "ID")

func TestAdmitCounters(t *testing.T) {
	const tn = keygate.TenantID("tn_1")
	expire := func(end time.Time) time.Time { return end.Add(10*time.Minute + time.Hour) }
	full := keygate.Budget{Hard: true, DailyUSDMicros: ptr(1), MonthlyUSDMicros: ptr(2), DailyTokens: ptr(3), MonthlyTokens: ptr(4)}
	tests := []struct {
		name string
		call quota.Call
		want keygate.QuotaRequest // zero: the counter is not asked
	}{
		{"NoLimits", quota.Call{Tenant: tn, Source: keygate.SourcePlatform}, keygate.QuotaRequest{}},
		{"AllBudgetLimits", quota.Call{Tenant: tn, Provider: "openai", Source: keygate.SourcePlatform, Budget: full, EstimateTokens: 70, EstimateMicros: 900},
			keygate.QuotaRequest{Now: t0, ReserveTTL: 10 * time.Minute, Budgets: []keygate.QuotaBudget{
				{Key: "{tn_1}:b:usd:d20260105", Limit: 1, Amount: 900, Enforce: true, ExpireAt: expire(midnight)},
				{Key: "{tn_1}:b:usd:m202601", Limit: 2, Amount: 900, Enforce: true, ExpireAt: expire(feb1)},
				{Key: "{tn_1}:b:tok:d20260105", Limit: 3, Amount: 70, Enforce: true, ExpireAt: expire(midnight)},
				{Key: "{tn_1}:b:tok:m202601", Limit: 4, Amount: 70, Enforce: true, ExpireAt: expire(feb1)},
			}}},
		{"PerUserLimits", quota.Call{Tenant: tn, User: "a:b", Source: keygate.SourcePlatform, EstimateTokens: 70, EstimateMicros: 900,
			Budget: keygate.Budget{Hard: true, DailyTokens: ptr(3), PerUserDailyUSDMicros: ptr(5), PerUserDailyTokens: ptr(6)}},
			keygate.QuotaRequest{Now: t0, ReserveTTL: 10 * time.Minute, Budgets: []keygate.QuotaBudget{
				{Key: "{tn_1}:b:tok:d20260105", Limit: 3, Amount: 70, Enforce: true, ExpireAt: expire(midnight)},
				{Key: "{tn_1}:u:a:b:b:usd:d20260105", Limit: 5, Amount: 900, Enforce: true, ExpireAt: expire(midnight)},
				{Key: "{tn_1}:u:a:b:b:tok:d20260105", Limit: 6, Amount: 70, Enforce: true, ExpireAt: expire(midnight)},
			}}},
		{"PerUserLimitsNoUser", quota.Call{Tenant: tn, Source: keygate.SourcePlatform,
			Budget: keygate.Budget{Hard: true, PerUserDailyUSDMicros: ptr(5), PerUserDailyTokens: ptr(6)}}, keygate.QuotaRequest{}},
		{"PerUserLimitsSkipTenantKey", quota.Call{Tenant: tn, User: "a", Source: keygate.SourceTenant,
			Budget: keygate.Budget{Hard: true, PerUserDailyUSDMicros: ptr(5)}}, keygate.QuotaRequest{}},
		{"SoftBudgetNegativeEstimate", quota.Call{Tenant: tn, Source: keygate.SourcePlatform, Budget: keygate.Budget{DailyTokens: ptr(5)}, EstimateTokens: -4},
			keygate.QuotaRequest{Now: t0, ReserveTTL: 10 * time.Minute, Budgets: []keygate.QuotaBudget{
				{Key: "{tn_1}:b:tok:d20260105", Limit: 5, ExpireAt: expire(midnight)},
			}}},
		{"OnlyOtherProviderLimits", quota.Call{Tenant: tn, Provider: "openai", Source: keygate.SourcePlatform,
			Limits: []keygate.RateLimit{{Provider: "anthropic", RPM: 1}, {RPM: 0, TPM: 0}}}, keygate.QuotaRequest{}},
		{"BudgetPlatformOnlySkipsTenantKey", quota.Call{Tenant: tn, Source: keygate.SourceTenant, Budget: full}, keygate.QuotaRequest{}},
		{"BudgetForAllCountsRequestKey", quota.Call{Tenant: tn, Source: keygate.SourceRequest, Budget: keygate.Budget{MonthlyTokens: ptr(9), AppliesTo: keygate.AppliesToAll}},
			keygate.QuotaRequest{Now: t0, ReserveTTL: 10 * time.Minute, Budgets: []keygate.QuotaBudget{
				{Key: "{tn_1}:b:tok:m202601", Limit: 9, ExpireAt: expire(feb1)},
			}}},
		{"RatesForProviderAndAll", quota.Call{Tenant: tn, Provider: "openai", Source: keygate.SourcePlatform, EstimateTokens: 500, Limits: []keygate.RateLimit{
			{Provider: "anthropic", RPM: 1, TPM: 1},
			{Provider: "openai", RPM: 10, TPM: 1000},
			{RPM: 20, TPM: 300},
		}}, keygate.QuotaRequest{Now: t0, ReserveTTL: 10 * time.Minute, Rates: []keygate.QuotaRate{
			{Key: "{tn_1}:r:openai:rpm", Limit: 10, Period: time.Minute, Cost: 1},
			{Key: "{tn_1}:r:openai:tpm", Limit: 1000, Period: time.Minute, Cost: 500},
			{Key: "{tn_1}:r:*:rpm", Limit: 20, Period: time.Minute, Cost: 1},
			{Key: "{tn_1}:r:*:tpm", Limit: 300, Period: time.Minute, Cost: 300}, // capped at the limit
		}}},
		{"DuplicateLimitsMergeStricter", quota.Call{Tenant: tn, Provider: "openai", Source: keygate.SourcePlatform, EstimateTokens: 500, Limits: []keygate.RateLimit{
			{Provider: "openai", TPM: 1000},
			{Provider: "openai", TPM: 400},
			{Provider: "openai", TPM: 800},
		}}, keygate.QuotaRequest{Now: t0, ReserveTTL: 10 * time.Minute, Rates: []keygate.QuotaRate{
			{Key: "{tn_1}:r:openai:tpm", Limit: 400, Period: time.Minute, Cost: 400},
		}}},
		{"RatesPlatformOnlySkipTenantKey", quota.Call{Tenant: tn, Provider: "openai", Source: keygate.SourceTenant, Limits: []keygate.RateLimit{
			{RPM: 20},
			{RPM: 5, AppliesTo: keygate.AppliesToAll},
		}}, keygate.QuotaRequest{Now: t0, ReserveTTL: 10 * time.Minute, Rates: []keygate.QuotaRate{
			{Key: "{tn_1}:r:*:rpm", Limit: 5, Period: time.Minute, Cost: 1},
		}}},
		{"CallNowWins", quota.Call{Tenant: tn, Source: keygate.SourcePlatform, Now: feb1.Add(time.Second), Limits: []keygate.RateLimit{{RPM: 1}}},
			keygate.QuotaRequest{Now: feb1.Add(time.Second), ReserveTTL: 10 * time.Minute, Rates: []keygate.QuotaRate{
				{Key: "{tn_1}:r:*:rpm", Limit: 1, Period: time.Minute, Cost: 1},
			}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{}
			tk, err := MustNew(t, rec, quota.Options{}).Admit(context.Background(), tc.call)
			if err != nil {
				t.Fatalf("Admit: %v", err)
			}
			var want []keygate.QuotaRequest
			if tc.want.Budgets != nil || tc.want.Rates != nil {
				want = []keygate.QuotaRequest{tc.want}
			}
			if diff := cmp.Diff(want, rec.admits, ignoreID, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("counter requests (-want +got):\n%s", diff)
			}
			if err := tk.Settle(context.Background(), 1, 1); err != nil {
				t.Fatalf("Settle: %v", err)
			}
			if want == nil && len(rec.settles) != 0 {
				t.Errorf("a ticket that counts nothing settled %d times", len(rec.settles))
			}
		})
	}
}

func TestAdmitIDsUnique(t *testing.T) {
	rec := &recorder{}
	a, b := MustNew(t, rec, quota.Options{}), MustNew(t, rec, quota.Options{})
	call := quota.Call{Tenant: "tn_1", Source: keygate.SourcePlatform, Limits: []keygate.RateLimit{{RPM: 1}}}
	seen := map[string]bool{}
	for range 3 {
		for _, s := range []*quota.Service{a, b} {
			if _, err := s.Admit(context.Background(), call); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, r := range rec.admits {
		if r.ID == "" || seen[r.ID] {
			t.Errorf("reservation id %q empty or reused", r.ID)
		}
		seen[r.ID] = true
	}
}

func TestSettle(t *testing.T) {
	call := quota.Call{Tenant: "tn_1", Provider: "openai", Source: keygate.SourcePlatform,
		Budget:         keygate.Budget{Hard: true, DailyUSDMicros: ptr(100), DailyTokens: ptr(100)},
		Limits:         []keygate.RateLimit{{RPM: 5, TPM: 1000}},
		EstimateTokens: 40, EstimateMicros: 30}
	budgets := func(micros, tokens int64) []keygate.QuotaBudget {
		exp := midnight.Add(time.Hour + 10*time.Minute)
		return []keygate.QuotaBudget{
			{Key: "{tn_1}:b:usd:d20260105", Limit: 100, Amount: micros, Enforce: true, ExpireAt: exp},
			{Key: "{tn_1}:b:tok:d20260105", Limit: 100, Amount: tokens, Enforce: true, ExpireAt: exp},
		}
	}
	tpm := func(cost int64) []keygate.QuotaRate {
		return []keygate.QuotaRate{{Key: "{tn_1}:r:*:tpm", Limit: 1000, Period: time.Minute, Cost: cost}}
	}
	tests := []struct {
		name string
		end  func(context.Context, *quota.Ticket) error
		want []keygate.QuotaRequest
	}{
		{"SettleCommitsActualAndCorrectsTPM", func(ctx context.Context, tk *quota.Ticket) error { return tk.Settle(ctx, 55, 12) },
			[]keygate.QuotaRequest{{Now: t0, Budgets: budgets(12, 55), Rates: tpm(15)}}},
		{"SettleExactEstimateSkipsTPM", func(ctx context.Context, tk *quota.Ticket) error { return tk.Settle(ctx, 40, 30) },
			[]keygate.QuotaRequest{{Now: t0, Budgets: budgets(30, 40)}}},
		{"NegativeActualIsZero", func(ctx context.Context, tk *quota.Ticket) error { return tk.Settle(ctx, -5, -5) },
			[]keygate.QuotaRequest{{Now: t0, Budgets: budgets(0, 0), Rates: tpm(-40)}}},
		{"ReleaseGivesTPMBack", func(ctx context.Context, tk *quota.Ticket) error { return tk.Release(ctx) },
			[]keygate.QuotaRequest{{Now: t0, Budgets: budgets(0, 0), Rates: tpm(-40)}}},
		{"OnlyOnce", func(ctx context.Context, tk *quota.Ticket) error {
			return errors.Join(tk.Settle(ctx, 40, 30), tk.Release(ctx), tk.Settle(ctx, 1, 1))
		}, []keygate.QuotaRequest{{Now: t0, Budgets: budgets(30, 40)}}},
		{"CancelledContextStillSettles", func(ctx context.Context, tk *quota.Ticket) error {
			ctx, cancel := context.WithCancel(ctx)
			cancel()
			return tk.Settle(ctx, 40, 30)
		}, []keygate.QuotaRequest{{Now: t0, Budgets: budgets(30, 40)}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{}
			tk, err := MustNew(t, rec, quota.Options{}).Admit(context.Background(), call)
			if err != nil {
				t.Fatalf("Admit: %v", err)
			}
			if err := tc.end(context.Background(), tk); err != nil {
				t.Fatalf("end: %v", err)
			}
			if diff := cmp.Diff(tc.want, rec.settles, ignoreID, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("settle requests (-want +got):\n%s", diff)
			}
			for i, r := range rec.settles {
				if r.ID != rec.admits[0].ID {
					t.Errorf("settle %d: id %q, want the admission's %q", i, r.ID, rec.admits[0].ID)
				}
				if rec.ctxErrs[i] != nil {
					t.Errorf("settle %d ran with a done context: %v", i, rec.ctxErrs[i])
				}
			}
		})
	}
}

func TestDenied(t *testing.T) {
	call := quota.Call{Tenant: "tn_1", Provider: "openai", Source: keygate.SourcePlatform,
		Budget: keygate.Budget{Hard: true, DailyUSDMicros: ptr(2_500_000), MonthlyUSDMicros: ptr(125), DailyTokens: ptr(100), MonthlyTokens: ptr(1000)},
		Limits: []keygate.RateLimit{{Provider: "openai", RPM: 7}, {TPM: 1000}}}
	type denied struct {
		Code, Message, Limit, Provider string
		RetryAfter                     time.Duration
		RetrySeconds                   int64
		ResetAt                        time.Time
	}
	tests := []struct {
		name string
		res  keygate.QuotaResult
		want denied
	}{
		{"DailyUSD", keygate.QuotaResult{Refused: "{tn_1}:b:usd:d20260105"}, denied{
			Code: keygate.CodeBudgetExceeded, Limit: quota.LimitDailyUSD, RetryAfter: 12 * time.Hour, RetrySeconds: 43200, ResetAt: midnight,
			Message: "The daily budget ($2.50) is used up; it resets at 2026-01-06T00:00:00Z."}},
		{"MonthlyUSD", keygate.QuotaResult{Refused: "{tn_1}:b:usd:m202601"}, denied{
			Code: keygate.CodeBudgetExceeded, Limit: quota.LimitMonthlyUSD, RetryAfter: feb1.Sub(t0), RetrySeconds: int64(feb1.Sub(t0) / time.Second), ResetAt: feb1,
			Message: "The monthly budget ($0.000125) is used up; it resets at 2026-02-01T00:00:00Z."}},
		{"DailyTokens", keygate.QuotaResult{Refused: "{tn_1}:b:tok:d20260105"}, denied{
			Code: keygate.CodeBudgetExceeded, Limit: quota.LimitDailyTokens, RetryAfter: 12 * time.Hour, RetrySeconds: 43200, ResetAt: midnight,
			Message: "The daily token budget (100 tokens) is used up; it resets at 2026-01-06T00:00:00Z."}},
		{"MonthlyTokens", keygate.QuotaResult{Refused: "{tn_1}:b:tok:m202601"}, denied{
			Code: keygate.CodeBudgetExceeded, Limit: quota.LimitMonthlyTokens, RetryAfter: feb1.Sub(t0), RetrySeconds: int64(feb1.Sub(t0) / time.Second), ResetAt: feb1,
			Message: "The monthly token budget (1000 tokens) is used up; it resets at 2026-02-01T00:00:00Z."}},
		{"RPMForProvider", keygate.QuotaResult{Refused: "{tn_1}:r:openai:rpm", RetryAfter: 8572 * time.Millisecond}, denied{
			Code: keygate.CodeRateLimited, Limit: quota.LimitRPM, Provider: "openai", RetryAfter: 8572 * time.Millisecond, RetrySeconds: 9,
			Message: "The rate limit of 7 requests per minute for openai is reached; retry in 9s."}},
		{"TPMForAll", keygate.QuotaResult{Refused: "{tn_1}:r:*:tpm", RetryAfter: time.Millisecond}, denied{
			Code: keygate.CodeRateLimited, Limit: quota.LimitTPM, RetryAfter: time.Millisecond, RetrySeconds: 1,
			Message: "The rate limit of 1000 tokens per minute is reached; retry in 1s."}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := MustNew(t, &recorder{res: tc.res}, quota.Options{}).Admit(context.Background(), call)
			d, ok := quota.AsDenied(err)
			if !ok {
				t.Fatalf("Admit = %v, want a *quota.Denied", err)
			}
			got := denied{keygate.ErrorCode(err), keygate.ErrorMessage(err), d.Limit, d.Provider, d.RetryAfter, d.RetryAfterSeconds(), d.ResetAt}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("denied (-want +got):\n%s", diff)
			}
			if s := keygate.HTTPStatus(keygate.ErrorCode(err)); s != 429 {
				t.Errorf("HTTP status %d, want 429", s)
			}
		})
	}
}

func TestCounterUnavailable(t *testing.T) {
	call := quota.Call{Tenant: "tn_1", Source: keygate.SourcePlatform, Budget: keygate.Budget{Hard: true, DailyTokens: ptr(1)}}
	down := errors.New("dial tcp 127.0.0.1:6379: connection refused")
	t.Run("ErrUnavailable", func(t *testing.T) {
		_, err := MustNew(t, &recorder{err: down}, quota.Options{}).Admit(context.Background(), call)
		if got := keygate.ErrorCode(err); got != keygate.CodeUnavailable || !errors.Is(err, down) {
			t.Errorf("Admit = %v (code %s), want unavailable wrapping the cause", err, got)
		}
		if msg := keygate.ErrorMessage(err); msg != "Budgets and rate limits cannot be checked right now." {
			t.Errorf("message %q shows internals", msg)
		}
	})
	t.Run("FailOpen", func(t *testing.T) {
		rec := &recorder{err: down}
		tk, err := MustNew(t, rec, quota.Options{FailOpen: true}).Admit(context.Background(), call)
		if err != nil {
			t.Fatalf("Admit: %v", err)
		}
		if err := tk.Settle(context.Background(), 1, 1); err != nil || len(rec.settles) != 0 {
			t.Errorf("Settle = %v after %d counter calls; want a no-op", err, len(rec.settles))
		}
	})
	t.Run("ErrSettle", func(t *testing.T) {
		rec := &recorder{}
		tk, err := MustNew(t, rec, quota.Options{}).Admit(context.Background(), call)
		if err != nil {
			t.Fatalf("Admit: %v", err)
		}
		rec.err = down
		if err := tk.Settle(context.Background(), 1, 1); !errors.Is(err, down) {
			t.Errorf("Settle = %v, want the counter's error", err)
		}
	})
}

func TestSoftExceededCallback(t *testing.T) {
	call := quota.Call{Tenant: "tn_1", Source: keygate.SourcePlatform, Budget: keygate.Budget{DailyTokens: ptr(1)}}
	var got []string
	s := MustNew(t, &recorder{res: keygate.QuotaResult{Over: "{tn_1}:b:tok:d20260105"}}, quota.Options{
		OnSoftExceeded: func(tn keygate.TenantID, limit string) { got = append(got, string(tn)+" "+limit) },
	})
	tk, err := s.Admit(context.Background(), call)
	if err != nil {
		t.Fatalf("Admit: %v", err)
	}
	if diff := cmp.Diff([]string{"tn_1 daily_tokens"}, got); diff != "" || tk.Over() != quota.LimitDailyTokens {
		t.Errorf("Over() = %q; callbacks (-want +got):\n%s", tk.Over(), diff)
	}
}

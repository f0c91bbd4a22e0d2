// SPDX-License-Identifier: Apache-2.0

package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/keygate/keygate"
)

// MustPutBudget stores b with a budget.updated event and fails tb on error.
func MustPutBudget(tb testing.TB, s keygate.Store, b keygate.Budget) keygate.Budget {
	tb.Helper()
	got, err := s.PutBudget(tb.Context(), b, event(keygate.ActionBudgetUpdated, b.Tenant))
	if err != nil {
		tb.Fatalf("PutBudget(%s): %v", b.Tenant, err)
	}
	return got
}

// MustPutRateLimits stores limits with a limits.updated event and fails tb
// on error.
func MustPutRateLimits(tb testing.TB, s keygate.Store, tenant keygate.TenantID, limits []keygate.RateLimit) []keygate.RateLimit {
	tb.Helper()
	got, err := s.PutRateLimits(tb.Context(), tenant, limits, event(keygate.ActionLimitsUpdated, tenant))
	if err != nil {
		tb.Fatalf("PutRateLimits(%s): %v", tenant, err)
	}
	return got
}

func ptr(n int64) *int64 { return &n }

// defaultBudget is what GetBudget returns for a tenant that never set one.
func defaultBudget(id keygate.TenantID) keygate.Budget {
	return keygate.Budget{Tenant: id, AppliesTo: keygate.AppliesToPlatform, BYOKBilling: keygate.BillingSkip}
}

func mustGetBudget(tb testing.TB, s keygate.Store, id keygate.TenantID) keygate.Budget {
	tb.Helper()
	b, err := s.GetBudget(tb.Context(), id)
	if err != nil {
		tb.Fatalf("GetBudget(%s): %v", id, err)
	}
	return b
}

func mustGetRateLimits(tb testing.TB, s keygate.Store, id keygate.TenantID) []keygate.RateLimit {
	tb.Helper()
	l, err := s.GetRateLimits(tb.Context(), id)
	if err != nil {
		tb.Fatalf("GetRateLimits(%s): %v", id, err)
	}
	return l
}

func testBudgets(t *testing.T, e *env) {
	acme := MustCreateTenant(t, e.s, "acme")
	other := MustCreateTenant(t, e.s, "other")
	if diff := cmp.Diff(defaultBudget(acme.ID), mustGetBudget(t, e.s, acme.ID)); diff != "" {
		t.Errorf("GetBudget(never set) (-want +got):\n%s", diff)
	}
	steps := []struct {
		name   string
		budget keygate.Budget
		want   keygate.Budget // UpdatedAt is filled in
	}{
		{
			name: "AllSet",
			budget: keygate.Budget{Tenant: acme.ID, DailyUSDMicros: ptr(5_000_000), MonthlyUSDMicros: ptr(100_000_000),
				DailyTokens: ptr(1_000_000), MonthlyTokens: ptr(20_000_000), Hard: true,
				AppliesTo: keygate.AppliesToAll, BYOKBilling: keygate.BillingMeter,
				PerUserDailyUSDMicros: ptr(250_000), PerUserDailyTokens: ptr(0)},
			want: keygate.Budget{Tenant: acme.ID, DailyUSDMicros: ptr(5_000_000), MonthlyUSDMicros: ptr(100_000_000),
				DailyTokens: ptr(1_000_000), MonthlyTokens: ptr(20_000_000), Hard: true,
				AppliesTo: keygate.AppliesToAll, BYOKBilling: keygate.BillingMeter,
				PerUserDailyUSDMicros: ptr(250_000), PerUserDailyTokens: ptr(0)},
		},
		{
			name:   "SomeNilDefaults",
			budget: keygate.Budget{Tenant: acme.ID, MonthlyUSDMicros: ptr(0), UpdatedAt: start.Add(-time.Hour)},
			want: keygate.Budget{Tenant: acme.ID, MonthlyUSDMicros: ptr(0),
				AppliesTo: keygate.AppliesToPlatform, BYOKBilling: keygate.BillingSkip},
		},
		{
			name:   "NoLimits",
			budget: keygate.Budget{Tenant: acme.ID, Hard: true, BYOKBilling: keygate.BillingMeter},
			want:   keygate.Budget{Tenant: acme.ID, Hard: true, AppliesTo: keygate.AppliesToPlatform, BYOKBilling: keygate.BillingMeter},
		},
	}
	for _, tc := range steps {
		t.Run(tc.name, func(t *testing.T) {
			e.clock.Advance(time.Second)
			want := tc.want
			want.UpdatedAt = e.now()
			got := MustPutBudget(t, e.s, tc.budget)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("PutBudget (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(want, mustGetBudget(t, e.s, acme.ID)); diff != "" {
				t.Errorf("GetBudget (-want +got):\n%s", diff)
			}
		})
	}
	// The store keeps its own copy of the limits.
	mine := int64(42)
	put := MustPutBudget(t, e.s, keygate.Budget{Tenant: acme.ID, DailyTokens: &mine})
	mine = 7
	if diff := cmp.Diff(put, mustGetBudget(t, e.s, acme.ID)); diff != "" {
		t.Errorf("GetBudget after the caller changed its limit (-want +got):\n%s", diff)
	}
	if *put.DailyTokens != 42 {
		t.Errorf("PutBudget result changed with the caller's pointer: %d", *put.DailyTokens)
	}
	if diff := cmp.Diff(defaultBudget(other.ID), mustGetBudget(t, e.s, other.ID)); diff != "" {
		t.Errorf("GetBudget(other tenant) (-want +got):\n%s", diff)
	}
	n := 0
	for _, ev := range MustVerifyChain(t, e.s) {
		if ev.Action == keygate.ActionBudgetUpdated {
			n++
			if ev.Tenant != acme.ID {
				t.Errorf("budget.updated event for tenant %q, want %s", ev.Tenant, acme.ID)
			}
		}
	}
	if want := len(steps) + 1; n != want {
		t.Errorf("%d budget.updated events, want %d (one per PutBudget)", n, want)
	}
}

func testBudgetErrors(t *testing.T, e *env) {
	acme := MustCreateTenant(t, e.s, "acme")
	stored := MustPutBudget(t, e.s, keygate.Budget{Tenant: acme.ID, DailyUSDMicros: ptr(10), Hard: true})
	head := mustHead(t, e.s)
	tests := []struct {
		name   string
		budget keygate.Budget
		code   string
	}{
		{"ErrUnknownTenant", keygate.Budget{Tenant: "tn_nope", DailyUSDMicros: ptr(1)}, keygate.CodeNotFound},
		{"ErrNoTenant", keygate.Budget{DailyUSDMicros: ptr(1)}, keygate.CodeInvalidRequest},
		{"ErrNegativeDaily", keygate.Budget{Tenant: acme.ID, DailyUSDMicros: ptr(-1)}, keygate.CodeInvalidRequest},
		{"ErrNegativeMonthlyTokens", keygate.Budget{Tenant: acme.ID, MonthlyTokens: ptr(-5)}, keygate.CodeInvalidRequest},
		{"ErrNegativePerUser", keygate.Budget{Tenant: acme.ID, PerUserDailyTokens: ptr(-1)}, keygate.CodeInvalidRequest},
		{"ErrAppliesTo", keygate.Budget{Tenant: acme.ID, AppliesTo: "tenant"}, keygate.CodeInvalidRequest},
		{"ErrBilling", keygate.Budget{Tenant: acme.ID, BYOKBilling: "free"}, keygate.CodeInvalidRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.s.PutBudget(e.ctx, tc.budget, event(keygate.ActionBudgetUpdated, tc.budget.Tenant))
			wantCode(t, "PutBudget", err, tc.code)
			if got := mustHead(t, e.s); got != head {
				t.Errorf("audit head moved from %d to %d on a failed PutBudget", head, got)
			}
			if diff := cmp.Diff(stored, mustGetBudget(t, e.s, acme.ID)); diff != "" {
				t.Errorf("GetBudget after a failed PutBudget (-want +got):\n%s", diff)
			}
		})
	}
	_, err := e.s.GetBudget(e.ctx, "tn_nope")
	wantCode(t, "GetBudget(unknown tenant)", err, keygate.CodeNotFound)
	nope := MustCreateTenant(t, e.s, "nope")
	if diff := cmp.Diff(defaultBudget(nope.ID), mustGetBudget(t, e.s, nope.ID)); diff != "" {
		t.Errorf("GetBudget(tenant created after a failed PutBudget) (-want +got):\n%s", diff)
	}
}

func testRateLimits(t *testing.T, e *env) {
	acme := MustCreateTenant(t, e.s, "acme")
	other := MustCreateTenant(t, e.s, "other")
	if got := mustGetRateLimits(t, e.s, acme.ID); len(got) != 0 {
		t.Errorf("GetRateLimits(never set) = %+v, want none", got)
	}
	steps := []struct {
		name   string
		limits []keygate.RateLimit
		want   []keygate.RateLimit
	}{
		{
			name: "Several",
			limits: []keygate.RateLimit{
				{Provider: "openai", RPM: 60, TPM: 100_000, AppliesTo: keygate.AppliesToAll},
				{Provider: "", RPM: 600},
				{Provider: "anthropic", TPM: 50_000, AppliesTo: keygate.AppliesToPlatform},
			},
			want: []keygate.RateLimit{
				{Provider: "", RPM: 600, AppliesTo: keygate.AppliesToPlatform},
				{Provider: "anthropic", TPM: 50_000, AppliesTo: keygate.AppliesToPlatform},
				{Provider: "openai", RPM: 60, TPM: 100_000, AppliesTo: keygate.AppliesToAll},
			},
		},
		{
			name:   "Fewer",
			limits: []keygate.RateLimit{{Provider: "mistral", RPM: 5, AppliesTo: keygate.AppliesToAll}},
			want:   []keygate.RateLimit{{Provider: "mistral", RPM: 5, AppliesTo: keygate.AppliesToAll}},
		},
		{name: "None", limits: nil, want: nil},
	}
	for _, tc := range steps {
		t.Run(tc.name, func(t *testing.T) {
			e.clock.Advance(time.Second)
			got := MustPutRateLimits(t, e.s, acme.ID, tc.limits)
			if diff := cmp.Diff(tc.want, got, diffOpts...); diff != "" {
				t.Errorf("PutRateLimits (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.want, mustGetRateLimits(t, e.s, acme.ID), diffOpts...); diff != "" {
				t.Errorf("GetRateLimits (-want +got):\n%s", diff)
			}
		})
	}
	// The caller's slice is neither reordered nor kept.
	mine := []keygate.RateLimit{{Provider: "openai", RPM: 1}, {Provider: "anthropic", RPM: 2}}
	MustPutRateLimits(t, e.s, acme.ID, mine)
	if mine[0].Provider != "openai" || mine[0].AppliesTo != "" {
		t.Errorf("PutRateLimits changed the caller's slice: %+v", mine)
	}
	if got := mustGetRateLimits(t, e.s, other.ID); len(got) != 0 {
		t.Errorf("GetRateLimits(other tenant) = %+v, want none", got)
	}
	n := 0
	for _, ev := range MustVerifyChain(t, e.s) {
		if ev.Action == keygate.ActionLimitsUpdated {
			n++
		}
	}
	if want := len(steps) + 1; n != want {
		t.Errorf("%d limits.updated events, want %d (one per PutRateLimits)", n, want)
	}
}

func testRateLimitErrors(t *testing.T, e *env) {
	acme := MustCreateTenant(t, e.s, "acme")
	stored := MustPutRateLimits(t, e.s, acme.ID, []keygate.RateLimit{{Provider: "openai", RPM: 10}})
	head := mustHead(t, e.s)
	tests := []struct {
		name   string
		tenant keygate.TenantID
		limits []keygate.RateLimit
		code   string
	}{
		{"ErrUnknownTenant", "tn_nope", []keygate.RateLimit{{RPM: 1}}, keygate.CodeNotFound},
		{"ErrNoTenant", "", []keygate.RateLimit{{RPM: 1}}, keygate.CodeInvalidRequest},
		{"ErrNegativeRPM", acme.ID, []keygate.RateLimit{{Provider: "openai", RPM: -1}}, keygate.CodeInvalidRequest},
		{"ErrNegativeTPM", acme.ID, []keygate.RateLimit{{TPM: -1}}, keygate.CodeInvalidRequest},
		{"ErrAppliesTo", acme.ID, []keygate.RateLimit{{RPM: 1, AppliesTo: "some"}}, keygate.CodeInvalidRequest},
		{"ErrDuplicate", acme.ID, []keygate.RateLimit{{Provider: "openai", RPM: 1}, {Provider: "exa", RPM: 1}, {Provider: "openai", TPM: 3}}, keygate.CodeInvalidRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.s.PutRateLimits(e.ctx, tc.tenant, tc.limits, event(keygate.ActionLimitsUpdated, tc.tenant))
			wantCode(t, "PutRateLimits", err, tc.code)
			if got := mustHead(t, e.s); got != head {
				t.Errorf("audit head moved from %d to %d on a failed PutRateLimits", head, got)
			}
			if diff := cmp.Diff(stored, mustGetRateLimits(t, e.s, acme.ID)); diff != "" {
				t.Errorf("GetRateLimits after a failed PutRateLimits (-want +got):\n%s", diff)
			}
		})
	}
	_, err := e.s.GetRateLimits(e.ctx, "tn_nope")
	wantCode(t, "GetRateLimits(unknown tenant)", err, keygate.CodeNotFound)
	nope := MustCreateTenant(t, e.s, "nope")
	if got := mustGetRateLimits(t, e.s, nope.ID); len(got) != 0 {
		t.Errorf("GetRateLimits(tenant created after a failed PutRateLimits) = %+v, want none", got)
	}
}

// testTenantDeleteGovernance checks that deleting a tenant deletes its
// budget and rate limits but keeps its usage, which is billing history.
func testTenantDeleteGovernance(t *testing.T, e *env) {
	acme := MustCreateTenant(t, e.s, "acme")
	MustPutBudget(t, e.s, keygate.Budget{Tenant: acme.ID, DailyUSDMicros: ptr(1), Hard: true})
	MustPutRateLimits(t, e.s, acme.ID, []keygate.RateLimit{{RPM: 1}})
	evs := []keygate.UsageEvent{{RequestID: "r1", Time: day0, Tenant: acme.ID, Provider: "openai", Model: "gpt-4o",
		Source: keygate.SourcePlatform, InputTokens: 10, CostMicros: 99, Billable: true}}
	MustInsertUsage(t, e.s, evs)
	if err := e.s.DeleteTenant(e.ctx, acme.ID, event(keygate.ActionTenantDeleted, acme.ID)); err != nil {
		t.Fatalf("DeleteTenant: %v", err)
	}
	_, err := e.s.GetBudget(e.ctx, acme.ID)
	wantCode(t, "GetBudget(deleted tenant)", err, keygate.CodeNotFound)
	_, err = e.s.GetRateLimits(e.ctx, acme.ID)
	wantCode(t, "GetRateLimits(deleted tenant)", err, keygate.CodeNotFound)
	q := keygate.UsageQuery{Tenant: acme.ID, GroupBy: []string{"tenant", "day"}}
	if diff := cmp.Diff(SumUsage(evs, q), MustQueryUsage(t, e.s, q)); diff != "" {
		t.Errorf("QueryUsage(deleted tenant) (-want +got):\n%s", diff)
	}
	// A new tenant under the same id starts with no budget and no limits.
	again := MustCreateTenant(t, e.s, "acme")
	if diff := cmp.Diff(defaultBudget(again.ID), mustGetBudget(t, e.s, again.ID)); diff != "" {
		t.Errorf("GetBudget(re-created tenant) (-want +got):\n%s", diff)
	}
	if got := mustGetRateLimits(t, e.s, again.ID); len(got) != 0 {
		t.Errorf("GetRateLimits(re-created tenant) = %+v, want none", got)
	}
}

// SPDX-License-Identifier: Apache-2.0

package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keygate/keygate"
)

func i64(v int64) *int64 { return &v }

// testTokenScopes: a token's scope is stored with it and read back whole
// (by hash and in lists); SetGatewayTokenScope replaces it (the zero scope
// clears it) and appends its audit event; it refuses a revoked token,
// another tenant's token and a scope that does not validate, changing
// nothing.
func testTokenScopes(t *testing.T, e *env) {
	acme := MustCreateTenant(t, e.s, "acme")
	other := MustCreateTenant(t, e.s, "other")
	scope := keygate.TokenScope{
		Providers: []string{"openai", "anthropic"}, Models: []string{"gpt-4o*", "claude-sonnet-4-5"},
		DailyUSDMicros: i64(5_000_000), MonthlyUSDMicros: i64(0), DailyTokens: i64(1000), MonthlyTokens: i64(50_000),
		RPM: 60, TPM: 10_000,
	}
	created, err := e.s.CreateGatewayToken(e.ctx, keygate.GatewayToken{ID: "gt_s", Name: "scoped", Tenant: acme.ID, Hash: []byte("h-s"),
		Prefix: "kg_s", CreatedBy: "at_owner", Scope: scope}, event(keygate.ActionTokenCreated, acme.ID))
	if err != nil {
		t.Fatalf("CreateGatewayToken(scoped): %v", err)
	}
	read := func(what string, hash []byte) keygate.GatewayToken {
		t.Helper()
		got, err := e.s.GatewayTokenByHash(e.ctx, hash)
		if err != nil {
			t.Fatalf("%s: GatewayTokenByHash: %v", what, err)
		}
		return got
	}
	if diff := cmp.Diff(scope, read("created", created.Hash).Scope); diff != "" {
		t.Errorf("scope as created (-want +got):\n%s", diff)
	}
	list, err := e.s.ListGatewayTokens(e.ctx, acme.ID)
	if err != nil || len(list) != 1 {
		t.Fatalf("ListGatewayTokens = %v, %v", list, err)
	}
	if diff := cmp.Diff(scope, list[0].Scope); diff != "" {
		t.Errorf("scope as listed (-want +got):\n%s", diff)
	}

	narrower := keygate.TokenScope{Providers: []string{"openai"}, DailyUSDMicros: i64(10_000)}
	e.clock.Advance(time.Second)
	got, err := e.s.SetGatewayTokenScope(e.ctx, acme.ID, "gt_s", narrower, event(keygate.ActionTokenScoped, acme.ID))
	if err != nil {
		t.Fatalf("SetGatewayTokenScope: %v", err)
	}
	want := created
	want.Scope = narrower
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("SetGatewayTokenScope (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, read("narrowed", created.Hash)); diff != "" {
		t.Errorf("token after SetGatewayTokenScope (-want +got):\n%s", diff)
	}
	if _, err := e.s.SetGatewayTokenScope(e.ctx, acme.ID, "gt_s", keygate.TokenScope{}, event(keygate.ActionTokenScoped, acme.ID)); err != nil {
		t.Fatalf("SetGatewayTokenScope(zero): %v", err)
	}
	if got := read("cleared", created.Hash).Scope; !got.IsZero() {
		t.Errorf("scope after clearing = %+v, want the zero scope", got)
	}

	theirs := MustCreateGatewayToken(t, e.s, other.ID, "gt_theirs", []byte("h-theirs"))
	revoked := MustCreateGatewayToken(t, e.s, acme.ID, "gt_revoked", []byte("h-revoked"))
	if err := e.s.RevokeGatewayToken(e.ctx, acme.ID, revoked.ID, event(keygate.ActionTokenRevoked, acme.ID)); err != nil {
		t.Fatal(err)
	}
	head := mustHead(t, e.s)
	fails := []struct {
		name   string
		tenant keygate.TenantID
		id     string
		scope  keygate.TokenScope
		code   string
	}{
		{"Revoked", acme.ID, revoked.ID, narrower, keygate.CodeNotFound},
		{"OtherTenantsToken", acme.ID, theirs.ID, narrower, keygate.CodeNotFound},
		{"UnknownToken", acme.ID, "gt_nope", narrower, keygate.CodeNotFound},
		{"StarInside", acme.ID, "gt_s", keygate.TokenScope{Models: []string{"gpt-*-mini"}}, keygate.CodeInvalidRequest},
		{"BadProvider", acme.ID, "gt_s", keygate.TokenScope{Providers: []string{"Open AI"}}, keygate.CodeInvalidRequest},
		{"NegativeBudget", acme.ID, "gt_s", keygate.TokenScope{DailyTokens: i64(-1)}, keygate.CodeInvalidRequest},
		{"NegativeRPM", acme.ID, "gt_s", keygate.TokenScope{RPM: -1}, keygate.CodeInvalidRequest},
	}
	for _, tc := range fails {
		t.Run("Err"+tc.name, func(t *testing.T) {
			_, err := e.s.SetGatewayTokenScope(e.ctx, tc.tenant, tc.id, tc.scope, event(keygate.ActionTokenScoped, tc.tenant))
			wantCode(t, "SetGatewayTokenScope", err, tc.code)
			if got := mustHead(t, e.s); got != head {
				t.Errorf("audit head moved from %d to %d on a failed scope change", head, got)
			}
		})
	}
	if got := read("theirs", theirs.Hash); !got.Scope.IsZero() {
		t.Errorf("another tenant's token got scope %+v", got.Scope)
	}
	_, err = e.s.CreateGatewayToken(e.ctx, keygate.GatewayToken{ID: "gt_bad", Tenant: acme.ID, Hash: []byte("h-bad"), Prefix: "kg_b",
		Scope: keygate.TokenScope{Models: []string{""}}}, event(keygate.ActionTokenCreated, acme.ID))
	wantCode(t, "CreateGatewayToken(bad scope)", err, keygate.CodeInvalidRequest)

	evs := MustVerifyChain(t, e.s)
	wantActions := []string{keygate.ActionTenantCreated, keygate.ActionTenantCreated, keygate.ActionTokenCreated,
		keygate.ActionTokenScoped, keygate.ActionTokenScoped, keygate.ActionTokenCreated, keygate.ActionTokenCreated, keygate.ActionTokenRevoked}
	if diff := cmp.Diff(wantActions, actions(evs)); diff != "" {
		t.Errorf("audit actions (-want +got):\n%s", diff)
	}
}

// testUsageByToken: every event keeps the gateway token that made it, and
// usage grouped by token sums each token's calls, over whole days (where
// other groupings read the rollups) and parts of hours alike.
func testUsageByToken(t *testing.T, e *env) {
	at := day0.Add(10*time.Hour + 30*time.Minute)
	ev := func(id, token string, at time.Time, in, cost int64) keygate.UsageEvent {
		return keygate.UsageEvent{RequestID: id, Time: at, Tenant: "tn_a", TokenID: token, Provider: "openai", Model: "gpt-4o",
			Source: keygate.SourcePlatform, InputTokens: in, OutputTokens: 1, CostMicros: cost, Billable: true}
	}
	MustInsertUsage(t, e.s, []keygate.UsageEvent{
		ev("r1", "gt_a", at, 10, 100),
		ev("r2", "gt_b", at.Add(time.Minute), 20, 200),
		ev("r3", "gt_a", at.Add(24*time.Hour), 30, 300),
		ev("r4", "gt_a", at.Add(25*time.Hour), 40, 400),
		ev("r5", "", at, 50, 500), // written before events named their token
		{RequestID: "r6", Time: at, Tenant: "tn_b", TokenID: "gt_c", Provider: "openai", InputTokens: 60, CostMicros: 600},
	})
	tests := []struct {
		name string
		q    keygate.UsageQuery
		want []keygate.UsageRow
	}{
		{"AllTime", keygate.UsageQuery{Tenant: "tn_a", GroupBy: []string{"token"}}, []keygate.UsageRow{
			{Requests: 1, InputTokens: 50, OutputTokens: 1, CostMicros: 500, BillableCostMicros: 500},
			{Token: "gt_a", Requests: 3, InputTokens: 80, OutputTokens: 3, CostMicros: 800, BillableCostMicros: 800},
			{Token: "gt_b", Requests: 1, InputTokens: 20, OutputTokens: 1, CostMicros: 200, BillableCostMicros: 200},
		}},
		{"WholeDays", keygate.UsageQuery{Tenant: "tn_a", From: day0, To: day0.Add(48 * time.Hour), GroupBy: []string{"token", "day"}}, []keygate.UsageRow{
			{Day: day0, Requests: 1, InputTokens: 50, OutputTokens: 1, CostMicros: 500, BillableCostMicros: 500},
			{Token: "gt_a", Day: day0, Requests: 1, InputTokens: 10, OutputTokens: 1, CostMicros: 100, BillableCostMicros: 100},
			{Token: "gt_a", Day: day0.Add(24 * time.Hour), Requests: 2, InputTokens: 70, OutputTokens: 2, CostMicros: 700, BillableCostMicros: 700},
			{Token: "gt_b", Day: day0, Requests: 1, InputTokens: 20, OutputTokens: 1, CostMicros: 200, BillableCostMicros: 200},
		}},
		{"PartOfAnHour", keygate.UsageQuery{Tenant: "tn_a", From: at.Add(30 * time.Second), To: at.Add(24*time.Hour + time.Second), GroupBy: []string{"token"}}, []keygate.UsageRow{
			{Token: "gt_a", Requests: 1, InputTokens: 30, OutputTokens: 1, CostMicros: 300, BillableCostMicros: 300},
			{Token: "gt_b", Requests: 1, InputTokens: 20, OutputTokens: 1, CostMicros: 200, BillableCostMicros: 200},
		}},
		{"PlatformWide", keygate.UsageQuery{GroupBy: []string{"tenant", "token"}}, []keygate.UsageRow{
			{Tenant: "tn_a", Requests: 1, InputTokens: 50, OutputTokens: 1, CostMicros: 500, BillableCostMicros: 500},
			{Tenant: "tn_a", Token: "gt_a", Requests: 3, InputTokens: 80, OutputTokens: 3, CostMicros: 800, BillableCostMicros: 800},
			{Tenant: "tn_a", Token: "gt_b", Requests: 1, InputTokens: 20, OutputTokens: 1, CostMicros: 200, BillableCostMicros: 200},
			{Tenant: "tn_b", Token: "gt_c", Requests: 1, InputTokens: 60, CostMicros: 600},
		}},
		{"EmptyRange", keygate.UsageQuery{Tenant: "tn_a", From: at, To: at, GroupBy: []string{"token"}}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, MustQueryUsage(t, e.s, tc.q)); diff != "" {
				t.Errorf("QueryUsage (-want +got):\n%s", diff)
			}
		})
	}
}

// SPDX-License-Identifier: Apache-2.0

package api

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keygate/keygate"
)

// TestGatewayTokenScope: a token is created with a scope and shows it; an
// owner or admin of the tenant (or a platform admin) replaces it, a member
// or another tenant's owner may not; bad scopes are refused naming what is
// wrong, never echoing a key-shaped model; every change is audited.
func TestGatewayTokenScope(t *testing.T) {
	a, db := MustAPI(t)
	admin := MustToken(t, db, keygate.RolePlatformAdmin, "")
	status, out := MustServe(t, a, admin, "POST", "/api/v1/tenants/tn_acme/tokens",
		`{"name":"bot","scope":{"providers":["openai","openai"],"models":["gpt-4o*"],"daily_usd":"0.05","rpm":60}}`)
	if status != 201 {
		t.Fatalf("create: %d %s", status, out)
	}
	var created gatewayTokenJSON
	if err := json.Unmarshal([]byte(out), &created); err != nil {
		t.Fatal(err)
	}
	five := usd(50_000)
	want := tokenScopeJSON{Providers: []string{"openai"}, Models: []string{"gpt-4o*"}, DailyUSD: &five, RPM: 60}
	if diff := cmp.Diff(want, created.Scope); diff != "" {
		t.Errorf("created scope (-want +got):\n%s", diff)
	}
	path := "/api/v1/tenants/tn_acme/tokens/" + created.ID + "/scope"
	tests := []struct {
		name   string
		role   keygate.Role
		tenant keygate.TenantID
		body   string
		status int
		code   string
	}{
		{"OwnerNarrows", keygate.RoleOwner, "tn_acme", `{"providers":["anthropic"],"monthly_tokens":1000,"tpm":500}`, 200, ""},
		{"AdminNarrows", keygate.RoleAdmin, "tn_acme", `{"models":["claude-*"]}`, 200, ""},
		{"MemberMayNot", keygate.RoleMember, "tn_acme", `{}`, 403, keygate.CodeForbidden},
		{"OtherTenantsOwnerMayNot", keygate.RoleOwner, "tn_globex", `{}`, 403, keygate.CodeForbidden},
		{"UnknownProvider", keygate.RoleOwner, "tn_acme", `{"providers":["nope"]}`, 400, keygate.CodeUnknownProvider},
		{"StarInside", keygate.RoleOwner, "tn_acme", `{"models":["gpt-*-mini"]}`, 400, keygate.CodeInvalidRequest},
		{"KeyShapedModel", keygate.RoleOwner, "tn_acme", `{"models":["sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789*"]}`, 400, keygate.CodeInvalidRequest},
		{"NegativeRPM", keygate.RoleOwner, "tn_acme", `{"rpm":-1}`, 400, keygate.CodeInvalidRequest},
		{"NegativeUSD", keygate.RoleOwner, "tn_acme", `{"daily_usd":"-1"}`, 400, keygate.CodeInvalidRequest},
		{"UnknownField", keygate.RoleOwner, "tn_acme", `{"providerz":[]}`, 400, keygate.CodeInvalidJSON},
		{"PlatformAdminClears", keygate.RolePlatformAdmin, "", `{}`, 200, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok := MustToken(t, db, tc.role, tc.tenant)
			status, out := MustServe(t, a, tok, "PUT", path, tc.body)
			if status != tc.status {
				t.Fatalf("status %d, want %d: %s", status, tc.status, out)
			}
			if strings.Contains(out, "sk-proj") {
				t.Errorf("the answer echoes a key-shaped model: %s", out)
			}
			if tc.code != "" {
				var e errorBody
				_ = json.Unmarshal([]byte(out), &e)
				if e.Error.Code != tc.code {
					t.Errorf("code %q, want %q: %s", e.Error.Code, tc.code, out)
				}
			}
		})
	}
	got, err := db.ListGatewayTokens(t.Context(), "tn_acme")
	if err != nil || len(got) != 1 || !got[0].Scope.IsZero() {
		t.Fatalf("after the platform admin cleared it: %+v, %v", got, err)
	}
	status, out = MustServe(t, a, admin, "PUT", "/api/v1/tenants/tn_globex/tokens/"+created.ID+"/scope", `{}`)
	if status != 404 {
		t.Errorf("another tenant's path to the token: %d %s, want 404", status, out)
	}
	evs, err := db.ListAudit(t.Context(), keygate.AuditFilter{Tenant: "tn_acme", Action: keygate.ActionTokenScoped})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 3 {
		t.Errorf("%d token.scope_updated events, want 3", len(evs))
	}
}

// TestUsageGroupByToken: the usage API groups by token, and sums each
// token's calls.
func TestUsageGroupByToken(t *testing.T) {
	a, db := MustAPI(t)
	admin := MustToken(t, db, keygate.RolePlatformAdmin, "")
	at := time.Now().UTC().Add(-2 * time.Hour)
	ev := func(id, token string, cost int64) keygate.UsageEvent {
		return keygate.UsageEvent{RequestID: id, Time: at, Tenant: "tn_acme", TokenID: token, Provider: "openai", Model: "gpt-4o",
			Source: keygate.SourcePlatform, InputTokens: 10, OutputTokens: 1, CostMicros: cost, Billable: true}
	}
	if err := db.InsertUsage(t.Context(), []keygate.UsageEvent{ev("r1", "gt_a", 1_000_000), ev("r2", "gt_b", 250_000), ev("r3", "gt_a", 500_000)}); err != nil {
		t.Fatal(err)
	}
	status, out := MustServe(t, a, admin, "GET", "/api/v1/tenants/tn_acme/usage?group_by=token", "")
	if status != 200 {
		t.Fatalf("%d %s", status, out)
	}
	var body struct{ Rows []usageRowJSON }
	if err := json.Unmarshal([]byte(out), &body); err != nil {
		t.Fatal(err)
	}
	want := []usageRowJSON{
		{Token: "gt_a", Requests: 2, InputTokens: 20, OutputTokens: 2, CostUSD: 1_500_000, BillableCostUSD: 1_500_000, Priced: "priced"},
		{Token: "gt_b", Requests: 1, InputTokens: 10, OutputTokens: 1, CostUSD: 250_000, BillableCostUSD: 250_000, Priced: "priced"},
	}
	if diff := cmp.Diff(want, body.Rows); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
}

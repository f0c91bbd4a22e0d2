// SPDX-License-Identifier: Apache-2.0

package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/auth"
	"github.com/keygate/keygate/internal/sqlite"
)

// MustServe sends one request as token and returns the status and body.
func MustServe(tb testing.TB, a *API, token, method, path, body string) (int, string) {
	tb.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	w := httptest.NewRecorder()
	a.ServeHTTP(w, req)
	return w.Code, w.Body.String()
}

// MustSetKeyAdmins sets the key_admins of tenant ref directly in the store.
func MustSetKeyAdmins(tb testing.TB, db *sqlite.DB, ref string, k keygate.KeyAdmins) {
	tb.Helper()
	ctx := context.Background()
	t, err := db.GetTenant(ctx, ref)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := db.UpdateTenant(ctx, t.ID, keygate.TenantUpdate{KeyAdmins: &k}, keygate.AuditEvent{}); err != nil {
		tb.Fatal(err)
	}
}

// TestTenantUpdateRights checks PATCH /api/v1/tenants/{tenant}: the owner
// may change key_admins but not byok_enabled (not even together with
// key_admins), admins and members neither, platform admins both.
func TestTenantUpdateRights(t *testing.T) {
	type state struct {
		BYOKEnabled bool              `json:"byok_enabled"`
		KeyAdmins   keygate.KeyAdmins `json:"key_admins"`
	}
	initial := state{BYOKEnabled: true, KeyAdmins: keygate.KeyAdminsOwnerAndAdmin}
	tests := []struct {
		name    string
		role    keygate.Role
		tenant  string
		body    string
		status  int
		want    state // the tenant afterwards
		actions []string
	}{
		{"OwnerKeyAdmins", keygate.RoleOwner, "acme", `{"key_admins":"owner_only"}`, 200,
			state{true, keygate.KeyAdminsOwnerOnly}, []string{keygate.ActionTenantUpdated}},
		{"OwnerKeyAdminsUnchanged", keygate.RoleOwner, "acme", `{"key_admins":"owner_and_admin"}`, 200, initial, nil},
		{"OwnerErrBYOK", keygate.RoleOwner, "acme", `{"byok_enabled":false}`, 403, initial, nil},
		{"OwnerErrBYOKUnchanged", keygate.RoleOwner, "acme", `{"byok_enabled":true}`, 403, initial, nil},
		{"OwnerErrBoth", keygate.RoleOwner, "acme", `{"byok_enabled":false,"key_admins":"owner_only"}`, 403, initial, nil},
		{"OwnerErrBadValue", keygate.RoleOwner, "acme", `{"key_admins":"everyone"}`, 400, initial, nil},
		{"OwnerErrNothing", keygate.RoleOwner, "acme", `{}`, 400, initial, nil},
		{"OwnerErrOtherTenant", keygate.RoleOwner, "globex", `{"key_admins":"owner_only"}`, 403, initial, nil},
		{"AdminErrKeyAdmins", keygate.RoleAdmin, "acme", `{"key_admins":"owner_only"}`, 403, initial, nil},
		{"MemberErrKeyAdmins", keygate.RoleMember, "acme", `{"key_admins":"owner_only"}`, 403, initial, nil},
		{"PlatformKeyAdmins", keygate.RolePlatformAdmin, "acme", `{"key_admins":"owner_only"}`, 200,
			state{true, keygate.KeyAdminsOwnerOnly}, []string{keygate.ActionTenantUpdated}},
		{"PlatformBoth", keygate.RolePlatformAdmin, "acme", `{"byok_enabled":false,"key_admins":"owner_only"}`, 200,
			state{false, keygate.KeyAdminsOwnerOnly}, []string{keygate.ActionTenantUpdated, keygate.ActionBYOKDisabled}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, db := MustAPI(t)
			var tenant keygate.TenantID
			if tc.role != keygate.RolePlatformAdmin {
				tenant = "tn_acme"
			}
			tok := MustToken(t, db, tc.role, tenant)
			head, _, err := db.AuditHead(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			status, body := MustServe(t, a, tok, "PATCH", "/api/v1/tenants/"+tc.tenant, tc.body)
			if status != tc.status {
				t.Fatalf("PATCH %s as %s: %d %s, want %d", tc.body, tc.role, status, body, tc.status)
			}
			if status == http.StatusOK {
				var got state
				if err := json.Unmarshal([]byte(body), &got); err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("answer (-want +got):\n%s", diff)
				}
			}
			platform := MustToken(t, db, keygate.RolePlatformAdmin, "")
			var got state
			_, body = MustServe(t, a, platform, "GET", "/api/v1/tenants/"+tc.tenant, "")
			if err := json.Unmarshal([]byte(body), &got); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("tenant afterwards (-want +got):\n%s", diff)
			}
			evs, err := db.ListAudit(t.Context(), keygate.AuditFilter{Tenant: keygate.TenantID("tn_" + tc.tenant)})
			if err != nil {
				t.Fatal(err)
			}
			var actions []string
			for i := len(evs) - 1; i >= 0; i-- {
				if ev := evs[i]; ev.Seq > head && ev.Action != keygate.ActionTokenCreated {
					actions = append(actions, ev.Action)
					if ev.Action == keygate.ActionTenantUpdated {
						if want := `{"key_admins":{"from":"owner_and_admin","to":"owner_only"}}`; ev.Detail != want {
							t.Errorf("tenant.updated detail = %s, want %s", ev.Detail, want)
						}
						if ev.ActorName != string(tc.role) {
							t.Errorf("tenant.updated actor = %q, want %q", ev.ActorName, tc.role)
						}
					}
				}
			}
			if diff := cmp.Diff(tc.actions, actions); diff != "" {
				t.Errorf("audit actions (-want +got):\n%s", diff)
			}
		})
	}
}

// TestAuthorizationMatrixOwnerOnly walks every tenant route as every role
// of acme, with acme set to key_admins owner_only, and checks that the
// route is refused (403) exactly when CanOn says so: the key.write routes
// refuse admin tokens and take owner tokens; nothing else changes.
func TestAuthorizationMatrixOwnerOnly(t *testing.T) {
	roles := []struct {
		role   keygate.Role
		tenant keygate.TenantID
	}{
		{keygate.RoleOwner, "tn_acme"},
		{keygate.RoleAdmin, "tn_acme"},
		{keygate.RoleMember, "tn_acme"},
		{keygate.RolePlatformAdmin, ""},
	}
	acme := keygate.Tenant{ID: "tn_acme", KeyAdmins: keygate.KeyAdminsOwnerOnly}
	writes := 0
	for _, rt := range (&API{}).routes() {
		if rt.Scope != scopeTenant {
			continue
		}
		a, db := MustAPI(t)
		MustSetKeyAdmins(t, db, "acme", keygate.KeyAdminsOwnerOnly)
		for _, r := range roles {
			tok := MustToken(t, db, r.role, r.tenant)
			path := strings.NewReplacer("{tenant}", "acme", "{provider}", "openai", "{id}", "xx_missing").Replace(rt.Pattern)
			if rt.Method == "POST" && strings.HasSuffix(rt.Pattern, "/keys/{provider}") {
				path += ":rollback"
			}
			p := auth.Principal{Role: r.role, Tenant: r.tenant}
			allowed := p.CanOn(rt.Right, acme)
			if rt.Right == auth.RightKeyWrite && r.role == keygate.RoleAdmin {
				writes++
				if allowed {
					t.Errorf("CanOn(key.write) allows an admin of an owner_only tenant")
				}
			}
			status, body := MustServe(t, a, tok, rt.Method, path, "{}")
			if denied := status == http.StatusForbidden; denied == allowed || status == http.StatusUnauthorized {
				t.Errorf("%s %s as %s of an owner_only acme: %d (allowed: %v) %s", rt.Method, path, r.role, status, allowed, body)
			}
		}
	}
	if writes == 0 {
		t.Error("no key.write route in the route table")
	}
}

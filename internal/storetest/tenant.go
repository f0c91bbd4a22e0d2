// SPDX-License-Identifier: Apache-2.0

package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/keygate/keygate"
)

func testTenantCreateGetList(t *testing.T, e *env) {
	zeta := MustCreateTenant(t, e.s, "zeta")
	e.clock.Advance(time.Second)
	acme, err := e.s.CreateTenant(e.ctx, keygate.Tenant{ID: "tn_acme", Name: "acme"}, event(keygate.ActionTenantCreated, "tn_acme"))
	if err != nil {
		t.Fatalf("CreateTenant: %v", err)
	}
	want := keygate.Tenant{ID: "tn_acme", Name: "acme", BYOKEnabled: false, KeyAdmins: keygate.KeyAdminsOwnerAndAdmin, CreatedAt: e.now(), UpdatedAt: e.now()}
	if diff := cmp.Diff(want, acme); diff != "" {
		t.Errorf("CreateTenant (-want +got):\n%s", diff)
	}
	if acme.CreatedAt.Location() != time.UTC {
		t.Errorf("CreatedAt location = %v, want UTC", acme.CreatedAt.Location())
	}
	for _, ref := range []string{"tn_acme", "acme"} {
		got, err := e.s.GetTenant(e.ctx, ref)
		if err != nil {
			t.Fatalf("GetTenant(%q): %v", ref, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("GetTenant(%q) (-want +got):\n%s", ref, diff)
		}
		if got.CreatedAt.Location() != time.UTC {
			t.Errorf("GetTenant(%q).CreatedAt location = %v, want UTC", ref, got.CreatedAt.Location())
		}
	}
	list, err := e.s.ListTenants(e.ctx)
	if err != nil {
		t.Fatalf("ListTenants: %v", err)
	}
	if diff := cmp.Diff([]keygate.Tenant{acme, zeta}, list); diff != "" {
		t.Errorf("ListTenants (-want +got):\n%s", diff)
	}
	evs := MustVerifyChain(t, e.s)
	if diff := cmp.Diff([]string{keygate.ActionTenantCreated, keygate.ActionTenantCreated}, actions(evs)); diff != "" {
		t.Errorf("audit actions (-want +got):\n%s", diff)
	}
	if evs[1].Tenant != "tn_acme" || !evs[1].Time.Equal(e.now()) {
		t.Errorf("audit event = %+v, want tenant tn_acme at %v", evs[1], e.now())
	}
}

func testTenantCreateErrors(t *testing.T, e *env) {
	MustCreateTenant(t, e.s, "acme")
	head := mustHead(t, e.s)
	tests := []struct {
		name   string
		tenant keygate.Tenant
		code   string
	}{
		{"ErrNameTaken", keygate.Tenant{ID: "tn_other", Name: "acme"}, keygate.CodeConflict},
		{"ErrIDTaken", keygate.Tenant{ID: "tn_acme", Name: "other"}, keygate.CodeConflict},
		{"ErrNoName", keygate.Tenant{ID: "tn_x"}, keygate.CodeInvalidRequest},
		{"ErrNoID", keygate.Tenant{Name: "x"}, keygate.CodeInvalidRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.s.CreateTenant(e.ctx, tc.tenant, event(keygate.ActionTenantCreated, tc.tenant.ID))
			wantCode(t, "CreateTenant", err, tc.code)
			if got := mustHead(t, e.s); got != head {
				t.Errorf("audit head moved from %d to %d on a failed create", head, got)
			}
		})
	}
	list, err := e.s.ListTenants(e.ctx)
	if err != nil {
		t.Fatalf("ListTenants: %v", err)
	}
	if len(list) != 1 {
		t.Errorf("ListTenants = %d tenants, want 1", len(list))
	}
}

func testTenantGetNotFound(t *testing.T, e *env) {
	MustCreateTenant(t, e.s, "acme")
	for _, ref := range []string{"tn_nope", "nope", "", "tn_acme2", "ACME"} {
		_, err := e.s.GetTenant(e.ctx, ref)
		wantCode(t, "GetTenant("+ref+")", err, keygate.CodeNotFound)
	}
}

func testTenantUpdate(t *testing.T, e *env) {
	created := MustCreateTenant(t, e.s, "acme")
	off := false
	e.clock.Advance(time.Minute)
	got, err := e.s.UpdateTenant(e.ctx, created.ID, keygate.TenantUpdate{BYOKEnabled: &off}, event(keygate.ActionBYOKDisabled, created.ID))
	if err != nil {
		t.Fatalf("UpdateTenant: %v", err)
	}
	want := created
	want.BYOKEnabled, want.UpdatedAt = false, e.now()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("UpdateTenant (-want +got):\n%s", diff)
	}
	read, err := e.s.GetTenant(e.ctx, "acme")
	if err != nil {
		t.Fatalf("GetTenant: %v", err)
	}
	if diff := cmp.Diff(want, read); diff != "" {
		t.Errorf("GetTenant after update (-want +got):\n%s", diff)
	}

	// No audited change: no audit row.
	head := mustHead(t, e.s)
	if _, err := e.s.UpdateTenant(e.ctx, created.ID, keygate.TenantUpdate{}, keygate.AuditEvent{}); err != nil {
		t.Fatalf("UpdateTenant(no change): %v", err)
	}
	if got := mustHead(t, e.s); got != head {
		t.Errorf("audit head moved from %d to %d on an update without action", head, got)
	}

	_, err = e.s.UpdateTenant(e.ctx, "tn_nope", keygate.TenantUpdate{BYOKEnabled: &off}, event(keygate.ActionBYOKDisabled, "tn_nope"))
	wantCode(t, "UpdateTenant(unknown)", err, keygate.CodeNotFound)

	evs := MustVerifyChain(t, e.s)
	if diff := cmp.Diff([]string{keygate.ActionTenantCreated, keygate.ActionBYOKDisabled}, actions(evs)); diff != "" {
		t.Errorf("audit actions (-want +got):\n%s", diff)
	}
}

// testTenantKeyAdmins: key_admins defaults to owner_and_admin, is stored as
// created, changes alone or with byok_enabled, and an unknown value is
// refused without writing anything.
func testTenantKeyAdmins(t *testing.T, e *env) {
	acme := MustCreateTenant(t, e.s, "acme")
	if acme.KeyAdmins != keygate.KeyAdminsOwnerAndAdmin {
		t.Errorf("CreateTenant without KeyAdmins: KeyAdmins = %q, want %q", acme.KeyAdmins, keygate.KeyAdminsOwnerAndAdmin)
	}
	strict, err := e.s.CreateTenant(e.ctx, keygate.Tenant{ID: "tn_strict", Name: "strict", KeyAdmins: keygate.KeyAdminsOwnerOnly},
		event(keygate.ActionTenantCreated, "tn_strict"))
	if err != nil {
		t.Fatalf("CreateTenant(owner_only): %v", err)
	}
	if got := MustGetTenant(t, e.s, "strict"); got.KeyAdmins != keygate.KeyAdminsOwnerOnly || !cmp.Equal(strict, got) {
		t.Errorf("GetTenant(strict) = %+v, want %+v", got, strict)
	}

	ownerOnly, ownerAndAdmin, on := keygate.KeyAdminsOwnerOnly, keygate.KeyAdminsOwnerAndAdmin, false
	steps := []struct {
		name   string
		update keygate.TenantUpdate
		want   func(t keygate.Tenant) keygate.Tenant
	}{
		{"OwnerOnly", keygate.TenantUpdate{KeyAdmins: &ownerOnly}, func(t keygate.Tenant) keygate.Tenant {
			t.KeyAdmins = keygate.KeyAdminsOwnerOnly
			return t
		}},
		{"Both", keygate.TenantUpdate{KeyAdmins: &ownerAndAdmin, BYOKEnabled: &on}, func(t keygate.Tenant) keygate.Tenant {
			t.KeyAdmins, t.BYOKEnabled = keygate.KeyAdminsOwnerAndAdmin, false
			return t
		}},
		{"ByokOnlyKeepsKeyAdmins", keygate.TenantUpdate{BYOKEnabled: &on}, func(t keygate.Tenant) keygate.Tenant { return t }},
	}
	want := acme
	for _, st := range steps {
		e.clock.Advance(time.Minute)
		want = st.want(want)
		want.UpdatedAt = e.now()
		got, err := e.s.UpdateTenant(e.ctx, acme.ID, st.update, event(keygate.ActionTenantUpdated, acme.ID))
		if err != nil {
			t.Fatalf("%s: UpdateTenant: %v", st.name, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: UpdateTenant (-want +got):\n%s", st.name, diff)
		}
		if diff := cmp.Diff(want, MustGetTenant(t, e.s, "acme")); diff != "" {
			t.Errorf("%s: GetTenant after update (-want +got):\n%s", st.name, diff)
		}
	}

	head := mustHead(t, e.s)
	bad := keygate.KeyAdmins("everyone")
	_, err = e.s.UpdateTenant(e.ctx, acme.ID, keygate.TenantUpdate{KeyAdmins: &bad, BYOKEnabled: &on}, event(keygate.ActionTenantUpdated, acme.ID))
	wantCode(t, "UpdateTenant(bad key_admins)", err, keygate.CodeInvalidRequest)
	_, err = e.s.CreateTenant(e.ctx, keygate.Tenant{ID: "tn_bad", Name: "bad", KeyAdmins: bad}, event(keygate.ActionTenantCreated, "tn_bad"))
	wantCode(t, "CreateTenant(bad key_admins)", err, keygate.CodeInvalidRequest)
	if got := mustHead(t, e.s); got != head {
		t.Errorf("audit head moved from %d to %d on refused writes", head, got)
	}
	if diff := cmp.Diff(want, MustGetTenant(t, e.s, "acme")); diff != "" {
		t.Errorf("GetTenant after a refused update (-want +got):\n%s", diff)
	}
	list, err := e.s.ListTenants(e.ctx)
	if err != nil {
		t.Fatalf("ListTenants: %v", err)
	}
	if diff := cmp.Diff([]keygate.Tenant{want, strict}, list); diff != "" {
		t.Errorf("ListTenants (-want +got):\n%s", diff)
	}
}

// MustGetTenant returns the tenant ref or fails tb.
func MustGetTenant(tb testing.TB, s keygate.Store, ref string) keygate.Tenant {
	tb.Helper()
	t, err := s.GetTenant(context.Background(), ref)
	if err != nil {
		tb.Fatalf("GetTenant(%s): %v", ref, err)
	}
	return t
}

func testTenantDelete(t *testing.T, e *env) {
	acme := MustCreateTenant(t, e.s, "acme")
	other := MustCreateTenant(t, e.s, "other")
	MustPutKey(t, e.s, acme.ID, "openai", "sk-acme-openai-1")
	MustPutKey(t, e.s, acme.ID, "openai", "sk-acme-openai-2")
	MustPutKey(t, e.s, acme.ID, "anthropic", "sk-ant-acme-1")
	otherKey := MustPutKey(t, e.s, other.ID, "openai", "sk-other-openai")
	platformKey := MustPutKey(t, e.s, keygate.PlatformScope, "openai", "sk-platform-openai")
	tok := keygate.AdminToken{ID: "at_acme", Name: "ci", Role: keygate.RoleOwner, Tenant: acme.ID, Hash: []byte("hash-acme")}
	if _, err := e.s.CreateAdminToken(e.ctx, tok, event(keygate.ActionTokenCreated, acme.ID)); err != nil {
		t.Fatalf("CreateAdminToken: %v", err)
	}
	before := MustScanAll(t, e.s)

	if err := e.s.DeleteTenant(e.ctx, acme.ID, event(keygate.ActionTenantDeleted, acme.ID)); err != nil {
		t.Fatalf("DeleteTenant: %v", err)
	}

	_, err := e.s.GetTenant(e.ctx, "acme")
	wantCode(t, "GetTenant(deleted)", err, keygate.CodeNotFound)
	_, err = e.s.GetKey(e.ctx, acme.ID, "openai")
	wantCode(t, "GetKey(deleted tenant)", err, keygate.CodeNotFound)
	keys, err := e.s.ListKeys(e.ctx, acme.ID)
	if err != nil || len(keys) != 0 {
		t.Errorf("ListKeys(deleted tenant) = %v, %v; want none", keys, err)
	}
	_, err = e.s.AdminTokenByHash(e.ctx, tok.Hash)
	wantCode(t, "AdminTokenByHash(deleted tenant)", err, keygate.CodeNotFound)
	if n, err := e.s.CountAdminTokens(e.ctx); err != nil || n != 0 {
		t.Errorf("CountAdminTokens = %d, %v; want 0", n, err)
	}
	// Every version is gone, not only the current one.
	refs, err := e.s.ListWrapped(e.ctx, "kek-other", 1000)
	if err != nil {
		t.Fatalf("ListWrapped: %v", err)
	}
	for _, r := range refs {
		if r.KeyID != otherKey.ID && r.KeyID != platformKey.ID {
			t.Errorf("ListWrapped still has %+v of the deleted tenant", r)
		}
	}
	if len(refs) != 2 {
		t.Errorf("ListWrapped = %d refs, want 2 (other tenant and platform)", len(refs))
	}
	for _, k := range []keygate.ProviderKey{otherKey, platformKey} {
		got, err := e.s.GetKey(e.ctx, k.Owner, k.Provider)
		if err != nil {
			t.Fatalf("GetKey(%s): %v", k.Owner, err)
		}
		if diff := cmp.Diff(k, got); diff != "" {
			t.Errorf("GetKey(%s) after deleting another tenant (-want +got):\n%s", k.Owner, diff)
		}
	}

	// The audit trail keeps everything, and one more row.
	after := MustVerifyChain(t, e.s)
	if diff := cmp.Diff(before, after[:len(before)]); diff != "" {
		t.Errorf("audit rows changed by DeleteTenant (-before +after):\n%s", diff)
	}
	if last := after[len(after)-1]; last.Action != keygate.ActionTenantDeleted || last.Tenant != acme.ID {
		t.Errorf("last audit event = %+v, want tenant.deleted of %s", last, acme.ID)
	}
	evs, err := e.s.ListAudit(e.ctx, keygate.AuditFilter{Tenant: acme.ID})
	if err != nil {
		t.Fatalf("ListAudit: %v", err)
	}
	if len(evs) != 6 {
		t.Errorf("ListAudit(deleted tenant) = %d events, want 6: %v", len(evs), actions(evs))
	}

	err = e.s.DeleteTenant(e.ctx, acme.ID, event(keygate.ActionTenantDeleted, acme.ID))
	wantCode(t, "DeleteTenant(again)", err, keygate.CodeNotFound)

	// The name is free again.
	MustCreateTenant(t, e.s, "acme")
}

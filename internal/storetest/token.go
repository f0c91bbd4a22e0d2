// SPDX-License-Identifier: Apache-2.0

package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/keygate/keygate"
)

func testAdminTokens(t *testing.T, e *env) {
	acme := MustCreateTenant(t, e.s, "acme")
	MustCreateTenant(t, e.s, "other")
	if n, err := e.s.CountAdminTokens(e.ctx); err != nil || n != 0 {
		t.Fatalf("CountAdminTokens = %d, %v; want 0", n, err)
	}
	create := func(tok keygate.AdminToken) keygate.AdminToken {
		t.Helper()
		e.clock.Advance(time.Second)
		got, err := e.s.CreateAdminToken(e.ctx, tok, event(keygate.ActionTokenCreated, tok.Tenant))
		if err != nil {
			t.Fatalf("CreateAdminToken(%s): %v", tok.ID, err)
		}
		want := tok
		want.CreatedAt = e.now()
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("CreateAdminToken (-want +got):\n%s", diff)
		}
		return got
	}
	root := create(keygate.AdminToken{ID: "at_root", Name: "bootstrap", Role: keygate.RolePlatformAdmin, Hash: []byte("h-root"), CreatedBy: "system"})
	owner := create(keygate.AdminToken{ID: "at_owner", Name: "alice", Role: keygate.RoleOwner, Tenant: acme.ID, Hash: []byte("h-owner"), CreatedBy: "at_root"})
	member := create(keygate.AdminToken{ID: "at_member", Name: "bob", Role: keygate.RoleMember, Tenant: acme.ID, Hash: []byte("h-member"), CreatedBy: "at_owner"})

	lists := []struct {
		name   string
		tenant keygate.TenantID
		want   []keygate.AdminToken
	}{
		{"All", "", []keygate.AdminToken{member, owner, root}},
		{"Tenant", acme.ID, []keygate.AdminToken{member, owner}},
		{"TenantWithout", "tn_other", nil},
		{"UnknownTenant", "tn_nope", nil},
	}
	for _, tc := range lists {
		t.Run("List"+tc.name, func(t *testing.T) {
			got, err := e.s.ListAdminTokens(e.ctx, tc.tenant)
			if err != nil {
				t.Fatalf("ListAdminTokens: %v", err)
			}
			if diff := cmp.Diff(tc.want, got, diffOpts...); diff != "" {
				t.Errorf("ListAdminTokens(%q) (-want +got):\n%s", tc.tenant, diff)
			}
		})
	}
	for _, tok := range []keygate.AdminToken{root, owner, member} {
		got, err := e.s.AdminTokenByHash(e.ctx, tok.Hash)
		if err != nil {
			t.Fatalf("AdminTokenByHash(%s): %v", tok.ID, err)
		}
		if diff := cmp.Diff(tok, got); diff != "" {
			t.Errorf("AdminTokenByHash(%s) (-want +got):\n%s", tok.ID, diff)
		}
	}

	e.clock.Advance(time.Second)
	if err := e.s.RevokeAdminToken(e.ctx, owner.ID, event(keygate.ActionTokenRevoked, acme.ID)); err != nil {
		t.Fatalf("RevokeAdminToken: %v", err)
	}
	revoked := owner
	revoked.RevokedAt = e.now()
	got, err := e.s.AdminTokenByHash(e.ctx, owner.Hash)
	if err != nil {
		t.Fatalf("AdminTokenByHash(revoked): %v", err)
	}
	if diff := cmp.Diff(revoked, got); diff != "" {
		t.Errorf("AdminTokenByHash(revoked) (-want +got):\n%s", diff)
	}
	err = e.s.RevokeAdminToken(e.ctx, owner.ID, event(keygate.ActionTokenRevoked, acme.ID))
	wantCode(t, "RevokeAdminToken(again)", err, keygate.CodeNotFound)
	err = e.s.RevokeAdminToken(e.ctx, "at_nope", event(keygate.ActionTokenRevoked, ""))
	wantCode(t, "RevokeAdminToken(unknown)", err, keygate.CodeNotFound)
	if n, err := e.s.CountAdminTokens(e.ctx); err != nil || n != 3 {
		t.Errorf("CountAdminTokens = %d, %v; want 3 (revoked tokens count)", n, err)
	}

	evs := MustVerifyChain(t, e.s)
	want := []string{keygate.ActionTenantCreated, keygate.ActionTenantCreated,
		keygate.ActionTokenCreated, keygate.ActionTokenCreated, keygate.ActionTokenCreated, keygate.ActionTokenRevoked}
	if diff := cmp.Diff(want, actions(evs)); diff != "" {
		t.Errorf("audit actions (-want +got):\n%s", diff)
	}
}

func testAdminTokenErrors(t *testing.T, e *env) {
	acme := MustCreateTenant(t, e.s, "acme")
	base := keygate.AdminToken{ID: "at_1", Name: "one", Role: keygate.RoleAdmin, Tenant: acme.ID, Hash: []byte("h-1")}
	if _, err := e.s.CreateAdminToken(e.ctx, base, event(keygate.ActionTokenCreated, acme.ID)); err != nil {
		t.Fatalf("CreateAdminToken: %v", err)
	}
	head := mustHead(t, e.s)
	with := func(f func(*keygate.AdminToken)) keygate.AdminToken {
		tok := base
		tok.ID, tok.Hash = "at_2", []byte("h-2")
		f(&tok)
		return tok
	}
	tests := []struct {
		name  string
		token keygate.AdminToken
		code  string
	}{
		{"ErrHashTaken", with(func(tok *keygate.AdminToken) { tok.Hash = []byte("h-1") }), keygate.CodeConflict},
		{"ErrIDTaken", with(func(tok *keygate.AdminToken) { tok.ID = "at_1" }), keygate.CodeConflict},
		{"ErrUnknownTenant", with(func(tok *keygate.AdminToken) { tok.Tenant = "tn_nope" }), keygate.CodeNotFound},
		{"ErrBadRole", with(func(tok *keygate.AdminToken) { tok.Role = "root" }), keygate.CodeInvalidRequest},
		{"ErrNoHash", with(func(tok *keygate.AdminToken) { tok.Hash = nil }), keygate.CodeInvalidRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.s.CreateAdminToken(e.ctx, tc.token, event(keygate.ActionTokenCreated, tc.token.Tenant))
			wantCode(t, "CreateAdminToken", err, tc.code)
			if got := mustHead(t, e.s); got != head {
				t.Errorf("audit head moved from %d to %d on a failed create", head, got)
			}
		})
	}
	_, err := e.s.AdminTokenByHash(e.ctx, []byte("h-unknown"))
	wantCode(t, "AdminTokenByHash(unknown)", err, keygate.CodeNotFound)
	if n, err := e.s.CountAdminTokens(e.ctx); err != nil || n != 1 {
		t.Errorf("CountAdminTokens = %d, %v; want 1", n, err)
	}
}

// SPDX-License-Identifier: Apache-2.0

package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/keygate/keygate"
)

// MustCreateGatewayToken creates a gateway token of tenant with the given id
// and hash (prefix "kg_" and the id) and fails tb on error.
func MustCreateGatewayToken(tb testing.TB, s keygate.Store, tenant keygate.TenantID, id string, hash []byte) keygate.GatewayToken {
	tb.Helper()
	tok := keygate.GatewayToken{ID: id, Name: "app " + id, Tenant: tenant, Hash: hash, Prefix: "kg_" + id, CreatedBy: "at_test"}
	got, err := s.CreateGatewayToken(tb.Context(), tok, event(keygate.ActionTokenCreated, tenant))
	if err != nil {
		tb.Fatalf("CreateGatewayToken(%s): %v", id, err)
	}
	return got
}

func testGatewayTokens(t *testing.T, e *env) {
	acme := MustCreateTenant(t, e.s, "acme")
	other := MustCreateTenant(t, e.s, "other")
	create := func(tok keygate.GatewayToken) keygate.GatewayToken {
		t.Helper()
		e.clock.Advance(time.Second)
		got, err := e.s.CreateGatewayToken(e.ctx, tok, event(keygate.ActionTokenCreated, tok.Tenant))
		if err != nil {
			t.Fatalf("CreateGatewayToken(%s): %v", tok.ID, err)
		}
		want := tok
		want.CreatedAt = e.now()
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("CreateGatewayToken (-want +got):\n%s", diff)
		}
		return got
	}
	prod := create(keygate.GatewayToken{ID: "gt_prod", Name: "production", Tenant: acme.ID, Hash: []byte("h-prod"), Prefix: "kg_prod", CreatedBy: "at_owner"})
	ci := create(keygate.GatewayToken{ID: "gt_ci", Name: "ci", Tenant: acme.ID, Hash: []byte("h-ci"), Prefix: "kg_ci", CreatedBy: "at_owner"})
	theirs := create(keygate.GatewayToken{ID: "gt_theirs", Name: "theirs", Tenant: other.ID, Hash: []byte("h-theirs"), Prefix: "kg_th", CreatedBy: "at_other"})

	lists := []struct {
		name   string
		tenant keygate.TenantID
		want   []keygate.GatewayToken
	}{
		{"NewestFirst", acme.ID, []keygate.GatewayToken{ci, prod}},
		{"OtherTenant", other.ID, []keygate.GatewayToken{theirs}},
		{"UnknownTenant", "tn_nope", nil},
	}
	for _, tc := range lists {
		t.Run("List"+tc.name, func(t *testing.T) {
			got, err := e.s.ListGatewayTokens(e.ctx, tc.tenant)
			if err != nil {
				t.Fatalf("ListGatewayTokens: %v", err)
			}
			if diff := cmp.Diff(tc.want, got, diffOpts...); diff != "" {
				t.Errorf("ListGatewayTokens(%q) (-want +got):\n%s", tc.tenant, diff)
			}
		})
	}
	for _, tok := range []keygate.GatewayToken{prod, ci, theirs} {
		got, err := e.s.GatewayTokenByHash(e.ctx, tok.Hash)
		if err != nil {
			t.Fatalf("GatewayTokenByHash(%s): %v", tok.ID, err)
		}
		if diff := cmp.Diff(tok, got); diff != "" {
			t.Errorf("GatewayTokenByHash(%s) (-want +got):\n%s", tok.ID, diff)
		}
	}

	e.clock.Advance(time.Second)
	if err := e.s.RevokeGatewayToken(e.ctx, acme.ID, ci.ID, event(keygate.ActionTokenRevoked, acme.ID)); err != nil {
		t.Fatalf("RevokeGatewayToken: %v", err)
	}
	revoked := ci
	revoked.RevokedAt = e.now()
	head := mustHead(t, e.s)

	// A revoked token is still found by its hash, so that the gateway can
	// say "revoked" rather than "unknown"; it stays listed too.
	got, err := e.s.GatewayTokenByHash(e.ctx, ci.Hash)
	if err != nil {
		t.Fatalf("GatewayTokenByHash(revoked): %v", err)
	}
	if diff := cmp.Diff(revoked, got); diff != "" {
		t.Errorf("GatewayTokenByHash(revoked) (-want +got):\n%s", diff)
	}
	list, err := e.s.ListGatewayTokens(e.ctx, acme.ID)
	if err != nil {
		t.Fatalf("ListGatewayTokens: %v", err)
	}
	if diff := cmp.Diff([]keygate.GatewayToken{revoked, prod}, list); diff != "" {
		t.Errorf("ListGatewayTokens after revoke (-want +got):\n%s", diff)
	}

	revokes := []struct {
		name   string
		tenant keygate.TenantID
		id     string
	}{
		{"ErrAlreadyRevoked", acme.ID, ci.ID},
		{"ErrOtherTenantsToken", acme.ID, theirs.ID},
		{"ErrUnknownToken", acme.ID, "gt_nope"},
		{"ErrUnknownTenant", "tn_nope", prod.ID},
	}
	for _, tc := range revokes {
		t.Run("Revoke"+tc.name, func(t *testing.T) {
			err := e.s.RevokeGatewayToken(e.ctx, tc.tenant, tc.id, event(keygate.ActionTokenRevoked, tc.tenant))
			wantCode(t, "RevokeGatewayToken", err, keygate.CodeNotFound)
			if got := mustHead(t, e.s); got != head {
				t.Errorf("audit head moved from %d to %d on a failed revoke", head, got)
			}
		})
	}
	// The failed revokes left the other tokens usable.
	for _, tok := range []keygate.GatewayToken{prod, theirs} {
		got, err := e.s.GatewayTokenByHash(e.ctx, tok.Hash)
		if err != nil {
			t.Fatalf("GatewayTokenByHash(%s): %v", tok.ID, err)
		}
		if diff := cmp.Diff(tok, got); diff != "" {
			t.Errorf("GatewayTokenByHash(%s) after failed revokes (-want +got):\n%s", tok.ID, diff)
		}
	}

	evs := MustVerifyChain(t, e.s)
	want := []string{keygate.ActionTenantCreated, keygate.ActionTenantCreated,
		keygate.ActionTokenCreated, keygate.ActionTokenCreated, keygate.ActionTokenCreated, keygate.ActionTokenRevoked}
	if diff := cmp.Diff(want, actions(evs)); diff != "" {
		t.Errorf("audit actions (-want +got):\n%s", diff)
	}
}

func testGatewayTokenErrors(t *testing.T, e *env) {
	acme := MustCreateTenant(t, e.s, "acme")
	base := MustCreateGatewayToken(t, e.s, acme.ID, "gt_1", []byte("h-1"))
	head := mustHead(t, e.s)
	with := func(f func(*keygate.GatewayToken)) keygate.GatewayToken {
		tok := base
		tok.ID, tok.Hash, tok.CreatedAt = "gt_2", []byte("h-2"), time.Time{}
		f(&tok)
		return tok
	}
	tests := []struct {
		name  string
		token keygate.GatewayToken
		code  string
	}{
		{"ErrHashTaken", with(func(tok *keygate.GatewayToken) { tok.Hash = []byte("h-1") }), keygate.CodeConflict},
		{"ErrIDTaken", with(func(tok *keygate.GatewayToken) { tok.ID = "gt_1" }), keygate.CodeConflict},
		{"ErrUnknownTenant", with(func(tok *keygate.GatewayToken) { tok.Tenant = "tn_nope" }), keygate.CodeNotFound},
		{"ErrNoTenant", with(func(tok *keygate.GatewayToken) { tok.Tenant = "" }), keygate.CodeInvalidRequest},
		{"ErrNoHash", with(func(tok *keygate.GatewayToken) { tok.Hash = nil }), keygate.CodeInvalidRequest},
		{"ErrNoID", with(func(tok *keygate.GatewayToken) { tok.ID = "" }), keygate.CodeInvalidRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.s.CreateGatewayToken(e.ctx, tc.token, event(keygate.ActionTokenCreated, tc.token.Tenant))
			wantCode(t, "CreateGatewayToken", err, tc.code)
			if got := mustHead(t, e.s); got != head {
				t.Errorf("audit head moved from %d to %d on a failed create", head, got)
			}
		})
	}
	_, err := e.s.GatewayTokenByHash(e.ctx, []byte("h-unknown"))
	wantCode(t, "GatewayTokenByHash(unknown)", err, keygate.CodeNotFound)
	list, err := e.s.ListGatewayTokens(e.ctx, acme.ID)
	if err != nil {
		t.Fatalf("ListGatewayTokens: %v", err)
	}
	if diff := cmp.Diff([]keygate.GatewayToken{base}, list); diff != "" {
		t.Errorf("ListGatewayTokens after failed creates (-want +got):\n%s", diff)
	}
	// Admin and gateway tokens are apart: one's hash does not find the other.
	_, err = e.s.AdminTokenByHash(e.ctx, base.Hash)
	wantCode(t, "AdminTokenByHash(gateway token hash)", err, keygate.CodeNotFound)
}

// testTenantDeleteGateway checks that DeleteTenant takes the tenant's
// gateway tokens and policy with it, and nobody else's.
func testTenantDeleteGateway(t *testing.T, e *env) {
	acme := MustCreateTenant(t, e.s, "acme")
	other := MustCreateTenant(t, e.s, "other")
	acmeTok := MustCreateGatewayToken(t, e.s, acme.ID, "gt_acme", []byte("h-acme"))
	otherTok := MustCreateGatewayToken(t, e.s, other.ID, "gt_other", []byte("h-other"))
	strict := keygate.TenantPolicy{Tenant: acme.ID, Default: keygate.Policy{Mode: keygate.ModeTenantOnly},
		Providers: map[string]keygate.Policy{"openai": {Mode: keygate.ModePlatformOnly}}}
	MustPutPolicy(t, e.s, strict)
	otherPolicy := MustPutPolicy(t, e.s, keygate.TenantPolicy{Tenant: other.ID, Default: keygate.Policy{Mode: keygate.ModeTenantOnly}})

	if err := e.s.DeleteTenant(e.ctx, acme.ID, event(keygate.ActionTenantDeleted, acme.ID)); err != nil {
		t.Fatalf("DeleteTenant: %v", err)
	}
	_, err := e.s.GatewayTokenByHash(e.ctx, acmeTok.Hash)
	wantCode(t, "GatewayTokenByHash(deleted tenant)", err, keygate.CodeNotFound)
	if list, err := e.s.ListGatewayTokens(e.ctx, acme.ID); err != nil || len(list) != 0 {
		t.Errorf("ListGatewayTokens(deleted tenant) = %v, %v; want none", list, err)
	}
	_, err = e.s.GetPolicy(e.ctx, acme.ID)
	wantCode(t, "GetPolicy(deleted tenant)", err, keygate.CodeNotFound)

	if got, err := e.s.GatewayTokenByHash(e.ctx, otherTok.Hash); err != nil || !cmp.Equal(otherTok, got) {
		t.Errorf("GatewayTokenByHash(other tenant) = %+v, %v; want %+v", got, err, otherTok)
	}
	if got, err := e.s.GetPolicy(e.ctx, other.ID); err != nil || !cmp.Equal(otherPolicy, got) {
		t.Errorf("GetPolicy(other tenant) = %+v, %v; want %+v", got, err, otherPolicy)
	}

	// A new tenant with the same id starts clean: no policy rows or tokens
	// were left behind for it to inherit.
	again := MustCreateTenant(t, e.s, "acme")
	got, err := e.s.GetPolicy(e.ctx, again.ID)
	if err != nil {
		t.Fatalf("GetPolicy(recreated tenant): %v", err)
	}
	if diff := cmp.Diff(defaultTenantPolicy(again.ID), got); diff != "" {
		t.Errorf("GetPolicy(recreated tenant) (-want +got):\n%s", diff)
	}
	if list, err := e.s.ListGatewayTokens(e.ctx, again.ID); err != nil || len(list) != 0 {
		t.Errorf("ListGatewayTokens(recreated tenant) = %v, %v; want none", list, err)
	}
	MustVerifyChain(t, e.s)
}

// SPDX-License-Identifier: Apache-2.0

package auth_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"strings"
	"testing"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/auth"
)

func TestMint(t *testing.T) {
	a, ha, err := auth.Mint(rand.Reader, auth.AdminTokenPrefix)
	if err != nil {
		t.Fatal(err)
	}
	b, hb, _ := auth.Mint(rand.Reader, auth.AdminTokenPrefix)
	if !strings.HasPrefix(a.Reveal(), "kga_") || len(a.Reveal()) != 4+43 {
		t.Errorf("token shape: len %d", len(a.Reveal()))
	}
	if a.Equal(b) || bytes.Equal(ha, hb) {
		t.Error("two tokens are equal")
	}
	if !bytes.Equal(auth.Hash(a), ha) {
		t.Error("hash is not stable")
	}
}

func TestCan(t *testing.T) {
	const acme, other keygate.TenantID = "tn_acme", "tn_other"
	tests := []struct {
		name   string
		p      auth.Principal
		right  auth.Right
		tenant keygate.TenantID
		want   bool
	}{
		{"PlatformAdminAnything", auth.Principal{Role: keygate.RolePlatformAdmin}, auth.RightMasterKey, "", true},
		{"OwnerTokens", auth.Principal{Role: keygate.RoleOwner, Tenant: acme}, auth.RightTokenManage, acme, true},
		{"AdminKeysWrite", auth.Principal{Role: keygate.RoleAdmin, Tenant: acme}, auth.RightKeyWrite, acme, true},
		{"AdminNoTokens", auth.Principal{Role: keygate.RoleAdmin, Tenant: acme}, auth.RightTokenManage, acme, false},
		{"AdminScopesTokens", auth.Principal{Role: keygate.RoleAdmin, Tenant: acme}, auth.RightTokenScope, acme, true},
		{"OwnerScopesTokens", auth.Principal{Role: keygate.RoleOwner, Tenant: acme}, auth.RightTokenScope, acme, true},
		{"MemberNoScopes", auth.Principal{Role: keygate.RoleMember, Tenant: acme}, auth.RightTokenScope, acme, false},
		{"AdminNoOtherTenantsScopes", auth.Principal{Role: keygate.RoleAdmin, Tenant: acme}, auth.RightTokenScope, "tn_other", false},
		{"MemberRead", auth.Principal{Role: keygate.RoleMember, Tenant: acme}, auth.RightKeyRead, acme, true},
		{"MemberNoWrite", auth.Principal{Role: keygate.RoleMember, Tenant: acme}, auth.RightKeyWrite, acme, false},
		{"MemberNoAudit", auth.Principal{Role: keygate.RoleMember, Tenant: acme}, auth.RightAuditRead, acme, false},
		{"OwnerOtherTenant", auth.Principal{Role: keygate.RoleOwner, Tenant: acme}, auth.RightKeyRead, other, false},
		{"OwnerNoPlatformRight", auth.Principal{Role: keygate.RoleOwner, Tenant: acme}, auth.RightTenantCreate, "", false},
		{"OwnerNoByokGrant", auth.Principal{Role: keygate.RoleOwner, Tenant: acme}, auth.RightTenantUpdate, acme, false},
		{"UnknownRole", auth.Principal{Role: "root", Tenant: acme}, auth.RightKeyRead, acme, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.p.Can(tc.right, tc.tenant); got != tc.want {
				t.Errorf("Can = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestCanOn(t *testing.T) {
	open := keygate.Tenant{ID: "tn_acme"} // KeyAdmins empty: the default
	ownerAndAdmin := keygate.Tenant{ID: "tn_acme", KeyAdmins: keygate.KeyAdminsOwnerAndAdmin}
	ownerOnly := keygate.Tenant{ID: "tn_acme", KeyAdmins: keygate.KeyAdminsOwnerOnly}
	otherOwnerOnly := keygate.Tenant{ID: "tn_other", KeyAdmins: keygate.KeyAdminsOwnerOnly}
	platform := auth.Principal{Role: keygate.RolePlatformAdmin}
	owner := auth.Principal{Role: keygate.RoleOwner, Tenant: "tn_acme"}
	admin := auth.Principal{Role: keygate.RoleAdmin, Tenant: "tn_acme"}
	member := auth.Principal{Role: keygate.RoleMember, Tenant: "tn_acme"}
	tests := []struct {
		name   string
		p      auth.Principal
		right  auth.Right
		tenant keygate.Tenant
		want   bool
	}{
		{"AdminKeyWriteDefault", admin, auth.RightKeyWrite, open, true},
		{"AdminKeyWriteOwnerAndAdmin", admin, auth.RightKeyWrite, ownerAndAdmin, true},
		{"AdminKeyWriteOwnerOnly", admin, auth.RightKeyWrite, ownerOnly, false},
		{"AdminKeyReadOwnerOnly", admin, auth.RightKeyRead, ownerOnly, true},
		{"AdminAuditOwnerOnly", admin, auth.RightAuditRead, ownerOnly, true},
		{"OwnerKeyWriteOwnerOnly", owner, auth.RightKeyWrite, ownerOnly, true},
		{"OwnerKeyWriteOtherTenant", owner, auth.RightKeyWrite, otherOwnerOnly, false},
		{"MemberKeyWriteDefault", member, auth.RightKeyWrite, open, false},
		{"MemberKeyWriteOwnerOnly", member, auth.RightKeyWrite, ownerOnly, false},
		{"PlatformKeyWriteOwnerOnly", platform, auth.RightKeyWrite, ownerOnly, true},
		{"OwnerSettings", owner, auth.RightTenantSettings, open, true},
		{"AdminNoSettings", admin, auth.RightTenantSettings, open, false},
		{"MemberNoSettings", member, auth.RightTenantSettings, open, false},
		{"OwnerNoByokGrant", owner, auth.RightTenantUpdate, ownerOnly, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.p.CanOn(tc.right, tc.tenant); got != tc.want {
				t.Errorf("CanOn = %v, want %v", got, tc.want)
			}
		})
	}
}

type tokenMap map[string]keygate.AdminToken

func (m tokenMap) AdminTokenByHash(_ context.Context, h []byte) (keygate.AdminToken, error) {
	if t, ok := m[string(h)]; ok {
		return t, nil
	}
	return keygate.AdminToken{}, keygate.Errorf(keygate.CodeNotFound, "no token")
}

func TestAuthenticate(t *testing.T) {
	good, gh, _ := auth.Mint(rand.Reader, auth.AdminTokenPrefix)
	revoked, rh, _ := auth.Mint(rand.Reader, auth.AdminTokenPrefix)
	unknown, _, _ := auth.Mint(rand.Reader, auth.AdminTokenPrefix)
	m := tokenMap{
		string(gh): {ID: "at_1", Name: "ci", Role: keygate.RoleAdmin, Tenant: "tn_a", Hash: gh},
		string(rh): {ID: "at_2", Role: keygate.RoleAdmin, Hash: rh, RevokedAt: keygate.Now(timeNow)},
	}
	s := auth.NewService(m, auth.Options{})
	p, err := s.Authenticate(context.Background(), good)
	if err != nil || p.TokenID != "at_1" || p.Tenant != "tn_a" || p.Role != keygate.RoleAdmin {
		t.Fatalf("good token: %+v, %v", p, err)
	}
	for name, tok := range map[string]keygate.Secret{"Revoked": revoked, "Unknown": unknown, "Empty": {}} {
		t.Run(name, func(t *testing.T) {
			_, err := s.Authenticate(context.Background(), tok)
			if keygate.ErrorCode(err) != keygate.CodeUnauthorized {
				t.Fatalf("err = %v, want unauthorized", err)
			}
		})
	}
}

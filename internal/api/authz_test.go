// SPDX-License-Identifier: Apache-2.0

package api

import (
	"context"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/auth"
	"github.com/keygate/keygate/internal/envelope"
	"github.com/keygate/keygate/internal/keeper"
	"github.com/keygate/keygate/internal/keyvault"
	"github.com/keygate/keygate/internal/provider"
	"github.com/keygate/keygate/internal/sqlite"
)

// MustAPI returns the API on a real SQLite store and key vault, with the
// tenants acme and globex.
func MustAPI(tb testing.TB) (*API, *sqlite.DB) {
	tb.Helper()
	ctx := context.Background()
	dir := tb.TempDir()
	set, err := keeper.Open(ctx, "", keeper.Options{DataDir: dir})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { set.Close() })
	kr, err := envelope.NewKeyring(set.Primary())
	if err != nil {
		tb.Fatal(err)
	}
	db, err := sqlite.Open(ctx, filepath.Join(dir, "keygate.db"), sqlite.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	cat, err := provider.Default()
	if err != nil {
		tb.Fatal(err)
	}
	v := keyvault.New(db, kr, cat, keyvault.Options{})
	if err := v.Init(ctx); err != nil {
		tb.Fatal(err)
	}
	for _, n := range []string{"acme", "globex"} {
		id := keygate.TenantID("tn_" + n)
		if _, err := db.CreateTenant(ctx, keygate.Tenant{ID: id, Name: n, BYOKEnabled: true}, keygate.AuditEvent{Action: keygate.ActionTenantCreated, Tenant: id}); err != nil {
			tb.Fatal(err)
		}
	}
	return New(Deps{Store: db, Vault: v, Auth: auth.NewService(db, auth.Options{}), Providers: cat}), db
}

// MustToken stores an admin token with role on tenant and returns it.
func MustToken(tb testing.TB, db *sqlite.DB, role keygate.Role, tenant keygate.TenantID) string {
	tb.Helper()
	tok, hash, err := auth.Mint(rand.Reader, auth.AdminTokenPrefix)
	if err != nil {
		tb.Fatal(err)
	}
	id, _ := auth.NewID(rand.Reader, "at_")
	if _, err := db.CreateAdminToken(context.Background(), keygate.AdminToken{ID: id, Name: string(role), Role: role, Tenant: tenant, Hash: hash},
		keygate.AuditEvent{Action: keygate.ActionTokenCreated}); err != nil {
		tb.Fatal(err)
	}
	return tok.Reveal()
}

// TestAuthorizationMatrix walks every route of the route table × every
// role × the caller's own tenant and another tenant, and checks that the
// route is refused (403) exactly when the rights table says so. A route
// added to the table is covered without touching this test.
func TestAuthorizationMatrix(t *testing.T) {
	roles := []struct {
		role   keygate.Role
		tenant keygate.TenantID
	}{
		{keygate.RolePlatformAdmin, ""},
		{keygate.RoleOwner, "tn_acme"},
		{keygate.RoleAdmin, "tn_acme"},
		{keygate.RoleMember, "tn_acme"},
	}
	n := 0
	for _, rt := range (&API{}).routes() {
		// A fresh store per route: some routes delete what others need.
		a, db := MustAPI(t)
		tokens := map[keygate.Role]string{}
		for _, r := range roles {
			tokens[r.role] = MustToken(t, db, r.role, r.tenant)
		}
		// Platform admins last, so a tenant they delete is gone only after
		// the tenant roles were tried.
		for _, r := range append(roles[1:], roles[0]) {
			for _, target := range []string{"acme", "globex"} {
				if rt.Scope != scopeTenant && target == "globex" {
					continue
				}
				n++
				path := strings.NewReplacer("{tenant}", target, "{provider}", "openai", "{id}", "xx_missing").Replace(rt.Pattern)
				if rt.Method == "POST" && strings.HasSuffix(rt.Pattern, "/keys/{provider}") {
					path += ":rollback"
				}
				p := auth.Principal{Role: r.role, Tenant: r.tenant}
				var allowed bool
				switch rt.Scope {
				case scopeTenant:
					allowed = p.Can(rt.Right, keygate.TenantID("tn_"+target))
				case scopePlatform:
					allowed = p.Can(rt.Right, "")
				case scopeNone:
					continue // token-only routes check finer rights in their handlers; tested in their own tests
				}
				req := httptest.NewRequest(rt.Method, path, strings.NewReader("{}"))
				req.Header.Set("Authorization", "Bearer "+tokens[r.role])
				w := httptest.NewRecorder()
				a.ServeHTTP(w, req)
				denied := w.Code == http.StatusForbidden
				if denied == allowed || w.Code == http.StatusUnauthorized {
					t.Errorf("%s %s as %s of acme: %d (allowed by the rights table: %v) %s", rt.Method, path, r.role, w.Code, allowed, w.Body)
				}
			}
		}
	}
	// Without a token, every route is 401.
	a, _ := MustAPI(t)
	for _, rt := range a.routes() {
		path := strings.NewReplacer("{tenant}", "acme", "{provider}", "openai", "{id}", "x").Replace(rt.Pattern)
		w := httptest.NewRecorder()
		a.ServeHTTP(w, httptest.NewRequest(rt.Method, path, nil))
		if w.Code != http.StatusUnauthorized {
			t.Errorf("%s %s without a token: %d", rt.Method, path, w.Code)
		}
	}
	t.Logf("%d route × role × tenant cases", n)
}

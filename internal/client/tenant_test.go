// SPDX-License-Identifier: Apache-2.0

package client_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/client"
	"github.com/keygate/keygate/internal/client/clienttest"
)

func TestTenantLifecycle(t *testing.T) {
	s, c := MustFake(t)
	ctx := context.Background()
	off := false

	created, err := c.CreateTenant(ctx, client.CreateTenantParams{Name: "acme", BYOKEnabled: &off})
	if err != nil {
		t.Fatal(err)
	}
	at := clienttest.Start().Add(time.Second)
	want := client.Tenant{ID: created.ID, Name: "acme", BYOKEnabled: false, KeyAdmins: keygate.KeyAdminsOwnerAndAdmin, CreatedAt: at, UpdatedAt: at}
	if diff := cmp.Diff(want, created); diff != "" {
		t.Errorf("CreateTenant (-want +got):\n%s", diff)
	}
	if got := string(s.Requests()[0].Body); got != `{"name":"acme","byok_enabled":false}` {
		t.Errorf("create body = %s", got)
	}

	if _, err := c.CreateTenant(ctx, client.CreateTenantParams{Name: "acme"}); !keygate.IsCode(err, keygate.CodeConflict) {
		t.Errorf("second CreateTenant error = %v, want conflict", err)
	}

	on := true
	updated, err := c.UpdateTenant(ctx, "acme", client.TenantUpdate{BYOKEnabled: &on})
	if err != nil {
		t.Fatal(err)
	}
	if !updated.BYOKEnabled {
		t.Errorf("UpdateTenant: byok_enabled still false")
	}

	byID, err := c.GetTenant(ctx, string(created.ID))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(updated, byID); diff != "" {
		t.Errorf("GetTenant by id (-update +get):\n%s", diff)
	}

	list, err := c.ListTenants(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]client.Tenant{updated}, list); diff != "" {
		t.Errorf("ListTenants (-want +got):\n%s", diff)
	}

	if err := c.DeleteTenant(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetTenant(ctx, "acme"); !keygate.IsCode(err, keygate.CodeNotFound) {
		t.Errorf("GetTenant after delete: error = %v, want not_found", err)
	}
}

// TestTenantKeyAdmins: the tenant's owner sets key_admins owner_only (and
// may not grant BYOK); the tenant's admin token then may not change keys,
// the owner still may.
func TestTenantKeyAdmins(t *testing.T) {
	s, c := MustFake(t)
	ctx := context.Background()
	if _, err := c.CreateTenant(ctx, client.CreateTenantParams{Name: "acme"}); err != nil {
		t.Fatal(err)
	}
	token := func(role keygate.Role) *client.Client {
		nt, err := c.CreateAdminToken(ctx, client.CreateAdminTokenParams{Name: string(role), Role: role, Tenant: "acme"})
		if err != nil {
			t.Fatal(err)
		}
		return MustNew(t, s.URL, nt.Token.Reveal())
	}
	owner, admin := token(keygate.RoleOwner), token(keygate.RoleAdmin)

	if _, err := admin.UpdateTenant(ctx, "acme", client.TenantUpdate{KeyAdmins: keygate.KeyAdminsOwnerOnly}); !keygate.IsCode(err, keygate.CodeForbidden) {
		t.Errorf("admin sets key_admins: error = %v, want forbidden", err)
	}
	on := true
	if _, err := owner.UpdateTenant(ctx, "acme", client.TenantUpdate{BYOKEnabled: &on}); !keygate.IsCode(err, keygate.CodeForbidden) {
		t.Errorf("owner sets byok_enabled: error = %v, want forbidden", err)
	}
	if _, err := owner.UpdateTenant(ctx, "acme", client.TenantUpdate{KeyAdmins: "everyone"}); !keygate.IsCode(err, keygate.CodeInvalidRequest) {
		t.Errorf("owner sets key_admins everyone: error = %v, want invalid_request", err)
	}
	n := len(s.Requests())
	updated, err := owner.UpdateTenant(ctx, "acme", client.TenantUpdate{KeyAdmins: keygate.KeyAdminsOwnerOnly})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(s.Requests()[n].Body); got != `{"key_admins":"owner_only"}` {
		t.Errorf("update body = %s", got)
	}
	if updated.KeyAdmins != keygate.KeyAdminsOwnerOnly {
		t.Errorf("UpdateTenant: key_admins = %q, want owner_only", updated.KeyAdmins)
	}

	key := keygate.NewSecret("sk-test-0000000000000000000000000000")
	if _, err := admin.PutKey(ctx, "acme", "openai", key); !keygate.IsCode(err, keygate.CodeForbidden) {
		t.Errorf("admin PutKey on an owner_only tenant: error = %v, want forbidden", err)
	}
	if _, err := owner.PutKey(ctx, "acme", "openai", key); err != nil {
		t.Errorf("owner PutKey on an owner_only tenant: %v", err)
	}
	if err := admin.DeleteKey(ctx, "acme", "openai"); !keygate.IsCode(err, keygate.CodeForbidden) {
		t.Errorf("admin DeleteKey on an owner_only tenant: error = %v, want forbidden", err)
	}
}

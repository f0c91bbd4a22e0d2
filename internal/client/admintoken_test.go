// SPDX-License-Identifier: Apache-2.0

package client_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/client"
)

func TestAdminTokens(t *testing.T) {
	s, c := MustFake(t)
	ctx := context.Background()
	if _, err := c.CreateTenant(ctx, client.CreateTenantParams{Name: "acme"}); err != nil {
		t.Fatal(err)
	}
	nt, err := c.CreateAdminToken(ctx, client.CreateAdminTokenParams{Name: "ci", Role: keygate.RoleAdmin, Tenant: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(nt.Token.Reveal(), "kga_") {
		t.Errorf("token = %q, want kga_...", nt.Token.Reveal())
	}
	printed, _ := json.Marshal(nt)
	for _, out := range []string{fmt.Sprint(nt), fmt.Sprintf("%+v", nt), string(printed)} {
		if strings.Contains(out, nt.Token.Reveal()) {
			t.Errorf("printing a NewAdminToken shows the token: %s", out)
		}
	}

	// The new token works, and is who it says.
	tc := MustNew(t, s.URL, nt.Token.Reveal())
	id, err := tc.WhoAmI(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := client.Identity{TokenID: nt.ID, Name: "ci", Role: keygate.RoleAdmin, Tenant: nt.Tenant}
	if diff := cmp.Diff(want, id); diff != "" {
		t.Errorf("WhoAmI (-want +got):\n%s", diff)
	}

	list, err := c.ListAdminTokens(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]client.AdminToken{nt.AdminToken}, list); diff != "" {
		t.Errorf("ListAdminTokens (-want +got):\n%s", diff)
	}
	if got := s.Requests()[len(s.Requests())-1].Query; got != "tenant=acme" {
		t.Errorf("list query = %q", got)
	}

	if err := c.RevokeAdminToken(ctx, nt.ID); err != nil {
		t.Fatal(err)
	}
	if err := c.RevokeAdminToken(ctx, nt.ID); !keygate.IsCode(err, keygate.CodeNotFound) {
		t.Errorf("second revoke: %v, want not_found", err)
	}
	if _, err := tc.WhoAmI(ctx); !keygate.IsCode(err, keygate.CodeUnauthorized) {
		t.Errorf("WhoAmI with revoked token: %v, want unauthorized", err)
	}
}

func TestMasterKey(t *testing.T) {
	_, c := MustFake(t)
	ctx := context.Background()
	st, err := c.MasterKeyStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rot, err := c.RotateMasterKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	after, err := c.MasterKeyStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := []string{st.Primary, st.Kind, rot.Previous, rot.Primary, after.Primary}
	want := []string{"mk_initial", "file", "mk_initial", rot.Primary, rot.Primary}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if rot.Primary == "mk_initial" {
		t.Errorf("rotation kept the primary key")
	}
}

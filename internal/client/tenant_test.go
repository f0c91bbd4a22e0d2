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
	want := client.Tenant{ID: created.ID, Name: "acme", BYOKEnabled: false, CreatedAt: at, UpdatedAt: at}
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

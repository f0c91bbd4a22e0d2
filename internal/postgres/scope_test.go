// SPDX-License-Identifier: Apache-2.0

package postgres_test

import (
	"context"
	"testing"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/postgres"
	"github.com/keygate/keygate/internal/storetest"
	"github.com/keygate/keygate/internal/testkit"
)

// TestScopeChangeNotifies: changing a gateway token's scope sends the
// token's change on the change feed, so that every other replica drops the
// token from its cache and serves its next call under the new scope.
func TestScopeChangeNotifies(t *testing.T) {
	url, schema := testkit.PostgresSchema(t)
	db := MustOpen(t, url, postgres.Options{Schema: schema})
	changes := make(chan keygate.Change, 16)
	resyncs := make(chan struct{}, 16)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- db.Listen(ctx, func(c keygate.Change) { changes <- c }, func() { resyncs <- struct{}{} })
	}()
	t.Cleanup(func() { cancel(); <-done })
	receive(t, "first resync", resyncs)

	acme := storetest.MustCreateTenant(t, db, "acme")
	receive(t, "tenant change", changes)
	storetest.MustCreateGatewayToken(t, db, acme.ID, "gt_1", []byte("h-1"))
	receive(t, "token creation", changes)
	ev := keygate.AuditEvent{Action: keygate.ActionTokenScoped, Tenant: acme.ID}
	if _, err := db.SetGatewayTokenScope(ctx, acme.ID, "gt_1", keygate.TokenScope{Providers: []string{"openai"}}, ev); err != nil {
		t.Fatal(err)
	}
	if c := receive(t, "scope change", changes); c.Kind != keygate.ChangeToken || c.ID != "gt_1" || c.Owner != acme.ID {
		t.Fatalf("change = %+v, want gt_1's", c)
	}
}

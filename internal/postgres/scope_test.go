// SPDX-License-Identifier: Apache-2.0

package postgres_test

import (
	"testing"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/storetest"
)

// TestScopeChangeNotifies: changing a gateway token's scope sends the
// token's change on the change feed, so that every other replica drops the
// token from its cache and serves its next call under the new scope.
func TestScopeChangeNotifies(t *testing.T) {
	db, changes := listenFresh(t)
	ctx := t.Context()

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

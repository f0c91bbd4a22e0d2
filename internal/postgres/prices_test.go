// SPDX-License-Identifier: Apache-2.0

package postgres_test

import (
	"testing"

	"github.com/keygate/keygate"
)

// TestPriceImportNotifies: an import reaches the other replicas on the
// change feed (kind prices, ID the version), so each reloads its table.
func TestPriceImportNotifies(t *testing.T) {
	db, changes := listenFresh(t)
	ctx := t.Context()
	if _, err := db.ImportPrices(ctx, keygate.PriceImport{Source: "litellm", Digest: "d1", Entries: 1, Actor: "ops",
		Prices: []byte(`{"providers":{}}`)}, keygate.AuditEvent{Action: keygate.ActionPricesImported}); err != nil {
		t.Fatal(err)
	}
	if c := receive(t, "change", changes); c != (keygate.Change{Kind: keygate.ChangePrices, ID: "1"}) {
		t.Fatalf("change = %+v, want prices version 1", c)
	}
}

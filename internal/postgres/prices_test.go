// SPDX-License-Identifier: Apache-2.0

package postgres_test

import (
	"context"
	"testing"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/postgres"
	"github.com/keygate/keygate/internal/testkit"
)

// TestPriceImportNotifies: an import reaches the other replicas on the
// change feed (kind prices, ID the version), so each reloads its table.
func TestPriceImportNotifies(t *testing.T) {
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
	if _, err := db.ImportPrices(ctx, keygate.PriceImport{Source: "litellm", Digest: "d1", Entries: 1, Actor: "ops",
		Prices: []byte(`{"providers":{}}`)}, keygate.AuditEvent{Action: keygate.ActionPricesImported}); err != nil {
		t.Fatal(err)
	}
	if c := receive(t, "change", changes); c != (keygate.Change{Kind: keygate.ChangePrices, ID: "1"}) {
		t.Fatalf("change = %+v, want prices version 1", c)
	}
}

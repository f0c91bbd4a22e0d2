// SPDX-License-Identifier: Apache-2.0

package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/keygate/keygate/internal/postgres"
	"github.com/keygate/keygate/internal/storetest"
	"github.com/keygate/keygate/internal/testkit"
)

// TestDestroyErasesColumns checks, below the Store interface, that a
// destroyed version keeps no sealed material and the current one keeps its
// own.
func TestDestroyErasesColumns(t *testing.T) {
	url, schema := testkit.PostgresSchema(t)
	clock := storetest.NewClock(time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC))
	db := MustOpen(t, url, postgres.Options{Schema: schema, Now: clock.Now})
	ctx := context.Background()
	acme := storetest.MustCreateTenant(t, db, "acme")
	storetest.MustPutKey(t, db, acme.ID, "openai", "sk-destroy-one-AAAA")
	clock.Advance(time.Minute)
	v2 := storetest.MustPutKey(t, db, acme.ID, "openai", "sk-destroy-two-BBBB")
	clock.Advance(time.Minute)
	if n, err := db.DestroySuperseded(ctx, clock.Now()); err != nil || n != 1 {
		t.Fatalf("DestroySuperseded = %d, %v; want 1", n, err)
	}
	// row is what the table holds of one version; nil means NULL.
	type row struct {
		Ciphertext, WrappedDEK []byte
		Destroyed              bool
	}
	tests := []struct {
		name    string
		version int
		want    row
	}{
		{"Destroyed", 1, row{nil, nil, true}},
		{"Current", 2, row{v2.Sealed.Ciphertext, v2.Sealed.WrappedDEK, false}},
	}
	conn := mustConn(t, url, schema)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got row
			if err := conn.QueryRow(ctx, `SELECT ciphertext, wrapped_dek, destroyed_at IS NOT NULL
				FROM provider_key_versions WHERE version = $1`, tc.version).Scan(&got.Ciphertext, &got.WrappedDEK, &got.Destroyed); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("version %d (-want +got):\n%s", tc.version, diff)
			}
		})
	}
}

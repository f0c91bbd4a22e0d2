// SPDX-License-Identifier: Apache-2.0

package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/sqlstore"
)

// TestReadStatementsPrepared: a read's statement is prepared once its
// first transaction ends and used from then on; the answers do not change;
// the cache stops growing at maxCachedStmts; Close releases it.
func TestReadStatementsPrepared(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "keygate.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateTenant(ctx, keygate.Tenant{ID: "tn_a", Name: "a"}, keygate.AuditEvent{Action: keygate.ActionTenantCreated}); err != nil {
		t.Fatal(err)
	}
	cached := func() int {
		db.readStmts.mu.RLock()
		defer db.readStmts.mu.RUnlock()
		return len(db.readStmts.stmts)
	}
	before := cached()
	for i := range 3 {
		got, err := db.GetTenant(ctx, "tn_a")
		if err != nil || got.Name != "a" {
			t.Fatalf("read %d: %+v %v", i, got, err)
		}
		if n := cached(); n != before+1 {
			t.Fatalf("after read %d: %d statements cached, want %d", i, n, before+1)
		}
	}
	if _, err := db.GetTenant(ctx, "tn_absent"); !keygate.IsCode(err, keygate.CodeNotFound) {
		t.Fatalf("absent tenant through the prepared statement: %v", err)
	}

	for i := range maxCachedStmts + 10 {
		err := db.read(ctx, "probe", func(tx *tx) error {
			var n int
			return tx.QueryRowStmt(ctx, sqlstore.Stmt{SQL: fmt.Sprintf("SELECT %d", i)}).Scan(&n)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := cached(); n != maxCachedStmts {
		t.Errorf("%d statements cached, want the bound %d", n, maxCachedStmts)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if s := db.readStmts.get("SELECT 1"); s != nil {
		t.Error("a closed cache still hands out statements")
	}
}

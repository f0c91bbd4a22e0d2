// SPDX-License-Identifier: Apache-2.0

package sqlite_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/migrations"
	"github.com/keygate/keygate/internal/sqlite"
	"github.com/keygate/keygate/internal/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T, now func() time.Time) keygate.Store {
		return MustOpen(t, filepath.Join(t.TempDir(), "keygate.db"), now)
	})
}

func TestStoreMemory(t *testing.T) {
	storetest.Run(t, func(t *testing.T, now func() time.Time) keygate.Store {
		return MustOpen(t, sqlite.Memory, now)
	})
}

// MustOpen opens the database at path and closes it in tb.Cleanup.
func MustOpen(tb testing.TB, path string, now func() time.Time) *sqlite.DB {
	tb.Helper()
	db, err := sqlite.Open(context.Background(), path, sqlite.Options{Now: now})
	if err != nil {
		tb.Fatalf("Open(%s): %v", path, err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return db
}

func TestFileMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "keygate.db")
	db := MustOpen(t, path, nil)
	storetest.MustCreateTenant(t, db, "acme") // make sure the WAL exists
	for _, p := range []string{filepath.Dir(path), path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatalf("stat: %v", err)
		}
		want := os.FileMode(0o600)
		if fi.IsDir() {
			want = os.ModeDir | 0o700
		}
		if fi.Mode() != want {
			t.Errorf("%s: mode %v, want %v", filepath.Base(p), fi.Mode(), want)
		}
	}
}

func TestReopenKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keygate.db")
	ctx := context.Background()
	db, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	storetest.MustCreateTenant(t, db, "acme")
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	db = MustOpen(t, path, nil)
	if _, err := db.GetTenant(ctx, "acme"); err != nil {
		t.Errorf("GetTenant after reopen: %v", err)
	}
	storetest.MustVerifyChain(t, db)
}

func TestMigrations(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keygate.db")
	MustOpen(t, path, nil)
	raw := mustRaw(t, path)
	ctx := context.Background()

	applied, err := migrations.Run(ctx, raw, migrations.SQLite, migrations.Options{})
	if err != nil {
		t.Fatalf("Run again: %v", err)
	}
	if len(applied) != 0 {
		t.Errorf("Run again applied %d migrations, want none", len(applied))
	}
	var n int
	if err := raw.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if ms, _ := migrations.List(migrations.SQLite); n != len(ms) {
		t.Errorf("schema_migrations has %d rows, want %d", n, len(ms))
	}

	// A schema from a newer binary is refused.
	if _, err := raw.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, 'future', 0)`); err != nil {
		t.Fatal(err)
	}
	_, err = sqlite.Open(ctx, path, sqlite.Options{})
	if err == nil || !strings.Contains(err.Error(), "newer than this binary") {
		t.Errorf("Open(newer schema): err = %v, want a schema version error", err)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	notDB := filepath.Join(dir, "not.db")
	if err := os.WriteFile(notDB, []byte(strings.Repeat("not a database ", 100)), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		path string
	}{
		{"ErrEmptyPath", ""},
		{"ErrQuery", filepath.Join(dir, "a.db?mode=ro")},
		{"ErrNotADatabase", notDB},
		{"ErrDirectory", dir},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db, err := sqlite.Open(context.Background(), tc.path, sqlite.Options{})
			if err == nil {
				db.Close()
				t.Fatalf("Open(%q) succeeded, want an error", tc.path)
			}
		})
	}
}

// mustRaw opens path with the plain driver, as the migration runner needs
// it (write transactions BEGIN IMMEDIATE).
func mustRaw(tb testing.TB, path string) *sql.DB {
	tb.Helper()
	raw, err := sql.Open("sqlite", path+"?_txlock=immediate&_pragma=busy_timeout(5000)")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { raw.Close() })
	return raw
}

func TestAuditHeadOutlivesDeletedRow(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keygate.db")
	db := MustOpen(t, path, nil)
	storetest.MustCreateTenant(t, db, "a")
	storetest.MustCreateTenant(t, db, "b")
	raw := mustRaw(t, path)
	for _, q := range []string{`DELETE FROM audit_events WHERE seq = 2`, `UPDATE audit_events SET action = 'x' WHERE seq = 1`} {
		if _, err := raw.Exec(q); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Fatalf("%s: %v, want the append-only trigger to refuse it", q, err)
		}
	}
	// Someone with write access to the file can drop the trigger.
	if _, err := raw.Exec(`DROP TRIGGER audit_events_no_delete; DELETE FROM audit_events WHERE seq = 2`); err != nil {
		t.Fatal(err)
	}
	seq, _, err := db.AuditHead(context.Background())
	if err != nil || seq != 2 {
		t.Fatalf("AuditHead = %d, %v; want 2", seq, err)
	}
	evs, err := db.ScanAudit(context.Background(), 0, 10)
	if err != nil || len(evs) != 1 {
		t.Fatalf("ScanAudit = %d events, %v; want 1, so the head shows the loss", len(evs), err)
	}
}

func BenchmarkPutKey(b *testing.B) {
	db := MustOpen(b, filepath.Join(b.TempDir(), "keygate.db"), nil)
	tn := storetest.MustCreateTenant(b, db, "acme")
	for b.Loop() {
		storetest.MustPutKey(b, db, tn.ID, "openai", "sk-bench-key-0000")
	}
}

func BenchmarkGetKey(b *testing.B) {
	db := MustOpen(b, filepath.Join(b.TempDir(), "keygate.db"), nil)
	tn := storetest.MustCreateTenant(b, db, "acme")
	storetest.MustPutKey(b, db, tn.ID, "openai", "sk-bench-key-0000")
	ctx := context.Background()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := db.GetKey(ctx, tn.ID, "openai"); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkGatewayTokenByHash(b *testing.B) {
	db := MustOpen(b, filepath.Join(b.TempDir(), "keygate.db"), nil)
	tn := storetest.MustCreateTenant(b, db, "acme")
	tok := storetest.MustCreateGatewayToken(b, db, tn.ID, "gt_bench", []byte("hash-bench"))
	ctx := context.Background()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := db.GatewayTokenByHash(ctx, tok.Hash); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkGetPolicy(b *testing.B) {
	db := MustOpen(b, filepath.Join(b.TempDir(), "keygate.db"), nil)
	tn := storetest.MustCreateTenant(b, db, "acme")
	storetest.MustPutPolicy(b, db, keygate.TenantPolicy{Tenant: tn.ID, Default: keygate.DefaultPolicy(),
		Providers: map[string]keygate.Policy{"openai": {Mode: keygate.ModeTenantOnly}, "anthropic": {Mode: keygate.ModePlatformOnly}}})
	ctx := context.Background()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := db.GetPolicy(ctx, tn.ID); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

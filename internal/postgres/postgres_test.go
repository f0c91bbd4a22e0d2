// SPDX-License-Identifier: Apache-2.0

package postgres_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/migrations"
	"github.com/keygate/keygate/internal/postgres"
	"github.com/keygate/keygate/internal/storetest"
	"github.com/keygate/keygate/internal/testkit"
)

func TestStore(t *testing.T) {
	testkit.PostgresURL(t) // skip (or fail) once, not in every subtest
	storetest.Run(t, func(t *testing.T, now func() time.Time) keygate.Store {
		url, schema := testkit.PostgresSchema(t)
		return MustOpen(t, url, postgres.Options{Now: now, Schema: schema})
	})
}

// MustOpen opens a store and closes it in tb.Cleanup.
func MustOpen(tb testing.TB, url string, opt postgres.Options) *postgres.DB {
	tb.Helper()
	db, err := postgres.Open(context.Background(), url, opt)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return db
}

// mustConn connects to url with search_path set to schema.
func mustConn(tb testing.TB, url, schema string) *pgx.Conn {
	tb.Helper()
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		tb.Fatal(err)
	}
	cfg.RuntimeParams["search_path"] = pgx.Identifier{schema}.Sanitize()
	conn, err := pgx.ConnectConfig(context.Background(), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func TestConcurrentOpenMigratesOnce(t *testing.T) {
	url, schema := testkit.PostgresSchema(t)
	const replicas = 8
	var wg sync.WaitGroup
	errs := make([]error, replicas)
	for i := range replicas {
		wg.Go(func() {
			db, err := postgres.Open(context.Background(), url, postgres.Options{Schema: schema, MaxConns: 2})
			if err == nil {
				err = db.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("replica %d: Open: %v", i, err)
		}
	}
	conn := mustConn(t, url, schema)
	var n int
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if ms, _ := migrations.List(migrations.Postgres); n != len(ms) {
		t.Errorf("schema_migrations has %d rows, want %d", n, len(ms))
	}
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM audit_head`).Scan(&n); err != nil || n != 1 {
		t.Errorf("audit_head rows = %d, %v; want 1", n, err)
	}
}

func TestOpenCreatesSchema(t *testing.T) {
	url, schema := testkit.PostgresSchema(t)
	// A schema that does not exist yet, inside the test's own (dropped
	// with it... but schemas do not nest, so drop it explicitly).
	fresh := schema + "_new"
	t.Cleanup(func() {
		conn := mustConn(t, url, schema)
		if _, err := conn.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+pgx.Identifier{fresh}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("drop schema: %v", err)
		}
	})
	db := MustOpen(t, url, postgres.Options{Schema: fresh})
	storetest.MustCreateTenant(t, db, "acme")
	conn := mustConn(t, url, fresh)
	var n int
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM tenants`).Scan(&n); err != nil || n != 1 {
		t.Errorf("tenants in schema %s = %d, %v; want 1", fresh, n, err)
	}
}

func TestReopen(t *testing.T) {
	url, schema := testkit.PostgresSchema(t)
	db, err := postgres.Open(context.Background(), url, postgres.Options{Schema: schema})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	storetest.MustCreateTenant(t, db, "acme")
	db.Close()
	db = MustOpen(t, url, postgres.Options{Schema: schema})
	if _, err := db.GetTenant(context.Background(), "acme"); err != nil {
		t.Errorf("GetTenant after reopen: %v", err)
	}
	storetest.MustVerifyChain(t, db)

	// A schema from a newer binary is refused.
	conn := mustConn(t, url, schema)
	if _, err := conn.Exec(context.Background(), `INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, 'future', now())`); err != nil {
		t.Fatal(err)
	}
	_, err = postgres.Open(context.Background(), url, postgres.Options{Schema: schema})
	if err == nil || !strings.Contains(err.Error(), "newer than this binary") {
		t.Errorf("Open(newer schema): err = %v, want a schema version error", err)
	}
}

func TestOpenErrors(t *testing.T) {
	tests := []struct {
		name string
		url  string
		want string
	}{
		{"ErrMalformedURL", "postgres://user:s3cret@[::1", "malformed"},
		{"ErrUnreachable", "postgres://postgres:s3cret@127.0.0.1:1/test?sslmode=disable&connect_timeout=2", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db, err := postgres.Open(context.Background(), tc.url, postgres.Options{})
			if err == nil {
				db.Close()
				t.Fatalf("Open succeeded, want an error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Open: err = %v, want one containing %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("Open: error %q shows the password", err)
			}
		})
	}
}

func BenchmarkPutKey(b *testing.B) {
	url, schema := testkit.PostgresSchema(b)
	db := MustOpen(b, url, postgres.Options{Schema: schema})
	tn := storetest.MustCreateTenant(b, db, "acme")
	for b.Loop() {
		storetest.MustPutKey(b, db, tn.ID, "openai", "sk-bench-key-0000")
	}
}

func BenchmarkGetKey(b *testing.B) {
	url, schema := testkit.PostgresSchema(b)
	db := MustOpen(b, url, postgres.Options{Schema: schema})
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
	url, schema := testkit.PostgresSchema(b)
	db := MustOpen(b, url, postgres.Options{Schema: schema})
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
	url, schema := testkit.PostgresSchema(b)
	db := MustOpen(b, url, postgres.Options{Schema: schema})
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

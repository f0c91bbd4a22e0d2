// SPDX-License-Identifier: Apache-2.0

package testkit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// PostgresDefaultURL is the test server PostgresURL uses unless
// KEYGATE_TEST_POSTGRES_URL names another.
const PostgresDefaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// PostgresURL returns the URL of the test PostgreSQL server
// (KEYGATE_TEST_POSTGRES_URL, default PostgresDefaultURL) after checking that
// it answers. If it does not, the test is skipped with the reason, or fails
// when KEYGATE_REQUIRE_INTEGRATION=1.
func PostgresURL(tb testing.TB) string {
	tb.Helper()
	url := os.Getenv("KEYGATE_TEST_POSTGRES_URL")
	if url == "" {
		url = PostgresDefaultURL
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err == nil {
		err = conn.Ping(ctx)
		conn.Close(ctx)
	}
	if err != nil {
		msg := "PostgreSQL at " + redactURL(url) + " is not reachable (" + err.Error() + "); set KEYGATE_TEST_POSTGRES_URL to use another server"
		if os.Getenv("KEYGATE_REQUIRE_INTEGRATION") == "1" {
			tb.Fatalf("%s; KEYGATE_REQUIRE_INTEGRATION=1, so this is a failure", msg)
		}
		tb.Skipf("%s; skipping (set KEYGATE_REQUIRE_INTEGRATION=1 to fail instead)", msg)
	}
	return url
}

// PostgresSchema returns the test server's URL (see PostgresURL) and the
// name of a new, empty schema that belongs to this test alone: it is created
// now and dropped, with everything in it, when the test ends. Point a store
// at it with search_path (postgres.Options.Schema).
func PostgresSchema(tb testing.TB) (url, schema string) {
	tb.Helper()
	url = PostgresURL(tb)
	schema = postgresSchemaName(tb.Name())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		tb.Fatalf("connect to PostgreSQL: %v", err)
	}
	defer conn.Close(ctx)
	ident := pgx.Identifier{schema}.Sanitize()
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+ident); err != nil {
		tb.Fatalf("create schema %s: %v", schema, err)
	}
	tb.Cleanup(func() {
		// Dropping waits for PostgreSQL's own I/O (a dropped database's
		// files, a checkpoint), which on a loaded machine can take more
		// than seconds; the bound only keeps a dead server from hanging
		// the test.
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			tb.Errorf("connect to PostgreSQL to drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+ident+" CASCADE"); err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return url, schema
}

// postgresSchemaName turns a test name into a unique schema name: "kgt_",
// the test name in lowercase letters, digits and '_' (cut to fit), and 8
// random hex digits, within PostgreSQL's 63-byte identifier limit.
func postgresSchemaName(test string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(test) {
		if b.Len() >= 40 {
			break
		}
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	var rnd [4]byte
	_, _ = rand.Read(rnd[:]) // crypto/rand.Read never fails
	return "kgt_" + b.String() + "_" + hex.EncodeToString(rnd[:])
}

// redactURL hides the password of a connection URL, so that a skip message
// never prints it.
func redactURL(url string) string {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return "(unparsable URL)"
	}
	if cfg.Password == "" {
		return url
	}
	return cfg.User + ":***@" + cfg.Host
}

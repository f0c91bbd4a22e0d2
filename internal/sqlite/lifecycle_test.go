// SPDX-License-Identifier: Apache-2.0

package sqlite_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/storetest"
)

// TestDestroyErasesFromFiles checks that DestroySuperseded leaves no trace
// of a destroyed version's sealed material in the database directory: not
// in the database file (secure_delete) and not in the write-ahead log (the
// checkpoint that follows).
func TestDestroyErasesFromFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "keygate.db")
	clock := storetest.NewClock(time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC))
	db := MustOpen(t, path, clock.Now)
	ctx := context.Background()
	acme := storetest.MustCreateTenant(t, db, "acme")
	marker := func(what string, version int) []byte {
		return fmt.Appendf(nil, "MARKER-%s-OF-VERSION-%d", what, version)
	}
	put := func() {
		t.Helper()
		p := keygate.PutKeyParams{Owner: acme.ID, Provider: "openai", Hint: "...AAAA", Fingerprint: "fp", CreatedBy: "at_test",
			Seal: func(keyID string, version int) (keygate.Sealed, error) {
				return keygate.Sealed{Ciphertext: marker("CIPHERTEXT", version), WrappedDEK: marker("WRAPPEDDEK", version), KEKID: "kek1"}, nil
			}}
		if _, err := db.PutKey(ctx, p, keygate.AuditEvent{ActorID: "at_test"}); err != nil {
			t.Fatalf("PutKey: %v", err)
		}
	}
	put()
	clock.Advance(time.Minute)
	put()
	clock.Advance(time.Minute)

	// found returns the files in dir that hold b.
	found := func(b []byte) []string {
		t.Helper()
		var where []string
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			data, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(data, b) {
				where = append(where, e.Name())
			}
		}
		return where
	}
	// The scan sees stored material at all.
	for _, m := range [][]byte{marker("CIPHERTEXT", 1), marker("WRAPPEDDEK", 1)} {
		if len(found(m)) == 0 {
			t.Fatalf("%s is in no file before destruction: the scan cannot see stored material", m)
		}
	}

	if n, err := db.DestroySuperseded(ctx, clock.Now()); err != nil || n != 1 {
		t.Fatalf("DestroySuperseded = %d, %v; want 1", n, err)
	}
	var ctNull, dekNull bool
	if err := mustRaw(t, path).QueryRowContext(ctx, `SELECT ciphertext IS NULL, wrapped_dek IS NULL
		FROM provider_key_versions WHERE version = 1`).Scan(&ctNull, &dekNull); err != nil {
		t.Fatal(err)
	}
	if !ctNull || !dekNull {
		t.Errorf("destroyed version: ciphertext NULL %t, wrapped_dek NULL %t; want both", ctNull, dekNull)
	}
	for _, m := range [][]byte{marker("CIPHERTEXT", 1), marker("WRAPPEDDEK", 1)} {
		if where := found(m); len(where) > 0 {
			t.Errorf("%s is still in %v after destruction", m, where)
		}
	}
	if len(found(marker("CIPHERTEXT", 2))) == 0 {
		t.Errorf("the current version's ciphertext is in no file")
	}
}

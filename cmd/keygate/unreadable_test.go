// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/client"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver
)

// canaryUnreadableKey stores key as the openai key of a new tenant,
// damages it behind keygate's back (its version now names a master key
// keygate does not hold), and calls the gateway through hc (so the answer
// is scanned with the others, and the server's log line too): the call
// must fail with 500 key_unreadable naming the provider and the tenant.
// The damage is then undone, so that later commands (a master-key
// rotation) see a sound database. storage are the suite's storage args:
// none for SQLite in dataDir, or --database-url URL.
func canaryUnreadableKey(t *testing.T, s *testServer, c *client.Client, hc *http.Client, dataDir string, storage []string, key string) {
	t.Helper()
	ctx := context.Background()
	driver, dsn := "sqlite", filepath.Join(dataDir, "keygate.db")+"?_pragma=busy_timeout(5000)"
	if len(storage) == 2 && storage[0] == "--database-url" {
		driver, dsn = "pgx", storage[1]
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	byok := true
	tn, err := c.CreateTenant(ctx, client.CreateTenantParams{Name: "damaged", BYOKEnabled: &byok})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutKey(ctx, "damaged", "openai", keygate.NewSecret(key)); err != nil {
		t.Fatal(err)
	}
	tok, err := c.CreateGatewayToken(ctx, "damaged", "app")
	if err != nil {
		t.Fatal(err)
	}
	// Our own ids and a literal: quoted in place, so one statement suits
	// both engines' placeholders.
	where := fmt.Sprintf(`key_id = (SELECT id FROM provider_keys WHERE owner = '%s' AND provider = 'openai')`, tn.ID)
	var kek string
	if err := db.QueryRowContext(ctx, `SELECT kek_id FROM provider_key_versions WHERE `+where).Scan(&kek); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `UPDATE provider_key_versions SET kek_id = 'mk_lost000000000' WHERE `+where); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", s.URL+"/v1/chat/completions", strings.NewReader(`{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`))
	req.Header.Set("Authorization", "Bearer "+tok.Token.Reveal())
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 500 || !strings.Contains(string(body), `"code":"key_unreadable"`) || !strings.Contains(string(body), "openai key of tenant "+string(tn.ID)) {
		t.Errorf("a call on a key that does not decrypt: %d %s", resp.StatusCode, body)
	}
	if _, err := db.ExecContext(ctx, `UPDATE provider_key_versions SET kek_id = '`+kek+`' WHERE `+where); err != nil {
		t.Fatal(err)
	}
}

// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/keygate/keygate/internal/loadtest"
	"github.com/keygate/keygate/internal/testkit"
)

// TestBinOf reads a package's entry point from the two shapes of "bin".
func TestBinOf(t *testing.T) {
	tests := []struct {
		name    string
		pkg     string
		want    string
		wantErr bool
	}{
		{"String", `{"bin":"build/start-server.js"}`, "build/start-server.js", false},
		{"MapOfOne", `{"bin":{"gateway":"build/start-server.js"}}`, "build/start-server.js", false},
		{"ErrMapOfTwo", `{"bin":{"a":"build/start-server.js","b":"x.js"}}`, "", true},
		{"ErrNone", `{"name":"x"}`, "", true},
		{"ErrMissingFile", `{"bin":"build/gone.js"}`, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.MkdirAll(filepath.Join(dir, "build"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "build", "start-server.js"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "package.json"), []byte(tc.pkg), 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := binOf(dir)
			if (err != nil) != tc.wantErr {
				t.Fatalf("binOf: %v, want error %v", err, tc.wantErr)
			}
			if !tc.wantErr && got != filepath.Join(dir, tc.want) {
				t.Errorf("binOf = %s, want %s", got, filepath.Join(dir, tc.want))
			}
		})
	}
}

// TestInstallPortkeyWithoutNPM checks that a machine without npm skips the
// peer with the reason, and does not fail the run.
func TestInstallPortkeyWithoutNPM(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := installPortkey(context.Background(), t.TempDir(), func(string, ...any) {})
	if err == nil || err.Error() != "npm not found on PATH" {
		t.Fatalf("installPortkey: %v, want a skip: npm not found on PATH", err)
	}
	if _, ok := err.(*skipError); !ok {
		t.Errorf("installPortkey: %T, want *skipError", err)
	}
}

// TestInstallPortkeyFails checks that a failed npm install skips the peer
// with the reason and where npm's output went.
func TestInstallPortkeyFails(t *testing.T) {
	bin := t.TempDir()
	for _, name := range []string{"npm", "node"} {
		if err := os.WriteFile(filepath.Join(bin, name), []byte("#!/bin/sh\necho registry unreachable >&2\nexit 1\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", bin)
	dir := t.TempDir()
	_, err := installPortkey(context.Background(), dir, func(string, ...any) {})
	if _, ok := err.(*skipError); !ok || !strings.Contains(err.Error(), "npm install failed") {
		t.Fatalf("installPortkey: %v, want a skip: npm install failed", err)
	}
	log, _ := os.ReadFile(filepath.Join(dir, "npm-install.log"))
	if !strings.Contains(string(log), "registry unreachable") || !strings.Contains(err.Error(), "npm-install.log") {
		t.Errorf("npm's output %q is not where the reason %q says", log, err)
	}
}

// TestPortkeyTarget checks what every call to the peer carries: the
// provider key as Bearer and the headers that route it to the fake, and
// that the fake's stream-shaping headers pass through.
func TestPortkeyTarget(t *testing.T) {
	var got http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		w.WriteHeader(http.StatusTeapot)
	}))
	defer srv.Close()
	tg := portkeyTarget(srv.URL, 0, "http://127.0.0.1:9/openai")
	_ = loadtest.Probe(context.Background(), tg, loadtest.Workload{Kind: loadtest.KindStream, Chunks: 3})
	want := map[string]string{
		"Authorization":             "Bearer " + tenantKey,
		"X-Portkey-Provider":        "openai",
		"X-Portkey-Custom-Host":     "http://127.0.0.1:9/openai/v1",
		"X-Portkey-Forward-Headers": "x-bench-chunks,x-bench-interval",
		"X-Bench-Chunks":            "3",
	}
	for k, v := range want {
		if got.Get(k) != v {
			t.Errorf("%s: %q, want %q", k, got.Get(k), v)
		}
	}
}

// TestParseOptions checks the peer and database flags and their defaults.
func TestParseOptions(t *testing.T) {
	env := map[string]string{envDatabaseURL: "postgres://bench@127.0.0.1:5432/b"}
	getenv := func(k string) string { return env[k] }
	tests := []struct {
		name    string
		args    []string
		wantPG  string
		peer    string
		wantErr string
	}{
		{"Defaults", nil, "postgres://bench@127.0.0.1:5432/b", peerPortkey, ""},
		{"FlagsWin", []string{"--peer=none", "--database-url="}, "", peerNone, ""},
		{"ErrUnknownPeer", []string{"--peer=litellm"}, "", "", `--peer "litellm"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, err := parseOptions(tc.args, getenv, io.Discard)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("parseOptions: %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([2]string{tc.wantPG, tc.peer}, [2]string{o.databaseURL, o.peer}); diff != "" {
				t.Errorf("database URL, peer (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSchema makes the schema of a keygate-pg on the test server, checks
// that keygate's URL points into it, and that it is gone after drop.
func TestSchema(t *testing.T) {
	base := testkit.PostgresURL(t)
	ctx := context.Background()
	s, err := createSchema(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	exists := func() bool {
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		var n int
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM information_schema.schemata WHERE schema_name = $1", s.name).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n == 1
	}
	if !exists() {
		t.Fatalf("schema %s was not made", s.name)
	}
	u, err := s.storeURL()
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	var path string
	err = conn.QueryRow(ctx, "SHOW search_path").Scan(&path)
	conn.Close(ctx)
	if err != nil || path != s.name {
		t.Errorf("search_path through keygate's URL = %q, %v; want %s", path, err, s.name)
	}
	if err := s.drop(); err != nil {
		t.Fatal(err)
	}
	if exists() {
		t.Errorf("schema %s is still there after drop", s.name)
	}
}

// TestSchemaSkips checks that a server that cannot be used skips
// keygate-pg with a reason that shows no password.
func TestSchemaSkips(t *testing.T) {
	tests := []struct {
		name, url, want string
	}{
		{"NotPostgres", "mysql://u:secret@127.0.0.1/x", "not a postgres:// URL"},
		{"Unreachable", "postgres://u:secret@127.0.0.1:1/x?connect_timeout=2", "not reachable"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := createSchema(context.Background(), tc.url)
			if _, ok := err.(*skipError); !ok || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("createSchema: %v, want a skip with %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("the reason shows the password: %v", err)
			}
		})
	}
}

// SPDX-License-Identifier: Apache-2.0

package keygate_test

import (
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/keygate/keygate"

// layers names the kind of each internal package (STYLE.md, import rules).
// sqlstore is an adapter too: the SQL that sqlite and postgres share, so
// it follows their rules (services and transports never reach it) and a
// stricter one, since it is driver-neutral: the root and the standard
// library only.
var adapters = map[string]bool{"sqlite": true, "postgres": true, "redis": true, "inmem": true, "keeper": true, "metrics": true, "migrations": true, "sqlstore": true}
var transports = map[string]bool{"proxy": true, "api": true, "byokguide": true, "server": true, "ui": true, "client": true}
var testSupport = map[string]bool{"storetest": true, "fakeprovider": true, "testkit": true}

// TestImportRules enforces the dependency rules of the layout: the root
// imports only the standard library; adapters import the root, their own
// library and (SQL backends) migrations and sqlstore, never another
// internal package; sqlstore imports only the root and the standard
// library; services never import adapters or transports; transports never
// import a storage adapter; test-support packages are imported by tests
// and cmd/keygate only.
func TestImportRules(t *testing.T) {
	out, err := exec.Command("go", "list", "-e", "-json", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p struct {
			ImportPath string
			Imports    []string
			Standard   bool
		}
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		for _, imp := range p.Imports {
			if msg := violation(p.ImportPath, imp); msg != "" {
				t.Errorf("%s imports %s: %s", p.ImportPath, imp, msg)
			}
		}
	}
}

func internalName(path string) string {
	rest, ok := strings.CutPrefix(path, module+"/internal/")
	if !ok {
		return ""
	}
	name, _, _ := strings.Cut(rest, "/")
	return name
}

func isStd(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}

func violation(from, imp string) string {
	to := internalName(imp)
	fromName := internalName(from)
	switch {
	case from == module:
		if !isStd(imp) {
			return "the root package imports only the standard library"
		}
	case strings.HasPrefix(from, module+"/cmd/"):
		return ""
	case testSupport[to] && !testSupport[fromName]:
		return "test-support packages are imported only by tests and cmd/keygate"
	case fromName == "sqlstore":
		if imp != module && !isStd(imp) {
			return "sqlstore imports only the root and the standard library"
		}
	case adapters[fromName]:
		sqlBackend := fromName == "sqlite" || fromName == "postgres"
		if to != "" && to != fromName && !(sqlBackend && (to == "migrations" || to == "sqlstore")) {
			return "an adapter imports only the root, its own library and (SQL backends) migrations and sqlstore"
		}
	case transports[fromName]:
		if to == "sqlite" || to == "postgres" || to == "sqlstore" || to == "redis" || to == "keeper" {
			return "transports reach storage and master keys only through interfaces"
		}
	case fromName != "" && !testSupport[fromName]:
		if adapters[to] || transports[to] {
			return "services receive adapters through interfaces and never import transports"
		}
	}
	return ""
}

// TestImportRulesForSQLStore checks the rules that place sqlstore between
// the SQL backends and the root, since no package breaks them today.
func TestImportRulesForSQLStore(t *testing.T) {
	in := func(name string) string { return module + "/internal/" + name }
	tests := []struct {
		name      string
		from, imp string
		allowed   bool
	}{
		{"SQLiteUsesIt", in("sqlite"), in("sqlstore"), true},
		{"PostgresUsesIt", in("postgres"), in("sqlstore"), true},
		{"ItUsesTheRoot", in("sqlstore"), module, true},
		{"ItUsesTheStandardLibrary", in("sqlstore"), "database/sql", true},
		{"NotADriver", in("sqlstore"), "github.com/jackc/pgx/v5", false},
		{"NotMigrations", in("sqlstore"), in("migrations"), false},
		{"NotABackend", in("sqlstore"), in("sqlite"), false},
		{"NotFromRedis", in("redis"), in("sqlstore"), false},
		{"NotFromAService", in("keyvault"), in("sqlstore"), false},
		{"NotFromATransport", in("api"), in("sqlstore"), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			msg := violation(tc.from, tc.imp)
			if allowed := msg == ""; allowed != tc.allowed {
				t.Errorf("violation(%s, %s) = %q, want allowed %v", tc.from, tc.imp, msg, tc.allowed)
			}
		})
	}
}

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
var adapters = map[string]bool{"sqlite": true, "postgres": true, "redis": true, "inmem": true, "keeper": true, "metrics": true, "migrations": true}
var transports = map[string]bool{"proxy": true, "api": true, "compat": true, "server": true, "ui": true, "client": true}
var testSupport = map[string]bool{"storetest": true, "fakeprovider": true, "testkit": true}

// TestImportRules enforces the dependency rules of the layout: the root
// imports only the standard library; adapters import the root, their own
// library and (SQL backends) migrations, never another internal package;
// services never import adapters or transports; transports never import a
// storage adapter; test-support packages are imported by tests and
// cmd/keygate only.
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
	case adapters[fromName]:
		if to != "" && to != fromName && !(to == "migrations" && (fromName == "sqlite" || fromName == "postgres")) {
			return "an adapter imports only the root, its own library and migrations"
		}
	case transports[fromName]:
		if to == "sqlite" || to == "postgres" || to == "redis" || to == "keeper" {
			return "transports reach storage and master keys only through interfaces"
		}
	case fromName != "" && !testSupport[fromName]:
		if adapters[to] || transports[to] {
			return "services receive adapters through interfaces and never import transports"
		}
	}
	return ""
}

// SPDX-License-Identifier: Apache-2.0

package api

import (
	"os"
	"strings"
	"testing"
)

// TestRoutesDeclareRights fails for an endpoint that needs a tenant or
// platform right but declares none, and for an endpoint that needs only a
// valid token without being listed here on purpose (those check finer
// rights in their handlers).
func TestRoutesDeclareRights(t *testing.T) {
	tokenOnly := map[string]bool{
		"GET /api/v1/whoami":               true, // describes the caller's own token
		"GET /api/v1/tenants":              true, // platform admins see all, tenant tokens their own
		"POST /api/v1/admin-tokens":        true, // platform_admin needs a platform right, tenant roles token.manage
		"GET /api/v1/admin-tokens":         true, // same
		"DELETE /api/v1/admin-tokens/{id}": true, // same
		"GET /api/v1/prices":               true, // every admin may read the prices its calls cost
	}
	a := &API{}
	seen := map[string]bool{}
	for _, rt := range a.routes() {
		id := rt.Method + " " + rt.Pattern
		if seen[id] {
			t.Errorf("%s is declared twice", id)
		}
		seen[id] = true
		switch rt.Scope {
		case scopeNone:
			if !tokenOnly[id] {
				t.Errorf("%s needs only a token; declare its right", id)
			}
		case scopePlatform, scopeTenant:
			if rt.Right == "" {
				t.Errorf("%s declares no right", id)
			}
			if rt.Scope == scopeTenant && !strings.Contains(rt.Pattern, "{tenant}") {
				t.Errorf("%s is tenant-scoped without {tenant} in its path", id)
			}
		default:
			t.Errorf("%s has an unknown scope", id)
		}
	}
}

// TestRoutesDocumented checks that docs/api.md names every route.
func TestRoutesDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, rt := range (&API{}).routes() {
		if !strings.Contains(string(doc), rt.Pattern) {
			t.Errorf("docs/api.md does not document %s %s", rt.Method, rt.Pattern)
		}
	}
}

// SPDX-License-Identifier: Apache-2.0

package main

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/keygate/keygate/internal/client"
)

func TestTenantCommands(t *testing.T) {
	s := MustFake(t)
	steps := []struct {
		name string
		args []string
		want result
	}{
		{"Create", []string{"tenant", "create", "acme"}, result{stdout: "tn_0001\n"}},
		{"CreateNoBYOK", []string{"tenant", "create", "--byok=false", "beta"}, result{stdout: "tn_0003\n"}},
		{"CreateConflict", []string{"tenant", "create", "acme"}, result{exit: 5, stderr: "keygate: A tenant named \"acme\" exists. (conflict)\n"}},
		{"CreateInvalid", []string{"tenant", "create", "Bad Name"}, result{exit: 6, stderr: "keygate: Tenant name \"Bad Name\" is not valid: use 1-63 characters of a-z, 0-9, '.', '_' and '-', starting with a letter or digit. (invalid_request)\n"}},
		{"List", []string{"tenant", "list"}, result{stdout: "" +
			"ID       NAME  BYOK   KEY ADMINS       CREATED               UPDATED\n" +
			"tn_0001  acme  true   owner_and_admin  2025-01-02T03:04:06Z  2025-01-02T03:04:06Z\n" +
			"tn_0003  beta  false  owner_and_admin  2025-01-02T03:04:07Z  2025-01-02T03:04:07Z\n"}},
		{"Update", []string{"tenant", "update", "beta", "--byok"}, result{stdout: "" +
			"ID       NAME  BYOK  KEY ADMINS       CREATED               UPDATED\n" +
			"tn_0003  beta  true  owner_and_admin  2025-01-02T03:04:07Z  2025-01-02T03:04:11Z\n"}},
		{"Get", []string{"tenant", "get", "tn_0003"}, result{stdout: "" +
			"ID       NAME  BYOK  KEY ADMINS       CREATED               UPDATED\n" +
			"tn_0003  beta  true  owner_and_admin  2025-01-02T03:04:07Z  2025-01-02T03:04:11Z\n"}},
		{"UpdateKeyAdmins", []string{"tenant", "update", "beta", "--key-admins", "owner_only"}, result{stdout: "" +
			"ID       NAME  BYOK  KEY ADMINS  CREATED               UPDATED\n" +
			"tn_0003  beta  true  owner_only  2025-01-02T03:04:07Z  2025-01-02T03:04:13Z\n"}},
		{"UpdateNothing", []string{"tenant", "update", "beta"}, result{exit: 2, stderr: "" +
			"keygate: tenant update: nothing to change: give --byok=true|false or --key-admins owner_and_admin|owner_only (usage)\n" +
			"Run 'keygate help' for usage.\n"}},
		{"UpdateBadKeyAdmins", []string{"tenant", "update", "beta", "--key-admins", "everyone"}, result{exit: 2, stderr: "" +
			"keygate: tenant update: --key-admins must be owner_and_admin or owner_only (usage)\n" +
			"Run 'keygate help' for usage.\n"}},
		{"Rm", []string{"tenant", "rm", "beta"}, result{stdout: "deleted tenant beta\n"}},
		{"RmAgain", []string{"tenant", "rm", "beta"}, result{exit: 3, stderr: "keygate: Tenant \"beta\" not found. (not_found)\n"}},
	}
	for _, st := range steps {
		got := MustRun(t, s, "", st.args...)
		if diff := cmp.Diff(st.want, got, cmp.AllowUnexported(result{})); diff != "" {
			t.Errorf("%s: (-want +got):\n%s", st.name, diff)
		}
	}
}

func TestTenantJSON(t *testing.T) {
	s := MustFake(t)
	r := MustRun(t, s, "", "tenant", "create", "acme", "--json")
	var created client.Tenant
	if err := json.Unmarshal([]byte(r.stdout), &created); err != nil {
		t.Fatalf("tenant create --json: %q: %v", r.stdout, err)
	}
	r = MustRun(t, s, "", "tenant", "list", "--json")
	var l client.TenantList
	if err := json.Unmarshal([]byte(r.stdout), &l); err != nil {
		t.Fatalf("tenant list --json: %q: %v", r.stdout, err)
	}
	if diff := cmp.Diff(client.TenantList{Tenants: []client.Tenant{created}}, l); diff != "" {
		t.Errorf("tenant list --json (-want +got):\n%s", diff)
	}
	var raw map[string]any
	_ = json.Unmarshal([]byte(MustRun(t, s, "", "tenant", "get", "acme", "--json").stdout), &raw)
	for _, k := range []string{"id", "name", "byok_enabled", "key_admins", "created_at", "updated_at"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("tenant get --json lacks %q: %v", k, raw)
		}
	}
}

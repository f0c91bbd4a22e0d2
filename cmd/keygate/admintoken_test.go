// SPDX-License-Identifier: Apache-2.0

package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/client"
)

func TestAdminTokenCommands(t *testing.T) {
	s := MustFake(t)
	MustTenant(t, s, "acme")

	r := MustRun(t, s, "", "admin-token", "create", "--name", "ci", "--role", "admin", "--tenant", "acme", "--expires-in", "12h")
	token := strings.TrimSpace(r.stdout)
	if r.exit != 0 || !strings.HasPrefix(token, "kga_") || strings.Count(r.stdout, "\n") != 1 {
		t.Fatalf("create: exit %d, stdout %q; want the token alone on one line", r.exit, r.stdout)
	}
	if !strings.Contains(r.stderr, "at_0003") || strings.Contains(r.stderr, token) {
		t.Errorf("create: stderr %q; want the id and not the token", r.stderr)
	}

	// The printed token works.
	who := runEnv(t, map[string]string{"KEYGATE_ADDR": s.URL, "KEYGATE_TOKEN": token}, "", "whoami")
	want := "token:   at_0003\nname:    ci\nrole:    admin\ntenant:  tn_0001\nserver:  " + s.URL + "\n"
	if diff := cmp.Diff(result{stdout: want}, who, cmp.AllowUnexported(result{})); diff != "" {
		t.Errorf("whoami as the new token (-want +got):\n%s", diff)
	}

	r = MustRun(t, s, "", "admin-token", "create", "--name", "ops", "--role", "platform_admin", "--json")
	var created struct {
		client.AdminToken
		Token string `json:"token"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &created); err != nil || !strings.HasPrefix(created.Token, "kga_") || created.Role != keygate.RolePlatformAdmin {
		t.Errorf("create --json = %q (%v); want the object with its token", r.stdout, err)
	}

	r = MustRun(t, s, "", "admin-token", "list", "--tenant", "acme")
	wantList := "" +
		"ID       NAME  ROLE   TENANT   CREATED               EXPIRES               LAST USED  REVOKED\n" +
		"at_0003  ci    admin  tn_0001  2025-01-02T03:04:07Z  2025-01-02T15:04:07Z  -          -\n"
	if diff := cmp.Diff(wantList, r.stdout); diff != "" {
		t.Errorf("list (-want +got):\n%s", diff)
	}

	if r := MustRun(t, s, "", "admin-token", "revoke", "at_0003"); r.exit != 0 || r.stdout != "revoked admin token at_0003\n" {
		t.Errorf("revoke: exit %d, stdout %q, stderr %q", r.exit, r.stdout, r.stderr)
	}
	if r := MustRun(t, s, "", "admin-token", "revoke", "at_0003"); r.exit != exitNotFound {
		t.Errorf("second revoke: exit %d, want %d", r.exit, exitNotFound)
	}
	var l client.AdminTokenList
	if err := json.Unmarshal([]byte(MustRun(t, s, "", "admin-token", "list", "--json").stdout), &l); err != nil || len(l.Tokens) != 3 {
		t.Errorf("list --json: %d tokens (%v), want 3", len(l.Tokens), err)
	}
}

func TestMasterKeyCommands(t *testing.T) {
	s := MustFake(t)
	r := MustRun(t, s, "", "master-key", "status")
	if diff := cmp.Diff("primary:         mk_initial\nkind:            file\npending rewrap:  0\n", r.stdout); diff != "" {
		t.Errorf("status (-want +got):\n%s", diff)
	}
	r = MustRun(t, s, "", "master-key", "rotate")
	if diff := cmp.Diff("rotated master key mk_initial -> mk_0001; 0 data keys pending rewrap (see keygate master-key status)\n", r.stdout); diff != "" {
		t.Errorf("rotate (-want +got):\n%s", diff)
	}
	var m client.MasterKey
	if err := json.Unmarshal([]byte(MustRun(t, s, "", "master-key", "status", "--json").stdout), &m); err != nil || m.Primary != "mk_0001" {
		t.Errorf("status --json = %+v (%v)", m, err)
	}
}

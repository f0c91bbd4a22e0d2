// SPDX-License-Identifier: Apache-2.0

package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/client"
	"github.com/keygate/keygate/internal/client/clienttest"
)

// MustHealthFake returns a fake with tenant acme holding a red openai key, a
// green anthropic key and a grey mistral key, and a green platform openai
// key.
func MustHealthFake(tb testing.TB) *clienttest.Server {
	tb.Helper()
	s := MustFake(tb)
	MustTenant(tb, s, "acme")
	for _, k := range []struct{ owner, provider, key string }{
		{"acme", "openai", "sk-openai-key-aaaa"},
		{"acme", "anthropic", "sk-ant-anthropic-bbbb"},
		{"acme", "mistral", "mistral-key-cccc"},
		{"platform", "openai", "sk-platform-key-dddd"},
	} {
		owner := []string{"--tenant", k.owner}
		if k.owner == "platform" {
			owner = []string{"--platform"}
		}
		if r := MustRun(tb, s, k.key, append([]string{"key", "set", "--provider", k.provider}, owner...)...); r.exit != 0 {
			tb.Fatalf("key set: %s", r.stderr)
		}
	}
	s.SetKeyStatus("acme", "openai", keygate.KeyStatusInvalid, "openai rejected the key (HTTP 401)")
	s.SetKeyStatus("acme", "anthropic", keygate.KeyStatusValid, "")
	s.SetKeyStatus("platform", "openai", keygate.KeyStatusValid, "")
	return s
}

func TestHealthCommand(t *testing.T) {
	acme := "" +
		"PROVIDER   STATUS  HINT     VERSION  LAST_CHECKED          LAST_ERROR\n" +
		"anthropic  green   ...bbbb  1        2025-01-02T03:04:10Z  -\n" +
		"mistral    grey    ...cccc  1        -                     -\n" +
		"openai     red     ...aaaa  1        2025-01-02T03:04:10Z  openai rejected the key (HTTP 401)\n"
	platform := "" +
		"PROVIDER  STATUS  HINT     VERSION  LAST_CHECKED          LAST_ERROR\n" +
		"openai    green   ...dddd  1        2025-01-02T03:04:10Z  -\n"
	all := "" +
		"4 keys: 2 green, 1 red, 1 grey\n" +
		"OWNER    PROVIDER  STATUS  HINT     VERSION  LAST_CHECKED          LAST_ERROR\n" +
		"tn_0001  openai    red     ...aaaa  1        2025-01-02T03:04:10Z  openai rejected the key (HTTP 401)\n"
	redErr := "keygate: 1 key is red (keys_red)\n"
	tests := []struct {
		name     string
		args     []string
		want     result
		wantPath string
	}{
		{"Tenant", []string{"--tenant", "acme"}, result{stdout: acme}, "/api/v1/tenants/acme/health"},
		{"TenantFailOnRed", []string{"--tenant", "acme", "--fail-on-red"}, result{exit: exitFailure, stdout: acme, stderr: redErr}, "/api/v1/tenants/acme/health"},
		{"Platform", []string{"--platform", "--fail-on-red"}, result{stdout: platform}, "/api/v1/platform/health"},
		{"All", []string{"--all"}, result{stdout: all}, "/api/v1/health"},
		{"AllFailOnRed", []string{"--all", "--fail-on-red"}, result{exit: exitFailure, stdout: all, stderr: redErr}, "/api/v1/health"},
		{"NoFlagPlatformAdminIsAll", nil, result{stdout: all}, "/api/v1/health"},
		{"ErrTwoScopes", []string{"--all", "--platform"}, result{exit: exitUsage,
			stderr: "keygate: health: give at most one of --tenant, --platform and --all (usage)\nRun 'keygate help' for usage.\n"}, ""},
		{"ErrUnknownTenant", []string{"--tenant", "nope"}, result{exit: exitNotFound, stderr: "keygate: Tenant \"nope\" not found. (not_found)\n"}, "/api/v1/tenants/nope/health"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := MustHealthFake(t)
			before := len(s.Requests())
			r := MustRun(t, s, "", append([]string{"health"}, tc.args...)...)
			if diff := cmp.Diff(tc.want, r, cmp.AllowUnexported(result{})); diff != "" {
				t.Errorf("health (-want +got):\n%s", diff)
			}
			reqs := s.Requests()[before:]
			if tc.wantPath == "" {
				if len(reqs) != 0 {
					t.Errorf("%d requests sent, want none", len(reqs))
				}
				return
			}
			if last := reqs[len(reqs)-1]; last.Path != tc.wantPath {
				t.Errorf("path = %s, want %s", last.Path, tc.wantPath)
			}
		})
	}
}

func TestHealthTenantToken(t *testing.T) {
	s := MustHealthFake(t)
	s.AddToken("kga_member", client.AdminToken{ID: "at_m", Name: "m", Role: keygate.RoleMember, Tenant: "tn_0001"})
	env := map[string]string{"KEYGATE_ADDR": s.URL, "KEYGATE_TOKEN": "kga_member"}
	r := runEnv(t, env, "", "health", "--json")
	var h client.Health
	if err := json.Unmarshal([]byte(r.stdout), &h); err != nil {
		t.Fatalf("--json output %q: %v", r.stdout, err)
	}
	if r.exit != 0 || h.Healthy || len(h.Keys) != 3 || h.Keys[2].Color != client.ColorRed {
		t.Errorf("health of the token's tenant: exit %d, %+v", r.exit, h)
	}
	r = runEnv(t, env, "", "health", "--all")
	if r.exit != exitUnauthorized || !strings.Contains(r.stderr, "(forbidden)") {
		t.Errorf("--all with a member token: exit %d, stderr %q", r.exit, r.stderr)
	}
}

func TestHealthAllJSON(t *testing.T) {
	s := MustFake(t)
	r := MustRun(t, s, "", "health", "--all", "--json", "--fail-on-red")
	want := "{\n  \"counts\": {\n    \"green\": 0,\n    \"red\": 0,\n    \"grey\": 0\n  },\n  \"red\": [],\n  \"total\": 0\n}\n"
	if diff := cmp.Diff(result{stdout: want}, r, cmp.AllowUnexported(result{})); diff != "" {
		t.Errorf("health --all --json (-want +got):\n%s", diff)
	}
	r = MustRun(t, s, "", "health", "--all")
	if diff := cmp.Diff(result{stdout: "0 keys: 0 green, 0 red, 0 grey\n"}, r, cmp.AllowUnexported(result{})); diff != "" {
		t.Errorf("health --all with no keys (-want +got):\n%s", diff)
	}
}

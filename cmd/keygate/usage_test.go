// SPDX-License-Identifier: Apache-2.0

package main

import (
	"strings"
	"testing"
)

func TestUsage(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantExit   int
		wantStdout string // substring; "" means stdout must be empty
		wantStderr string // substring; "" means stderr must be empty
	}{
		{"Help", []string{"help"}, 0, "Exit codes:", ""},
		{"HelpFlag", []string{"--help"}, 0, "keygate <command>", ""},
		{"HelpNoun", []string{"help", "key"}, 0, "keygate key set", ""},
		{"HelpCommand", []string{"help", "key", "set"}, 0, "-provider", ""},
		{"HelpWhoami", []string{"help", "whoami"}, 0, "Usage: keygate whoami", ""},
		{"NounHelp", []string{"tenant", "--help"}, 0, "keygate tenant create NAME", ""},
		{"CommandHelp", []string{"tenant", "create", "-h"}, 0, "-byok", ""},
		{"Version", []string{"version"}, 0, "keygate ", ""},
		{"ErrNoArgs", nil, 2, "", "keygate: no command given (usage)"},
		{"ErrUnknownNoun", []string{"frobnicate"}, 2, "", `keygate: unknown command "frobnicate" (usage)`},
		{"ErrUnknownVerb", []string{"tenant", "frob"}, 2, "", `unknown command "tenant frob"`},
		{"ErrNoVerb", []string{"key"}, 2, "", "key: no subcommand given (usage)"},
		{"ErrUnknownFlag", []string{"tenant", "list", "--bogus"}, 2, "", "flag provided but not defined: -bogus"},
		{"ErrMissingName", []string{"tenant", "create"}, 2, "", "tenant create: missing tenant NAME (usage)"},
		{"ErrByokWithSpace", []string{"tenant", "create", "acme", "--byok", "false"}, 2, "", `unexpected argument "false"`},
		{"ErrBadBool", []string{"tenant", "create", "acme", "--byok=maybe"}, 2, "", "want true or false"},
		{"ErrUpdateNothing", []string{"tenant", "update", "acme"}, 2, "", "nothing to change"},
		{"ErrKeyNoOwner", []string{"key", "list"}, 2, "", "--tenant TENANT or --platform is required"},
		{"ErrKeyBothOwners", []string{"key", "list", "--tenant", "a", "--platform"}, 2, "", "not both"},
		{"ErrKeyGetNoProvider", []string{"key", "get", "--platform"}, 2, "", "--provider PROVIDER is required"},
		{"ErrTokenRole", []string{"admin-token", "create", "--name", "ci", "--role", "root"}, 2, "", "--role must be"},
		{"ErrTokenNoTenant", []string{"admin-token", "create", "--name", "ci", "--role", "admin"}, 2, "", "--tenant is required"},
		{"ErrRevokeTokenItself", []string{"admin-token", "revoke", "kga_secretsecret"}, 2, "", "not the token itself"},
		{"ErrSince", []string{"audit", "--since", "yesterday"}, 2, "", "--since"},
		{"ErrBadAddr", []string{"--addr", "ftp://x", "whoami"}, 2, "", "KEYGATE_ADDR"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := MustRun(t, nil, "", tc.args...)
			if r.exit != tc.wantExit {
				t.Errorf("exit = %d, want %d\nstderr: %s", r.exit, tc.wantExit, r.stderr)
			}
			check := func(stream, got, want string) {
				if want == "" && got != "" || !strings.Contains(got, want) {
					t.Errorf("%s = %q, want it to contain %q", stream, got, want)
				}
			}
			check("stdout", r.stdout, tc.wantStdout)
			check("stderr", r.stderr, tc.wantStderr)
			if strings.Contains(r.stderr, "secretsecret") {
				t.Errorf("stderr echoes a token: %s", r.stderr)
			}
		})
	}
}

func TestFlagsAnywhere(t *testing.T) {
	s := MustFake(t)
	r := MustRun(t, s, "", "tenant", "create", "acme", "--byok=false", "--json")
	if r.exit != 0 || !strings.Contains(r.stdout, `"byok_enabled": false`) {
		t.Fatalf("flags after the name: exit %d, stdout %q, stderr %q", r.exit, r.stdout, r.stderr)
	}
	r = MustRun(t, s, "", "--json", "tenant", "get", "--", "acme")
	if r.exit != 0 || !strings.Contains(r.stdout, `"name": "acme"`) {
		t.Fatalf("global flag and --: exit %d, stdout %q, stderr %q", r.exit, r.stdout, r.stderr)
	}
}

// SPDX-License-Identifier: Apache-2.0

package main

import (
	"strings"
	"testing"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/client"
)

func TestTermSafe(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"Plain", "ci deploy", "ci deploy"},
		{"Unicode", "équipe 東京 🚀", "équipe 東京 🚀"},
		{"ESC", "a\x1b[2Jb", `a\x1b[2Jb`},
		{"BEL", "a\ab", `a\x07b`},
		{"CRLF", "a\r\nb", `a\x0d\x0ab`},
		{"NUL", "a\x00", `a\x00`},
		{"DEL", "a\x7f", `a\x7f`},
		{"C1", "a\u009b", `a\x9b`},
		{"RLO", "gpt\u202Egnp", `gpt\u202egnp`},
		{"InvalidUTF8", "a\xffb", `a\xffb`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := termSafe(tc.in); got != tc.want {
				t.Errorf("termSafe(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// TestCLINeverPrintsControlSequences checks that names the server returns
// with control characters (rows stored before names had to be plain text)
// reach the terminal escaped in tables, field lists and error messages.
func TestCLINeverPrintsControlSequences(t *testing.T) {
	s := MustFake(t)
	const evil = "ops\x1b]0;pwned\a\x1b[2J\r\nroot\u202E"
	s.AddToken("kga_evilNamedToken", client.AdminToken{ID: "at_evil", Name: evil, Role: keygate.RolePlatformAdmin})
	env := map[string]string{"KEYGATE_ADDR": s.URL, "KEYGATE_TOKEN": "kga_evilNamedToken"}
	for name, args := range map[string][]string{
		"Table":  {"admin-token", "list"},
		"Fields": {"whoami"},
	} {
		t.Run(name, func(t *testing.T) {
			r := runEnv(t, env, "", args...)
			if r.exit != 0 {
				t.Fatalf("exit %d: %s", r.exit, r.stderr)
			}
			if strings.ContainsAny(r.stdout, "\x1b\a\r\u202E") {
				t.Errorf("raw control sequence printed: %q", r.stdout)
			}
			if !strings.Contains(r.stdout, `ops\x1b]0;pwned\x07\x1b[2J\x0d\x0aroot\u202e`) {
				t.Errorf("name not shown escaped: %q", r.stdout)
			}
		})
	}
}

// SPDX-License-Identifier: Apache-2.0

package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/keygate/keygate/internal/client"
	"github.com/keygate/keygate/internal/client/clienttest"
)

// canary is a fake provider key that must never appear in any output.
const canary = "sk-canaryCANARY0123456789xK7q"

// MustFake starts the in-memory fake API.
func MustFake(tb testing.TB) *clienttest.Server {
	tb.Helper()
	return clienttest.NewServer(tb)
}

// MustTenant creates tenant name through the CLI.
func MustTenant(tb testing.TB, s *clienttest.Server, name string) {
	tb.Helper()
	if r := MustRun(tb, s, "", "tenant", "create", name); r.exit != 0 {
		tb.Fatalf("tenant create %s: exit %d: %s", name, r.exit, r.stderr)
	}
}

// noLeak fails if the canary appears in the output.
func noLeak(tb testing.TB, r result) {
	tb.Helper()
	for stream, out := range map[string]string{"stdout": r.stdout, "stderr": r.stderr} {
		if strings.Contains(out, "canary") || strings.Contains(out, "CANARY") {
			tb.Errorf("%s shows the key: %q", stream, out)
		}
	}
}

// putBodies returns the key of every PUT the fake received.
func putBodies(tb testing.TB, s *clienttest.Server) []string {
	tb.Helper()
	var keys []string
	for _, r := range s.Requests() {
		if r.Method != "PUT" {
			continue
		}
		var body struct {
			Key string `json:"key"`
		}
		if err := json.Unmarshal(r.Body, &body); err != nil {
			tb.Fatalf("PUT body: %v", err)
		}
		keys = append(keys, body.Key)
	}
	return keys
}

func TestKeySetFromStdin(t *testing.T) {
	tests := []struct {
		name  string
		stdin string
		want  string // the key the server receives
	}{
		{"NoNewline", canary, canary},
		{"Newline", canary + "\n", canary},
		{"CRLF", canary + "\r\n", canary},
		{"OnlyOneNewlineTrimmed", canary + "\n\n", canary + "\n"},
		{"SpacesKept", " " + canary + " \n", " " + canary + " "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := MustFake(t)
			MustTenant(t, s, "acme")
			r := MustRun(t, s, tc.stdin, "key", "set", "--tenant", "acme", "--provider", "openai")
			noLeak(t, r)
			if diff := cmp.Diff([]string{tc.want}, putBodies(t, s)); diff != "" {
				t.Errorf("key sent (-want +got):\n%s", diff)
			}
		})
	}
}

func TestKeySetOutput(t *testing.T) {
	s := MustFake(t)
	MustTenant(t, s, "acme")
	var got []result
	for _, args := range [][]string{
		{"key", "set", "--tenant", "acme", "--provider", "openai"},
		{"key", "set", "--provider=openai", "--tenant=acme"},
		{"key", "set", "--platform", "--provider", "openai"},
	} {
		r := MustRun(t, s, canary+"\n", args...)
		noLeak(t, r)
		got = append(got, r)
	}
	want := []result{
		{exit: 0, stdout: "set openai key of tenant acme: version 1, hint ...xK7q, fingerprint fp_ce60166b25f5ebad\n"},
		{exit: 0, stdout: "rotated openai key of tenant acme: version 2, hint ...xK7q, fingerprint fp_ce60166b25f5ebad\n"},
		{exit: 0, stdout: "set openai key of the platform: version 1, hint ...xK7q, fingerprint fp_ce60166b25f5ebad\n"},
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(result{})); diff != "" {
		t.Errorf("key set (-want +got):\n%s", diff)
	}

	r := MustRun(t, s, canary, "key", "set", "--platform", "--provider", "openai", "--json")
	noLeak(t, r)
	var k client.Key
	if err := json.Unmarshal([]byte(r.stdout), &k); err != nil {
		t.Fatalf("--json output %q: %v", r.stdout, err)
	}
	if k.Version != 2 || k.Owner != "platform" || k.Hint != "...xK7q" {
		t.Errorf("--json key = %+v", k)
	}
}

func TestKeySetRefusesArgv(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"Positional", []string{"key", "set", "--tenant", "acme", "--provider", "openai", canary}},
		{"PositionalFirst", []string{"key", "set", canary, "--tenant", "acme", "--provider", "openai"}},
		{"KeyFlagEquals", []string{"key", "set", "--tenant", "acme", "--provider", "openai", "--key=" + canary}},
		{"KeyFlagSpace", []string{"key", "set", "--tenant", "acme", "--provider", "openai", "--key", canary}},
		{"ValueFlag", []string{"key", "set", "--tenant", "acme", "--provider", "openai", "-value", canary}},
		{"AfterDashDash", []string{"key", "set", "--tenant", "acme", "--provider", "openai", "--", canary}},
		{"BoolFlagValue", []string{"key", "set", "--tenant", "acme", "--provider", "openai", "--json=" + canary}},
		{"DashKey", []string{"key", "set", "--tenant", "acme", "--provider", "openai", "-" + canary}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := MustFake(t)
			r := MustRun(t, s, canary, tc.args...)
			noLeak(t, r)
			if r.exit != exitUsage || !strings.Contains(r.stderr, "pipe it on standard input") {
				t.Errorf("exit %d, stderr %q; want exit 2 and a message to pipe the key", r.exit, r.stderr)
			}
			if n := len(s.Requests()); n != 0 {
				t.Errorf("%d requests sent, want none", n)
			}
		})
	}
}

func TestKeySetBadStdin(t *testing.T) {
	tests := []struct {
		name     string
		stdin    string
		wantExit int
		wantErr  string
	}{
		{"ErrEmpty", "", exitUsage, "no key on standard input"},
		{"ErrOnlyNewline", "\n", exitUsage, "no key on standard input"},
		{"ErrTooLarge", "sk-" + strings.Repeat("canary", maxKeyBytes/6+1), exitInvalid, "(body_too_large)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := MustFake(t)
			r := MustRun(t, s, tc.stdin, "key", "set", "--platform", "--provider", "openai")
			noLeak(t, r)
			if r.exit != tc.wantExit || !strings.Contains(r.stderr, tc.wantErr) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", r.exit, r.stderr, tc.wantExit, tc.wantErr)
			}
			if n := len(s.Requests()); n != 0 {
				t.Errorf("%d requests sent, want none", n)
			}
		})
	}
}

func TestKeySetRejectedByServer(t *testing.T) {
	s := MustFake(t)
	r := MustRun(t, s, canary, "key", "set", "--platform", "--provider", "anthropic")
	noLeak(t, r)
	if r.exit != exitInvalid || !strings.Contains(r.stderr, "(invalid_key_format)") {
		t.Errorf("exit %d, stderr %q; want exit 6 and invalid_key_format", r.exit, r.stderr)
	}
}

func TestKeyListGetRm(t *testing.T) {
	s := MustFake(t)
	MustTenant(t, s, "acme")
	for _, p := range []string{"openai", "mistral"} {
		if r := MustRun(t, s, canary, "key", "set", "--tenant", "acme", "--provider", p); r.exit != 0 {
			t.Fatalf("key set %s: %s", p, r.stderr)
		}
	}
	r := MustRun(t, s, "", "key", "list", "--tenant", "acme")
	want := "" +
		"PROVIDER  HINT     FINGERPRINT          VERSION  STATUS   CREATED               UPDATED\n" +
		"mistral   ...xK7q  fp_ce60166b25f5ebad  1        unknown  2025-01-02T03:04:08Z  2025-01-02T03:04:08Z\n" +
		"openai    ...xK7q  fp_ce60166b25f5ebad  1        unknown  2025-01-02T03:04:07Z  2025-01-02T03:04:07Z\n"
	if diff := cmp.Diff(want, r.stdout); diff != "" {
		t.Errorf("key list table (-want +got):\n%s", diff)
	}

	r = MustRun(t, s, "", "key", "list", "--tenant", "acme", "--json")
	var l client.KeyList
	if err := json.Unmarshal([]byte(r.stdout), &l); err != nil || len(l.Keys) != 2 {
		t.Errorf("key list --json = %q (%v), want 2 keys", r.stdout, err)
	}

	r = MustRun(t, s, "", "key", "get", "--tenant", "acme", "openai")
	for _, line := range []string{"provider:      openai\n", "hint:          ...xK7q\n", "last checked:  -\n"} {
		if !strings.Contains(r.stdout, line) {
			t.Errorf("key get output lacks %q:\n%s", line, r.stdout)
		}
	}

	if r := MustRun(t, s, "", "key", "rm", "--tenant", "acme", "--provider", "openai"); r.exit != 0 || r.stdout != "deleted openai key of tenant acme\n" {
		t.Errorf("key rm: exit %d, stdout %q, stderr %q", r.exit, r.stdout, r.stderr)
	}
	if r := MustRun(t, s, "", "key", "get", "--tenant", "acme", "--provider", "openai"); r.exit != exitNotFound {
		t.Errorf("key get after rm: exit %d, want %d", r.exit, exitNotFound)
	}
	if r := MustRun(t, s, "", "key", "list", "--platform", "--json"); r.stdout != "{\n  \"keys\": []\n}\n" {
		t.Errorf("empty key list --json = %q", r.stdout)
	}
}

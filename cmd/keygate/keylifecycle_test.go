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

// Keys the fake API judges: valid, rejected, unverifiable (see clienttest).
const (
	canaryRejected     = "sk-canary-" + clienttest.RejectedMarker + "-0123456789xK7q"
	canaryUnverifiable = "sk-canary-" + clienttest.UnverifiableMarker + "-0123456789xK7q"
)

func TestKeyTest(t *testing.T) {
	tests := []struct {
		name     string
		provider string
		stdin    string
		want     result
	}{
		{"OKValid", "openai", canary + "\n", result{exit: 0, stdout: "" +
			"provider:  openai\n" +
			"hint:      ...xK7q\n" +
			"status:    valid\n" +
			"models:    12: openai-model-01, openai-model-02, openai-model-03, openai-model-04, openai-model-05, " +
			"openai-model-06, openai-model-07, openai-model-08, openai-model-09, openai-model-10, +2 more\n" +
			"error:     -\n"}},
		{"ErrRejected", "openai", canaryRejected, result{exit: exitInvalid,
			stdout: "provider:  openai\nhint:      ...xK7q\nstatus:    rejected\nmodels:    -\nerror:     openai rejected the key (HTTP 401)\n",
			stderr: "keygate: the openai key was rejected: openai rejected the key (HTTP 401) (key_rejected)\n"}},
		{"ErrUnverifiable", "openai", canaryUnverifiable, result{exit: exitFailure,
			stdout: "provider:  openai\nhint:      ...xK7q\nstatus:    unverifiable\nmodels:    -\nerror:     openai is rate limiting this key (HTTP 429); try again later\n",
			stderr: "keygate: the openai key could not be verified: openai is rate limiting this key (HTTP 429); try again later (key_unverifiable)\n"}},
		{"ErrFormat", "anthropic", canary, result{exit: exitInvalid,
			stdout: "provider:  anthropic\nhint:      ...xK7q\nstatus:    rejected\nmodels:    -\nerror:     This does not look like a anthropic key.\n",
			stderr: "keygate: the anthropic key was rejected: This does not look like a anthropic key. (key_rejected)\n"}},
		{"ErrUnknownProvider", "nope", canary, result{exit: exitInvalid, stderr: "keygate: Unknown provider \"nope\" in keys. (unknown_provider)\n"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := MustFake(t)
			MustTenant(t, s, "acme")
			r := MustRun(t, s, tc.stdin, "key", "test", "--tenant", "acme", "--provider", tc.provider)
			noLeak(t, r)
			if diff := cmp.Diff(tc.want, r, cmp.AllowUnexported(result{})); diff != "" {
				t.Errorf("key test (-want +got):\n%s", diff)
			}
			// Nothing is stored by a test.
			if r := MustRun(t, s, "", "key", "list", "--tenant", "acme", "--json"); r.stdout != "{\n  \"keys\": []\n}\n" {
				t.Errorf("keys after a test: %s", r.stdout)
			}
		})
	}
}

func TestKeyTestJSON(t *testing.T) {
	s := MustFake(t)
	r := MustRun(t, s, canaryRejected, "key", "test", "--platform", "--provider", "openai", "--json")
	noLeak(t, r)
	var got client.KeyTestResults
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("--json output %q: %v", r.stdout, err)
	}
	want := client.KeyTestResults{Results: map[string]client.KeyTestResult{
		"openai": {Status: client.KeyTestRejected, Models: []string{}, Error: "openai rejected the key (HTTP 401)"},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("--json (-want +got):\n%s", diff)
	}
	if r.exit != exitInvalid || !strings.Contains(r.stderr, "(key_rejected)") {
		t.Errorf("exit %d, stderr %q; want exit 6 and key_rejected on stderr", r.exit, r.stderr)
	}
	if p := s.Requests()[0]; p.Method != "POST" || p.Path != "/api/v1/platform/keys:test" {
		t.Errorf("request = %s %s", p.Method, p.Path)
	}
}

func TestKeyTestRefusesArgv(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		stdin    string
		wantErr  string
		wantExit int
	}{
		{"ErrPositional", []string{"--platform", "--provider", "openai", canary}, canary, "pipe it on standard input", exitUsage},
		{"ErrKeyFlag", []string{"--platform", "--provider", "openai", "--key=" + canary}, canary, "pipe it on standard input", exitUsage},
		{"ErrTestFlagIsNotKeyTests", []string{"--platform", "--provider", "openai", "--test"}, canary, "pipe it on standard input", exitUsage},
		{"ErrNoKey", []string{"--platform", "--provider", "openai"}, "", "key test: no key on standard input", exitUsage},
		{"ErrNoOwner", []string{"--provider", "openai"}, canary, "--tenant TENANT or --platform is required", exitUsage},
		{"ErrNoProvider", []string{"--platform"}, canary, "--provider PROVIDER is required", exitUsage},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := MustFake(t)
			r := MustRun(t, s, tc.stdin, append([]string{"key", "test"}, tc.args...)...)
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

func TestKeySetTest(t *testing.T) {
	tests := []struct {
		name       string
		stdin      string
		want       result
		wantStored bool
	}{
		{"OKValid", canary, result{stdout: "set openai key of tenant acme: version 1, hint ...xK7q, fingerprint fp_ce60166b25f5ebad, status valid\n"}, true},
		{"OKUnverifiableStoredWithWarning", canaryUnverifiable, result{
			stdout: "set openai key of tenant acme: version 1, hint ...xK7q, fingerprint fp_30025e35e0743bce, status unknown\n",
			stderr: "keygate: warning: openai could not verify the key; it was stored with status unknown\n"}, true},
		{"ErrRejected", canaryRejected, result{exit: exitInvalid,
			stderr: "keygate: The key was not saved: openai rejected the key (HTTP 401). (key_rejected)\n"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := MustFake(t)
			MustTenant(t, s, "acme")
			r := MustRun(t, s, tc.stdin, "key", "set", "--tenant", "acme", "--provider", "openai", "--test")
			noLeak(t, r)
			if diff := cmp.Diff(tc.want, r, cmp.AllowUnexported(result{})); diff != "" {
				t.Errorf("key set --test (-want +got):\n%s", diff)
			}
			put := s.Requests()[1]
			if put.Method != "PUT" || put.Query != "test=true" {
				t.Errorf("request = %s %s?%s, want PUT ...?test=true", put.Method, put.Path, put.Query)
			}
			r = MustRun(t, s, "", "key", "get", "--tenant", "acme", "--provider", "openai")
			if stored := r.exit == 0; stored != tc.wantStored {
				t.Errorf("stored = %v, want %v", stored, tc.wantStored)
			}
		})
	}
}

func TestKeyVersionsRollback(t *testing.T) {
	s := MustFake(t)
	MustTenant(t, s, "acme")
	for _, k := range []string{"sk-first-key-aaaa", "sk-second-key-bbbb"} {
		if r := MustRun(t, s, k, "key", "set", "--tenant", "acme", "--provider", "openai"); r.exit != 0 {
			t.Fatalf("key set: %s", r.stderr)
		}
	}
	r := MustRun(t, s, "", "key", "versions", "--tenant", "acme", "--provider", "openai")
	want := "" +
		"VERSION  CURRENT  HINT     FINGERPRINT          CREATED               SUPERSEDED            DESTROYED\n" +
		"2        yes      ...bbbb  fp_f9d68ba8202e4162  2025-01-02T03:04:08Z  -                     -\n" +
		"1        -        ...aaaa  fp_9d0727bc16f6f103  2025-01-02T03:04:07Z  2025-01-02T03:04:08Z  -\n"
	if diff := cmp.Diff(result{stdout: want}, r, cmp.AllowUnexported(result{})); diff != "" {
		t.Errorf("key versions (-want +got):\n%s", diff)
	}

	r = MustRun(t, s, "", "key", "rollback", "--tenant", "acme", "--provider", "openai")
	want = "rolled back openai key of tenant acme to version 1, hint ...aaaa, fingerprint fp_9d0727bc16f6f103\n"
	if diff := cmp.Diff(result{stdout: want}, r, cmp.AllowUnexported(result{})); diff != "" {
		t.Errorf("key rollback (-want +got):\n%s", diff)
	}
	if p := s.Requests()[4]; p.Method != "POST" || p.Path != "/api/v1/tenants/acme/keys/openai:rollback" {
		t.Errorf("rollback request = %s %s", p.Method, p.Path)
	}

	r = MustRun(t, s, "", "key", "versions", "--tenant", "acme", "openai", "--json")
	var l client.KeyVersionList
	if err := json.Unmarshal([]byte(r.stdout), &l); err != nil {
		t.Fatalf("--json output %q: %v", r.stdout, err)
	}
	if got := []bool{l.Versions[0].Current, l.Versions[1].Current}; !cmp.Equal(got, []bool{false, true}) {
		t.Errorf("current flags after rollback = %v, want [false true]", got)
	}

	r = MustRun(t, s, "", "key", "rollback", "--tenant", "acme", "--provider", "openai")
	wantErr := "keygate: The openai key of tenant tn_0001 has no earlier version to roll back to. (conflict)\n"
	if diff := cmp.Diff(result{exit: exitConflict, stderr: wantErr}, r, cmp.AllowUnexported(result{})); diff != "" {
		t.Errorf("second rollback (-want +got):\n%s", diff)
	}

	r = MustRun(t, s, "", "key", "rollback", "--platform", "--provider", "openai", "--json")
	if r.exit != exitNotFound {
		t.Errorf("rollback of a missing key: exit %d, want %d", r.exit, exitNotFound)
	}
	r = MustRun(t, s, "", "key", "versions", "--platform")
	if r.exit != exitUsage || !strings.Contains(r.stderr, "--provider PROVIDER is required") {
		t.Errorf("versions without a provider: exit %d, stderr %q", r.exit, r.stderr)
	}
}

// SPDX-License-Identifier: Apache-2.0

package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/keygate/keygate/internal/fakeprovider"
	"github.com/keygate/keygate/internal/testkit"
)

// TestCLIKeyLifecycleAgainstServer runs the key-lifecycle commands against a
// real `keygate serve` (SQLite) whose providers are the in-repo fake: the
// CLI and the server must agree on every path, body and exit code.
func TestCLIKeyLifecycleAgainstServer(t *testing.T) {
	fake := fakeprovider.Start(t)
	s := MustServe(t, t.TempDir(), map[string]string{
		"KEYGATE_OPENAI_BASE_URL":  fake.BaseURL("openai"),
		"KEYGATE_MISTRAL_BASE_URL": "http://127.0.0.1:1", // nothing listens there
	})
	good := "sk-" + testkit.CanaryMarker + "good00000000"
	revoked := "sk-" + testkit.CanaryMarker + "revoked0000"
	fake.Revoke(revoked)
	env := map[string]string{"KEYGATE_ADDR": s.URL, "KEYGATE_TOKEN": s.Token}
	var out strings.Builder
	cli := func(stdin string, args ...string) result {
		t.Helper()
		r := runEnv(t, env, stdin, args...)
		out.WriteString(r.stdout + r.stderr)
		return r
	}
	expect := func(r result, exit int, stdoutHas, stderrHas string) {
		t.Helper()
		if r.exit != exit || !strings.Contains(r.stdout, stdoutHas) || !strings.Contains(r.stderr, stderrHas) {
			t.Errorf("exit %d, stdout %q, stderr %q; want exit %d, stdout with %q, stderr with %q", r.exit, r.stdout, r.stderr, exit, stdoutHas, stderrHas)
		}
	}

	expect(cli("", "tenant", "create", "acme"), 0, "tn_", "")
	expect(cli(good, "key", "test", "--tenant", "acme", "--provider", "openai"), 0, "status:    valid\n", "")
	expect(cli(revoked, "key", "test", "--tenant", "acme", "--provider", "openai"), exitInvalid, "status:    rejected\n", "(key_rejected)")
	expect(cli("m"+testkit.CanaryMarker+"0000000000000000", "key", "test", "--platform", "--provider", "mistral"), exitFailure,
		"status:    unverifiable\n", "(key_unverifiable)")
	expect(cli(revoked, "key", "set", "--tenant", "acme", "--provider", "openai", "--test"), exitInvalid, "", "(key_rejected)")
	expect(cli(good, "key", "set", "--tenant", "acme", "--provider", "openai", "--test"), 0, ", status valid\n", "")
	expect(cli(revoked, "key", "set", "--tenant", "acme", "--provider", "openai"), 0, "rotated openai key of tenant acme: version 2", "")

	r := cli("", "key", "versions", "--tenant", "acme", "--provider", "openai")
	expect(r, 0, "VERSION  CURRENT  HINT", "")
	if lines := strings.Split(strings.TrimSpace(r.stdout), "\n"); len(lines) != 3 || !strings.HasPrefix(lines[1], "2        yes") {
		t.Errorf("key versions:\n%s", r.stdout)
	}
	expect(cli("", "key", "rollback", "--tenant", "acme", "--provider", "openai"), 0, "rolled back openai key of tenant acme to version 1, hint ...0000", "")
	expect(cli("", "key", "rollback", "--tenant", "acme", "--provider", "openai"), exitConflict, "", "(conflict)")

	expect(cli("", "health", "--tenant", "acme", "--fail-on-red"), 0, "openai    grey", "")
	expect(cli("", "health", "--all"), 0, "1 key: 0 green, 0 red, 1 grey\n", "")
	r = cli("", "health", "--platform", "--json")
	var h struct {
		Healthy bool
		Keys    []any
	}
	if err := json.Unmarshal([]byte(r.stdout), &h); err != nil || !h.Healthy || len(h.Keys) != 0 {
		t.Errorf("health --platform --json = %q (%v)", r.stdout, err)
	}

	r = cli("", "audit", "export", "--tenant", "acme")
	expect(r, 0, `"action":"key.rolled_back"`, "")
	for _, want := range []string{"key.tested", "key.set", "key.rotated"} {
		if !strings.Contains(r.stdout, `"action":"`+want+`"`) {
			t.Errorf("audit export has no %s event", want)
		}
	}
	for i, line := range strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n") {
		if !json.Valid([]byte(line)) {
			t.Errorf("audit export line %d is not JSON: %q", i+1, line)
		}
	}

	s.Stop(t)
	testkit.AssertNoCanary(t, "CLI output", []byte(out.String()))
	testkit.AssertNoCanary(t, "server logs", s.Logs.Bytes())
}

// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/client/clienttest"
	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets testscript scripts run `keygate` as this test binary's main.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){"keygate": main})
}

// TestScripts runs testdata/script/*.txtar: CLI scripts that need no server
// (usage, argument checks, exit codes). KEYGATE_ADDR points at a closed port.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("KEYGATE_ADDR", "http://127.0.0.1:1")
			return nil
		},
	})
}

// TestFakeScripts runs testdata/fake/*.txtar against the in-memory fake API
// (internal/client/clienttest), one fresh fake per script; KEYGATE_ADDR and
// KEYGATE_TOKEN are set for it.
func TestFakeScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/fake",
		Setup: func(env *testscript.Env) error {
			fake := clienttest.New()
			hs := httptest.NewServer(fake.Handler())
			env.Defer(hs.Close)
			env.Values[fakeKey{}] = fake
			env.Setenv("KEYGATE_ADDR", hs.URL)
			env.Setenv("KEYGATE_TOKEN", clienttest.Token)
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){"fake-usage": fakeUsage},
	})
}

// fakeKey is the key of the script's fake API in testscript's Env.Values.
type fakeKey struct{}

// fakeUsage is the script command
//
//	fake-usage TENANT_ID PROVIDER MODEL SOURCE TIME INPUT OUTPUT COST_MICROS BILLABLE_MICROS
//
// which records one metered call in the script's fake API.
func fakeUsage(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 9 {
		ts.Fatalf("usage: fake-usage TENANT_ID PROVIDER MODEL SOURCE TIME INPUT OUTPUT COST_MICROS BILLABLE_MICROS")
	}
	at, err := time.Parse(time.RFC3339, args[4])
	ts.Check(err)
	n := make([]int64, 4)
	for i, a := range args[5:] {
		n[i], err = strconv.ParseInt(a, 10, 64)
		ts.Check(err)
	}
	ts.Value(fakeKey{}).(*clienttest.Server).RecordUsage(clienttest.UsageEvent{
		Tenant: keygate.TenantID(args[0]), Provider: args[1], Model: args[2], Source: keygate.KeySource(args[3]), Time: at,
		InputTokens: n[0], OutputTokens: n[1], CostMicros: n[2], BillableMicros: n[3]})
}

// fakeNow is the CLI's clock in tests: a day after the fake API's start, so
// that "--since 48h" covers every fake event and "--since 1h" none.
func fakeNow() time.Time { return clienttest.Start().Add(24 * time.Hour) }

// result is what one CLI invocation did.
type result struct {
	exit           int
	stdout, stderr string
}

// MustRun runs the CLI with args against the fake API s (nil: no server
// configured) with stdin, and returns its exit code and output, exactly as
// main would produce them.
func MustRun(tb testing.TB, s *clienttest.Server, stdin string, args ...string) result {
	tb.Helper()
	env := map[string]string{}
	if s != nil {
		env["KEYGATE_ADDR"] = s.URL
		env["KEYGATE_TOKEN"] = clienttest.Token
	}
	return runEnv(tb, env, stdin, args...)
}

// runEnv runs the CLI with the given environment.
func runEnv(tb testing.TB, env map[string]string, stdin string, args ...string) result {
	tb.Helper()
	var stdout, stderr bytes.Buffer
	c := &cli{getenv: func(k string) string { return env[k] }, stdin: strings.NewReader(stdin), stdout: &stdout, stderr: &stderr, now: fakeNow}
	err := c.run(context.Background(), args)
	code := report(&stderr, err)
	return result{exit: code, stdout: stdout.String(), stderr: stderr.String()}
}

func TestRunDispatch(t *testing.T) {
	var stdout, stderr bytes.Buffer
	getenv := func(string) string { return "" }
	if err := run(context.Background(), []string{"version"}, getenv, strings.NewReader(""), &stdout, &stderr); err != nil {
		t.Fatalf("run version: %v", err)
	}
	if !strings.HasPrefix(stdout.String(), "keygate ") {
		t.Errorf("version output = %q", stdout.String())
	}
	err := run(context.Background(), []string{"nope"}, getenv, strings.NewReader(""), &stdout, &stderr)
	if got := report(&stderr, err); got != exitUsage {
		t.Errorf("unknown command: exit %d, want %d", got, exitUsage)
	}
}

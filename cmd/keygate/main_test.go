package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

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
			hs := httptest.NewServer(clienttest.New().Handler())
			env.Defer(hs.Close)
			env.Setenv("KEYGATE_ADDR", hs.URL)
			env.Setenv("KEYGATE_TOKEN", clienttest.Token)
			return nil
		},
	})
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

// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/loadtest"
)

// options are the harness's flags.
type options struct {
	quick          bool
	duration       time.Duration
	warmup         time.Duration
	concurrency    int
	openFraction   float64
	streamChunks   int
	streamInterval time.Duration
	openStreams    int
	streamHold     time.Duration
	tenants        int
	latency        time.Duration
	scenarios      string
	out            string
	keygateBin     string
	pin            bool
	keep           bool
	rounds         int
	compare        compareList
	profile        string
	logLevel       string
	peer           string
	peerDir        string
	databaseURL    string
}

func parseOptions(args []string, getenv func(string) string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("keygate-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: keygate-bench [flags]\n\n"+
			"Starts the upstream fake, a bare reverse proxy (the baseline), keygate on SQLite and, when they\n"+
			"can be had, keygate on PostgreSQL and the Portkey gateway on loopback, each its own process,\n"+
			"drives them with closed- and open-loop load and reports how keygate compares.\n\n")
		fs.PrintDefaults()
	}
	fs.BoolVar(&o.quick, "quick", false, "CI smoke: short runs and small scenarios, under a minute")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "measured duration of each run")
	fs.DurationVar(&o.warmup, "warmup", 2*time.Second, "unmeasured warm-up before each run")
	fs.IntVar(&o.concurrency, "concurrency", 64, "connections of the closed loops")
	fs.Float64Var(&o.openFraction, "open-fraction", 0.5, "open-loop rate as a fraction of the baseline's closed-loop max")
	fs.IntVar(&o.streamChunks, "stream-chunks", 20, "content chunks per stream")
	fs.DurationVar(&o.streamInterval, "stream-interval", time.Millisecond, "pause between the fake's stream chunks")
	fs.IntVar(&o.openStreams, "open-streams", 1000, "streams held open at once to measure memory per stream")
	fs.DurationVar(&o.streamHold, "stream-hold", 20*time.Second, "how long each held-open stream lasts at most")
	fs.IntVar(&o.tenants, "tenants", 1000, "tenants (each with a key and a token) of the many-tenants scenario")
	fs.DurationVar(&o.latency, "latency", 0, "the fake's wait before the first byte of every answer")
	fs.StringVar(&o.scenarios, "scenarios", "", "comma-separated scenarios to run (default all): "+strings.Join(loadtest.Scenarios(), ","))
	fs.StringVar(&o.out, "out", "", "JSON report file (default bench/results/<time>.json when run in the module, else the temp dir)")
	fs.StringVar(&o.keygateBin, "keygate-bin", "", "keygate binary to run (default: go build ./cmd/keygate)")
	fs.BoolVar(&o.pin, "pin", loadtest.ThisMachine().CPUs >= 2, "pin the servers to CPU 0 and the load generator and fake to CPU 1 (taskset)")
	fs.Var(&o.compare, "compare", "`NAME=PATH`: also run the keygate binary at PATH, labelled keygate-NAME, beside keygate in the\n"+
		"chat, chat-open, stream and embeddings scenarios (repeatable), to measure a change within one run")
	fs.StringVar(&o.profile, "profile", "", "`DIR`: before the scenarios, record a CPU profile (perf record) of keygate and of the baseline\n"+
		"under the closed-loop chat load, and write perf's reports to DIR")
	fs.IntVar(&o.rounds, "rounds", 1, "rounds per scenario: each target is measured this many times, in turn with the others, and its rounds summed")
	fs.BoolVar(&o.keep, "keep", false, "keep the temp dir (keygate's data and log)")
	fs.StringVar(&o.logLevel, "log-level", "info", "keygate's log level (info writes an access log line per request, as in production)")
	fs.StringVar(&o.peer, "peer", peerPortkey, "`PEER` gateway to measure beside keygate: portkey (installed with npm when npm is on PATH,\n"+
		"skipped with a note otherwise) or none")
	fs.StringVar(&o.peerDir, "peer-dir", "", "`DIR` to install the peer into (default bench/.peer in the module, kept between runs)")
	fs.StringVar(&o.databaseURL, "database-url", getenv(envDatabaseURL), "PostgreSQL `URL` (postgres://...) for keygate-pg, keygate on PostgreSQL in a schema of its own,\n"+
		"measured beside keygate on SQLite in the chat scenario; empty: skipped [$"+envDatabaseURL+"]")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if o.peer != peerPortkey && o.peer != peerNone {
		return o, fmt.Errorf("--peer %q: want %s or %s", o.peer, peerPortkey, peerNone)
	}
	if o.quick {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		def := func(name string, apply func()) {
			if !set[name] {
				apply()
			}
		}
		def("duration", func() { o.duration = 1500 * time.Millisecond })
		def("warmup", func() { o.warmup = 300 * time.Millisecond })
		def("tenants", func() { o.tenants = 100 })
		def("open-streams", func() { o.openStreams = 200 })
		def("stream-hold", func() { o.streamHold = 4 * time.Second })
	}
	return o, nil
}

// runHarness is the harness: start everything, provision, measure, report.
func runHarness(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	o, err := parseOptions(args, getenv, stderr)
	if err != nil {
		return err
	}
	progress := func(format string, a ...any) { fmt.Fprintf(stderr, "keygate-bench: "+format+"\n", a...) }
	var notes []string
	serverCPU := ""
	if o.pin {
		if _, err := exec.LookPath("taskset"); err != nil {
			progress("taskset not found: not pinning")
			o.pin = false
		} else if err := repinSelf("1"); err != nil {
			progress("could not pin the load generator (%v): not pinning", err)
			o.pin = false
		}
	}
	if o.pin {
		serverCPU = "0"
		notes = append(notes, "pinned with taskset: the servers under test (keygate, keygate-pg, the baseline, portkey) on CPU 0, one at a time under load; the load generator and the fake on CPU 1; each Go process sets GOMAXPROCS from its CPU mask, and Node's event loop shares CPU 0 with its own GC and compiler threads, as a Go server's goroutines share it with its GC")
	} else {
		notes = append(notes, "not pinned: every process shares every CPU")
	}

	tmp, err := os.MkdirTemp("", "keygate-bench-")
	if err != nil {
		return err
	}
	if o.keep {
		progress("keeping %s", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}

	bin := o.keygateBin
	if bin == "" {
		progress("building keygate")
		if bin, err = buildKeygate(ctx, tmp, stderr); err != nil {
			return err
		}
	}

	hc := &http.Client{Timeout: 10 * time.Second}
	env := baseEnv(getenv)
	fakeArgs := []string{"--chunks", fmt.Sprint(o.streamChunks)}
	if o.latency > 0 {
		fakeArgs = append(fakeArgs, "--latency", o.latency.String())
	}
	fake, err := startMode("", env, modeFake, fakeArgs...)
	if err != nil {
		return err
	}
	defer fake.stop()
	upstream := fake.url + "/openai"
	baseline, err := startMode(serverCPU, append(env, envUpstreamKey+"="+tenantKey), modeBaseline, "--upstream", upstream)
	if err != nil {
		return err
	}
	defer baseline.stop()

	admin := "kga_" + randomHex(20)
	kgEnv := append(env, "KEYGATE_ADMIN_TOKEN="+admin, "KEYGATE_OPENAI_BASE_URL="+upstream, "KEYGATE_LOG_LEVEL="+o.logLevel)
	logPath := filepath.Join(tmp, "keygate.log")
	kg, err := startKeygate(ctx, serverCPU, bin, filepath.Join(tmp, "data"), logPath, kgEnv)
	if err != nil {
		return err
	}
	defer kg.stop()
	progress("fake %s (pid %d), baseline %s (pid %d), keygate %s (pid %d, log %s)", fake.url, fake.pid(), baseline.url, baseline.pid(), kg.url, kg.pid(), logPath)
	notes = append(notes, fmt.Sprintf("keygate on SQLite, log level %s (an access log line per request to a file), in-memory quota counters, no tracing", o.logLevel))

	p, err := provision(ctx, kg.url, keygate.NewSecret(admin), o.tenants, progress)
	if err != nil {
		return err
	}
	var others []loadtest.Target
	for i, cmp := range o.compare {
		other, err := startKeygate(ctx, serverCPU, cmp.path, filepath.Join(tmp, fmt.Sprintf("data-%d", i)), filepath.Join(tmp, fmt.Sprintf("keygate-%s.log", cmp.name)), kgEnv)
		if err != nil {
			return fmt.Errorf("keygate-%s: %w", cmp.name, err)
		}
		defer other.stop()
		op, err := provision(ctx, other.url, keygate.NewSecret(admin), 0, progress)
		if err != nil {
			return fmt.Errorf("keygate-%s: %w", cmp.name, err)
		}
		others = append(others, loadtest.Target{Name: "keygate-" + cmp.name, URL: other.url + "/v1", Tokens: []string{op.byok}, PID: other.pid(), Mallocs: loadtest.ScrapeMallocs(hc, other.url+"/metrics")})
		progress("keygate-%s %s (pid %d, %s)", cmp.name, other.url, other.pid(), cmp.path)
	}

	want := func(names ...string) bool {
		if o.scenarios == "" {
			return true
		}
		for _, n := range strings.Split(o.scenarios, ",") {
			if slices.Contains(names, n) {
				return true
			}
		}
		return false
	}
	var pg loadtest.Target
	if want(loadtest.ScenarioChat) {
		t, note, stop, err := setUpPostgres(ctx, o.databaseURL, serverCPU, bin, tmp, kgEnv, keygate.NewSecret(admin), progress)
		if err != nil {
			return err
		}
		defer stop()
		if note != "" {
			notes = append(notes, note)
		}
		pg = t
	}
	answered := loadtest.ScrapeCounter(hc, fake.url+answeredPath, loadtest.AnsweredMetric)
	var peer loadtest.Target
	switch {
	case !want(loadtest.ScenarioChat, loadtest.ScenarioStream, loadtest.ScenarioEmbeddings):
	case o.peer == peerNone:
		peer = loadtest.Target{Name: peerPortkey, Skipped: "--peer=none"}
	default:
		t, stop, err := setUpPeer(ctx, o, serverCPU, tmp, upstream, answered, getenv, progress)
		if err != nil {
			return err
		}
		defer stop()
		if t.Skipped == "" {
			notes = append(notes, fmt.Sprintf("portkey: %s@%s from npm (with @hono/node-server %s), NODE_ENV=production, --headless, provider openai with its custom host at the fake; the tenant's provider key as Bearer", portkeyPackage, portkeyVersion, honoNodeServer))
		}
		peer = t
	}

	kgTarget := func(name string, tokens ...string) loadtest.Target {
		return loadtest.Target{Name: name, URL: kg.url + "/v1", Tokens: tokens, PID: kg.pid(), Mallocs: loadtest.ScrapeMallocs(hc, kg.url+"/metrics")}
	}
	cfg := loadtest.Config{
		Targets: loadtest.Targets{
			Direct:           loadtest.Target{Name: "direct", URL: upstream + "/v1", Tokens: []string{tenantKey}, PID: fake.pid(), Mallocs: loadtest.ScrapeMallocs(hc, fake.url+mallocsPath)},
			Baseline:         loadtest.Target{Name: "baseline", URL: baseline.url + "/v1", Tokens: []string{"kg_unused_by_the_baseline"}, PID: baseline.pid(), Mallocs: loadtest.ScrapeMallocs(hc, baseline.url+mallocsPath)},
			Keygate:          kgTarget("keygate", p.byok),
			GovernedTenant:   kgTarget("keygate-tenant-key", p.governedTenant),
			GovernedPlatform: kgTarget("keygate-platform-key", p.governedPlatform),
			Many:             kgTarget(fmt.Sprintf("keygate-%d-tenants", len(p.many)), p.many...),
			Postgres:         pg,
			Peer:             peer,
			Others:           others,
		},
		Concurrency:    o.concurrency,
		Rounds:         o.rounds,
		Duration:       o.duration,
		Warmup:         o.warmup,
		OpenFraction:   o.openFraction,
		StreamChunks:   o.streamChunks,
		StreamInterval: o.streamInterval,
		OpenStreams:    o.openStreams,
		StreamHold:     o.streamHold,
		Progress:       stderr,
	}
	if o.scenarios != "" {
		cfg.Only = strings.Split(o.scenarios, ",")
	}
	// Every target's runs also count the calls the fake answered, which
	// shows any answer that did not come from the fake.
	for _, t := range []*loadtest.Target{&cfg.Targets.Direct, &cfg.Targets.Baseline, &cfg.Targets.Keygate, &cfg.Targets.GovernedTenant, &cfg.Targets.GovernedPlatform, &cfg.Targets.Many, &cfg.Targets.Postgres} {
		t.Upstream = answered
	}
	for i := range cfg.Targets.Others {
		cfg.Targets.Others[i].Upstream = answered
	}
	if o.profile != "" {
		if err := profileTargets(ctx, o.profile, o.duration, o.concurrency, progress, cfg.Targets.Baseline, cfg.Targets.Keygate); err != nil {
			return err
		}
	}
	rep, err := loadtest.Run(ctx, cfg)
	if err != nil {
		return err
	}
	rep.Notes = append(notes, rep.Notes...)
	rep.Notes = append(rep.Notes, "the direct target is the fake called without a proxy; its CPU and allocations are the fake's")

	out := o.out
	if out == "" {
		out = defaultOut(tmp, o.keep)
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	if err := rep.WriteJSON(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := rep.WriteTable(stdout); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nJSON report: %s\n", out)
	return nil
}

// defaultOut is bench/results/<time>.json under the module root when the
// harness runs inside the module, else a file in the temp dir (kept).
func defaultOut(tmp string, keep bool) string {
	name := "bench-" + time.Now().UTC().Format("20060102T150405Z") + ".json"
	if root := moduleRoot(); root != "" {
		return filepath.Join(root, "bench", "results", name)
	}
	if keep {
		return filepath.Join(tmp, name)
	}
	return filepath.Join(os.TempDir(), name)
}

// moduleRoot is the root of the Go module the harness runs in, or "".
func moduleRoot() string {
	b, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return ""
	}
	if mod := strings.TrimSpace(string(b)); mod != "" && mod != os.DevNull {
		return filepath.Dir(mod)
	}
	return ""
}

// baseEnv is the environment of the servers: only what a Go program
// needs, so no KEYGATE_* setting of the caller's shell leaks in.
func baseEnv(getenv func(string) string) []string {
	var env []string
	for _, k := range []string{"PATH", "HOME", "TMPDIR", "GODEBUG", "GOGC", "GOMEMLIMIT"} {
		if v := getenv(k); v != "" {
			env = append(env, k+"="+v)
		}
	}
	return env
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// compareList is the repeatable --compare NAME=PATH flag.
type compareList []struct{ name, path string }

func (l *compareList) String() string {
	var parts []string
	for _, c := range *l {
		parts = append(parts, c.name+"="+c.path)
	}
	return strings.Join(parts, ",")
}

func (l *compareList) Set(v string) error {
	name, path, ok := strings.Cut(v, "=")
	if !ok || name == "" || path == "" {
		return fmt.Errorf("want NAME=PATH, got %q", v)
	}
	*l = append(*l, struct{ name, path string }{name, path})
	return nil
}

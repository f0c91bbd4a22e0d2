// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/keygate/keygate/internal/loadtest"
)

// The peer the harness measures beside keygate: the Portkey AI gateway
// from the npm registry, pinned so that runs compare like with like.
const (
	peerPortkey    = "portkey"
	peerNone       = "none"
	portkeyPackage = "@portkey-ai/gateway"
	portkeyVersion = "1.15.2"
	// Portkey asks for @hono/node-server ^1.3.3, which today resolves to a
	// 1.x whose Response wrapper keeps the immutable headers of a fetch()
	// answer; Portkey then appends its own headers to them and fails every
	// stream and embeddings call with "TypeError: immutable"
	// (Portkey-AI/gateway#1389). The 2.x line copies the headers
	// (honojs/node-server#382), so the install overrides it.
	honoNodeServer = "2.1.9"
	// peerWarmup is how long each workload runs against the peer once,
	// before the scenarios, while V8 compiles its hot paths.
	peerWarmup = 2 * time.Second
)

// portkeyManifest is the package.json of the peer directory: the pinned
// gateway and the override above.
func portkeyManifest() []byte {
	b, _ := json.MarshalIndent(map[string]any{
		"private":      true,
		"description":  "keygate-bench's peer gateway, installed by the harness (git-ignored)",
		"dependencies": map[string]string{portkeyPackage: portkeyVersion},
		"overrides":    map[string]string{"@hono/node-server": honoNodeServer},
	}, "", "  ")
	return append(b, '\n')
}

// skipError is a reason to measure without the peer, not to fail the run.
type skipError struct{ reason string }

func (e *skipError) Error() string { return e.reason }

// skipf makes a skipError; its reason is one line (pgx's connection
// errors span several), as the report prints it in one.
func skipf(format string, a ...any) error {
	return &skipError{strings.Join(strings.Fields(fmt.Sprintf(format, a...)), " ")}
}

// installPortkey installs the pinned Portkey gateway into dir with npm,
// unless it is there already, and returns the path of its command-line
// entry point (the "bin" of its package.json). It returns a *skipError
// when npm or node is missing or the install fails.
func installPortkey(ctx context.Context, dir string, progress func(string, ...any)) (string, error) {
	npm, err := exec.LookPath("npm")
	if err != nil {
		return "", skipf("npm not found on PATH")
	}
	if _, err := exec.LookPath("node"); err != nil {
		return "", skipf("node not found on PATH")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("peer dir: %w", err)
	}
	manifest := filepath.Join(dir, "package.json")
	old, _ := os.ReadFile(manifest)
	mods := filepath.Join(dir, "node_modules")
	if !bytes.Equal(old, portkeyManifest()) || installedVersion(mods, portkeyPackage) != portkeyVersion || installedVersion(mods, "@hono/node-server") != honoNodeServer {
		if err := os.WriteFile(manifest, portkeyManifest(), 0o644); err != nil {
			return "", fmt.Errorf("peer manifest: %w", err)
		}
		logPath := filepath.Join(dir, "npm-install.log")
		logf, err := os.Create(logPath)
		if err != nil {
			return "", fmt.Errorf("peer install log: %w", err)
		}
		defer logf.Close()
		progress("installing %s@%s with npm into %s", portkeyPackage, portkeyVersion, dir)
		ictx, cancel := context.WithTimeout(ctx, 5*time.Minute)
		defer cancel()
		// npm is a client here, not a server under test: it keeps the
		// caller's environment (registry, proxy and cache settings).
		cmd := exec.CommandContext(ictx, npm, "install", "--no-audit", "--no-fund", "--prefix", dir)
		cmd.Stdout, cmd.Stderr = logf, logf
		if err := cmd.Run(); err != nil {
			if ctx.Err() != nil {
				return "", ctx.Err()
			}
			return "", skipf("npm install failed: %v; see %s", err, logPath)
		}
	}
	entry, err := binOf(filepath.Join(mods, portkeyPackage))
	if err != nil {
		return "", skipf("%s installed but unusable: %v", portkeyPackage, err)
	}
	return entry, nil
}

// installedVersion is the version of the package installed under mods, or
// "" when it is not.
func installedVersion(mods, pkg string) string {
	b, err := os.ReadFile(filepath.Join(mods, pkg, "package.json"))
	if err != nil {
		return ""
	}
	var m struct{ Version string }
	if json.Unmarshal(b, &m) != nil {
		return ""
	}
	return m.Version
}

// binOf returns the command-line entry point a package's package.json
// names in "bin": a path, or a map of command names to paths with one
// entry.
func binOf(pkgDir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(pkgDir, "package.json"))
	if err != nil {
		return "", err
	}
	var m struct{ Bin json.RawMessage }
	if err := json.Unmarshal(b, &m); err != nil {
		return "", fmt.Errorf("package.json: %w", err)
	}
	var rel string
	if err := json.Unmarshal(m.Bin, &rel); err != nil {
		var bins map[string]string
		if err := json.Unmarshal(m.Bin, &bins); err != nil || len(bins) != 1 {
			return "", fmt.Errorf("package.json: want one \"bin\", got %s", m.Bin)
		}
		for _, v := range bins {
			rel = v
		}
	}
	entry := filepath.Join(pkgDir, filepath.FromSlash(rel))
	if _, err := os.Stat(entry); err != nil {
		return "", err
	}
	return entry, nil
}

// loopbackPreload binds every listener of the Node process that names no
// host to 127.0.0.1: Portkey's server takes only a port and would
// otherwise listen on every interface, and the harness serves nothing but
// loopback.
const loopbackPreload = `'use strict';
const net = require('net');
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if (typeof args[0] === 'number' || (typeof args[0] === 'string' && /^\d+$/.test(args[0]))) {
    if (args[1] === undefined || args[1] === null) args[1] = '127.0.0.1';
    else if (typeof args[1] === 'function' || typeof args[1] === 'number') args.splice(1, 0, '127.0.0.1');
  } else if (args[0] && typeof args[0] === 'object' && !args[0].path && !args[0].host) {
    args[0] = Object.assign({}, args[0], { host: '127.0.0.1' });
  }
  return listen.apply(this, args);
};
`

// startPortkey runs the Portkey gateway at entry as Portkey documents for
// production (NODE_ENV=production, --headless: no console, no log
// stream) on a free loopback port, with its output in logPath, and waits
// until it answers.
func startPortkey(ctx context.Context, cpu, entry, tmp, logPath string, getenv func(string) string) (*child, error) {
	preload := filepath.Join(tmp, "loopback.cjs")
	if err := os.WriteFile(preload, []byte(loopbackPreload), 0o644); err != nil {
		return nil, err
	}
	addr, err := freePort()
	if err != nil {
		return nil, err
	}
	_, port, _ := strings.Cut(addr, ":")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, skipf("node not found on PATH")
	}
	cmd := command(cpu, node, "--require", preload, entry, "--headless", "--port="+port)
	cmd.Env = []string{"NODE_ENV=production", "PATH=" + getenv("PATH"), "HOME=" + getenv("HOME")}
	cmd.Dir = tmp
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return nil, skipf("start portkey: %v", err)
	}
	c := &child{name: peerPortkey, cmd: cmd, url: "http://" + addr, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(c.done) }()
	if err := waitHTTP(ctx, c, "/", logPath); err != nil {
		return nil, err
	}
	return c, nil
}

// waitHTTP waits until c answers 200 at path, for a minute at most.
func waitHTTP(ctx context.Context, c *child, path, logPath string) error {
	hc := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		select {
		case <-c.done:
			return skipf("%s exited at start; see %s", c.name, logPath)
		case <-ctx.Done():
			c.stop()
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		resp, err := hc.Get(c.url + path)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
	c.stop()
	return skipf("%s did not answer in time; see %s", c.name, logPath)
}

// portkeyTarget is the Portkey gateway as a load target: the tenant's
// provider key as Bearer, and the headers that route each call to the
// fake's OpenAI-style API.
func portkeyTarget(base string, pid int, upstream string) loadtest.Target {
	return loadtest.Target{
		Name:   peerPortkey,
		URL:    base + "/v1",
		Tokens: []string{tenantKey},
		PID:    pid,
		Headers: http.Header{
			"X-Portkey-Provider":    {"openai"},
			"X-Portkey-Custom-Host": {upstream + "/v1"},
			// Portkey forwards no caller header unless told to: these
			// give its streams the same shape as every other target's.
			"X-Portkey-Forward-Headers": {strings.ToLower(loadtest.HeaderChunks + "," + loadtest.HeaderInterval)},
		},
	}
}

// setUpPeer installs and starts the peer and probes it with one call of
// each workload it is to carry. Whatever cannot be done is said in the
// target (Skipped, Unsupported) rather than failing the run; only a
// cancelled run or a broken harness returns an error. stop ends the peer.
func setUpPeer(ctx context.Context, o options, serverCPU, tmp, upstream string, answered func(context.Context) (uint64, error), getenv func(string) string, progress func(string, ...any)) (t loadtest.Target, stop func(), err error) {
	stop = func() {}
	skipped := func(err error) (loadtest.Target, func(), error) {
		var se *skipError
		if errors.As(err, &se) {
			progress("portkey: skipped (%s)", se.reason)
			return loadtest.Target{Name: peerPortkey, Skipped: se.reason}, stop, nil
		}
		return loadtest.Target{}, stop, err
	}
	dir := o.peerDir
	if dir == "" {
		dir = defaultPeerDir(tmp)
	}
	entry, err := installPortkey(ctx, dir, progress)
	if err != nil {
		return skipped(err)
	}
	logPath := filepath.Join(tmp, "portkey.log")
	c, err := startPortkey(ctx, serverCPU, entry, tmp, logPath, getenv)
	if err != nil {
		return skipped(err)
	}
	t = portkeyTarget(c.url, c.pid(), upstream)
	t.Upstream = answered
	t.Unsupported = map[loadtest.Kind]string{}
	for _, w := range []loadtest.Workload{{Kind: loadtest.KindChat}, {Kind: loadtest.KindStream, Chunks: o.streamChunks, Interval: o.streamInterval}, {Kind: loadtest.KindEmbeddings}} {
		if err := loadtest.Probe(ctx, t, w); err != nil {
			if ctx.Err() != nil {
				c.stop()
				return loadtest.Target{}, stop, ctx.Err()
			}
			t.Unsupported[w.Kind] = err.Error()
			progress("portkey: no %s (%v); see %s", w.Kind, err, logPath)
		}
	}
	if len(t.Unsupported) == 3 {
		c.stop()
		return skipped(skipf("it answered no probe through the fake: %s", t.Unsupported[loadtest.KindChat]))
	}
	// Node compiles hot code as it runs: a few seconds of each workload
	// now, unmeasured, so that the scenarios' short warm-ups (meant for
	// connections and caches) do not measure V8's compiler instead of the
	// gateway. keygate and the baseline are compiled ahead of time.
	for _, w := range []loadtest.Workload{{Kind: loadtest.KindChat}, {Kind: loadtest.KindStream, Chunks: o.streamChunks, Interval: o.streamInterval}, {Kind: loadtest.KindEmbeddings}} {
		if t.Unsupported[w.Kind] != "" {
			continue
		}
		if _, err := loadtest.Measure(ctx, t, w, loadtest.Load{Mode: loadtest.Closed, Concurrency: o.concurrency, Duration: peerWarmup}); err != nil {
			c.stop()
			return loadtest.Target{}, stop, fmt.Errorf("warm up portkey: %w", err)
		}
	}
	progress("portkey %s@%s (pid %d, log %s), answering through the fake", portkeyPackage, portkeyVersion, c.pid(), logPath)
	return t, c.stop, nil
}

// defaultPeerDir is bench/.peer under the module root when the harness
// runs inside the module (git-ignored, kept between runs), else a
// directory in the temp dir.
func defaultPeerDir(tmp string) string {
	if root := moduleRoot(); root != "" {
		return filepath.Join(root, "bench", ".peer")
	}
	return filepath.Join(tmp, "peer")
}

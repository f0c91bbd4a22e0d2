// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/keygate/keygate/internal/loadtest"
)

// The hidden modes: the harness runs itself as the fake and as the
// baseline, so that each server is a process of its own whose CPU and
// memory can be read apart.
const (
	modeFake     = "internal-fake"
	modeBaseline = "internal-baseline"
)

// envUpstreamKey carries the provider key the baseline injects.
const envUpstreamKey = "KEYGATE_BENCH_UPSTREAM_KEY"

// mallocsPath serves the process's allocation count on the hidden modes'
// listeners (never on keygate's).
const mallocsPath = "/__bench/mallocs"

// answeredPath serves the fake's count of calls answered
// (loadtest.AnsweredMetric), by which the harness checks that every
// target's answers came from the fake.
const answeredPath = "/__bench/answered"

// serveFake is the hidden mode that serves loadtest.Fake on loopback.
func serveFake(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet(modeFake, flag.ContinueOnError)
	fs.SetOutput(stderr)
	latency := fs.Duration("latency", 0, "wait before the first byte of every answer")
	chunks := fs.Int("chunks", 20, "content events per stream")
	interval := fs.Duration("interval", 0, "pause between stream events")
	if err := fs.Parse(args); err != nil {
		return err
	}
	fake := loadtest.NewFake(loadtest.FakeOptions{Latency: *latency, Chunks: *chunks, Interval: *interval})
	mux := http.NewServeMux()
	mux.Handle(mallocsPath, loadtest.MallocsHandler())
	mux.Handle(answeredPath, fake.AnsweredHandler())
	mux.Handle("/", fake)
	return serveLoopback(ctx, mux, stdout)
}

// serveBaseline is the hidden mode that serves the bare reverse proxy.
func serveBaseline(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet(modeBaseline, flag.ContinueOnError)
	fs.SetOutput(stderr)
	upstream := fs.String("upstream", "", "upstream base URL")
	if err := fs.Parse(args); err != nil {
		return err
	}
	u, err := url.Parse(*upstream)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%s: --upstream %q is not a URL", modeBaseline, *upstream)
	}
	// The key comes from the environment, not argv (ps shows argv); it is
	// a made-up key the fake accepts.
	key := getenv(envUpstreamKey)
	if key == "" {
		return fmt.Errorf("%s: %s is not set", modeBaseline, envUpstreamKey)
	}
	mux := http.NewServeMux()
	mux.Handle(mallocsPath, loadtest.MallocsHandler())
	mux.Handle("/", loadtest.NewBaseline(u, key))
	return serveLoopback(ctx, mux, stdout)
}

// serveLoopback serves h on a free loopback port, prints "listening
// http://ADDR" on stdout for the parent, and stops when ctx ends or stdin
// closes (the parent died).
func serveLoopback(ctx context.Context, h http.Handler, stdout io.Writer) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	if _, err := fmt.Fprintf(stdout, "listening http://%s\n", ln.Addr()); err != nil {
		return err
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

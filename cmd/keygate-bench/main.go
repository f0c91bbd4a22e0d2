// SPDX-License-Identifier: Apache-2.0

// Command keygate-bench is keygate's load harness. On loopback it starts the
// upstream fake (a lean OpenAI-compatible fake, its own process), the bare
// reverse proxy that is the baseline (its own process), keygate on SQLite
// (its own process, built from this module), keygate on PostgreSQL when a
// server is named (--database-url), and a peer gateway, Portkey, installed
// from npm when npm is on PATH (--peer); it provisions keygate through its
// API, checks that the peer answers through the fake, drives each with
// closed- and open-loop load, and reports req/s, latency percentiles, the
// latency each adds over calling the fake directly, CPU per 1,000
// requests, peak RSS, allocations per request, stream TTFB and
// inter-chunk delay, the load generator's own CPU, and each gateway's
// ratios to the baseline. A target that cannot be had is skipped with a
// note. Output: a table on stdout and a JSON file.
//
//	go run ./cmd/keygate-bench              # full run, a few minutes
//	go run ./cmd/keygate-bench --quick      # CI smoke, under a minute
//	go run ./cmd/keygate-bench --help
//
// It is a benchmark tool, not part of the product: it is never shipped
// with keygate and serves nothing but loopback.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "keygate-bench:", err)
		os.Exit(1)
	}
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(2)
	}
}

// run dispatches the hidden server modes the harness starts itself as, or
// runs the harness.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case modeFake:
			return serveFake(ctx, args[1:], stdout, stderr)
		case modeBaseline:
			return serveBaseline(ctx, args[1:], getenv, stdout, stderr)
		}
	}
	return runHarness(ctx, args, getenv, stdout, stderr)
}

// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/keygate/keygate/internal/loadtest"
)

// profileTargets records a CPU profile of each target's process with
// `perf record` while the closed-loop chat load runs against it alone, and
// writes perf's flat and call-graph reports next to the data. perf sees the
// whole process (kernel time too) without any profiling endpoint in
// keygate.
func profileTargets(ctx context.Context, dir string, d time.Duration, conns int, progress func(string, ...any), targets ...loadtest.Target) error {
	perf, err := exec.LookPath("perf")
	if err != nil {
		return fmt.Errorf("--profile needs perf: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, t := range targets {
		data := filepath.Join(dir, t.Name+".perf.data")
		rec := exec.CommandContext(ctx, perf, "record", "-F", "999", "-g", "-p", strconv.Itoa(t.PID), "-o", data, "--", "sleep", fmt.Sprint(d.Seconds()))
		rec.Stdout, rec.Stderr = nil, nil
		if err := rec.Start(); err != nil {
			return fmt.Errorf("perf record %s: %w", t.Name, err)
		}
		r, merr := loadtest.Measure(ctx, t, loadtest.Workload{Kind: loadtest.KindChat}, loadtest.Load{Mode: loadtest.Closed, Concurrency: conns, Duration: d + 500*time.Millisecond})
		if err := rec.Wait(); err != nil {
			return fmt.Errorf("perf record %s: %w", t.Name, err)
		}
		if merr != nil {
			return merr
		}
		for _, rep := range []struct {
			file string
			args []string
		}{
			{t.Name + ".flat.txt", []string{"report", "-i", data, "--no-children", "--sort", "symbol", "--stdio", "-g", "none", "--percent-limit", "0.5"}},
			{t.Name + ".inclusive.txt", []string{"report", "-i", data, "--children", "--sort", "symbol", "--stdio", "-g", "none", "--percent-limit", "1"}},
		} {
			out, err := exec.CommandContext(ctx, perf, rep.args...).Output()
			if err != nil {
				return fmt.Errorf("perf report %s: %w", t.Name, err)
			}
			if err := os.WriteFile(filepath.Join(dir, rep.file), tidy(out), 0o644); err != nil {
				return err
			}
		}
		progress("profiled %s at %.0f req/s: %s", t.Name, r.RPS, filepath.Join(dir, t.Name+".*.txt"))
	}
	return nil
}

// tidy drops perf's padding: the empty columns at the end of each line and
// runs of spaces.
func tidy(out []byte) []byte {
	var b strings.Builder
	for _, line := range strings.Split(string(out), "\n") {
		line = strings.TrimRight(line, " -")
		b.WriteString(strings.Join(strings.Fields(line), " "))
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

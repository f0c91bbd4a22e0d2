// SPDX-License-Identifier: Apache-2.0

// Package testkit holds what keygate's tests share: a canary provider key
// and the scanner that proves it never leaks, and connections to the real
// PostgreSQL and Redis that skip (or fail, when KEYGATE_REQUIRE_INTEGRATION
// is set) where those servers are absent. Only tests and the load harness
// import it.
package testkit

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// CanaryOpenAIKey is a well-formed OpenAI-style key planted by leak tests.
// Its middle part (CanaryMarker) is what scans look for: it survives any
// prefix or suffix truncation that a hint or a log might apply.
const (
	CanaryMarker    = "KGCANARYc4n4ry7e5tD0N0TL3AK"
	CanaryOpenAIKey = "sk-" + CanaryMarker + "0123456789abcdefQ7zX"
)

// AssertNoCanary fails tb if data contains the canary marker, naming where.
func AssertNoCanary(tb testing.TB, where string, data []byte) {
	tb.Helper()
	if i := bytes.Index(data, []byte(CanaryMarker)); i >= 0 {
		lo, hi := max(0, i-60), min(len(data), i+len(CanaryMarker)+20)
		tb.Errorf("canary key leaked in %s at byte %d: ...%q...", where, i, data[lo:hi])
	}
}

// AssertNoCanaryInDir scans every file under dir (database files, WAL
// files, logs) for the canary marker.
func AssertNoCanaryInDir(tb testing.TB, dir string) {
	tb.Helper()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		AssertNoCanary(tb, path, b)
		return nil
	})
	if err != nil {
		tb.Fatalf("scan %s: %v", dir, err)
	}
}

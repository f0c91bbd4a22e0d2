// SPDX-License-Identifier: Apache-2.0

// Package version says which keygate this binary is: its version, the
// commit it was built from and when, from the linker flags of a release
// build (scripts/release), else from the module and VCS information the Go
// toolchain embeds in every build of a checkout.
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// Set by the linker in release builds, and never written at run time:
//
//	go build -ldflags "-X github.com/keygate/keygate/internal/version.version=v0.3.0
//	  -X github.com/keygate/keygate/internal/version.commit=abc1234...
//	  -X github.com/keygate/keygate/internal/version.date=2026-12-08T01:00:00Z"
var version, commit, date string

// Info describes one build.
type Info struct {
	// Version is the release (v0.3.0), the module version of a `go
	// install`, or "(devel)" for a build of a checkout.
	Version string `json:"version"`
	// Commit is the VCS revision, "" when unknown.
	Commit string `json:"commit"`
	// Modified reports a build from a checkout with uncommitted changes.
	Modified bool `json:"modified"`
	// Date is when it was built (release) or committed (checkout), RFC
	// 3339 in UTC; "" when unknown.
	Date      string `json:"date"`
	GoVersion string `json:"go_version"`
	Platform  string `json:"platform"` // GOOS/GOARCH
}

// Get returns the Info of the running binary.
func Get() Info {
	bi, _ := debug.ReadBuildInfo()
	return From(Linked{Version: version, Commit: commit, Date: date}, bi)
}

// Linked are the values set with -ldflags -X.
type Linked struct{ Version, Commit, Date string }

// From returns the Info of a build: each value set by the linker wins, the
// rest comes from bi (nil when the binary carries no build information).
func From(l Linked, bi *debug.BuildInfo) Info {
	in := Info{Version: "(devel)", GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi != nil {
		if bi.GoVersion != "" {
			in.GoVersion = bi.GoVersion
		}
		if v := bi.Main.Version; v != "" {
			in.Version = v
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				in.Commit = s.Value
			case "vcs.time":
				in.Date = s.Value
			case "vcs.modified":
				in.Modified = s.Value == "true"
			}
		}
	}
	if l.Version != "" {
		in.Version = l.Version
	}
	if l.Commit != "" {
		in.Commit, in.Modified = strings.TrimSuffix(l.Commit, "-dirty"), strings.HasSuffix(l.Commit, "-dirty")
	}
	if l.Date != "" {
		in.Date = l.Date
	}
	return in
}

// ShortCommit returns the first 12 hex digits of the commit, with "-dirty"
// for a modified checkout, or "unknown".
func (in Info) ShortCommit() string {
	c := in.Commit
	if c == "" {
		return "unknown"
	}
	if len(c) > 12 {
		c = c[:12]
	}
	if in.Modified {
		c += "-dirty"
	}
	return c
}

// String is the line `keygate version` prints:
//
//	keygate v0.3.0 (commit abc1234def56, built 2026-12-08T01:00:00Z, go1.26.8, linux/amd64)
func (in Info) String() string {
	built := in.Date
	if built == "" {
		built = "unknown"
	}
	return fmt.Sprintf("keygate %s (commit %s, built %s, %s, %s)", in.Version, in.ShortCommit(), built, in.GoVersion, in.Platform)
}

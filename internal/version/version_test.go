// SPDX-License-Identifier: Apache-2.0

package version_test

import (
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/keygate/keygate/internal/version"
)

func TestFrom(t *testing.T) {
	platform := runtime.GOOS + "/" + runtime.GOARCH
	checkout := &debug.BuildInfo{
		GoVersion: "go1.26.8",
		Main:      debug.Module{Path: "github.com/keygate/keygate", Version: "(devel)"},
		Settings: []debug.BuildSetting{
			{Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
			{Key: "vcs.time", Value: "2026-12-07T22:10:00Z"},
			{Key: "vcs.modified", Value: "true"},
		},
	}
	installed := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.3.0"}}
	tests := []struct {
		name     string
		linked   version.Linked
		bi       *debug.BuildInfo
		want     version.Info
		wantLine string
	}{
		{"Release", version.Linked{Version: "v0.3.0", Commit: "abcdef1234567890", Date: "2026-12-08T01:00:00Z"}, checkout,
			version.Info{Version: "v0.3.0", Commit: "abcdef1234567890", Date: "2026-12-08T01:00:00Z", GoVersion: "go1.26.8", Platform: platform},
			"keygate v0.3.0 (commit abcdef123456, built 2026-12-08T01:00:00Z, go1.26.8, " + platform + ")"},
		{"ReleaseDirty", version.Linked{Version: "v0.3.0-rc1", Commit: "abcdef1-dirty"}, nil,
			version.Info{Version: "v0.3.0-rc1", Commit: "abcdef1", Modified: true, GoVersion: runtime.Version(), Platform: platform},
			"keygate v0.3.0-rc1 (commit abcdef1-dirty, built unknown, " + runtime.Version() + ", " + platform + ")"},
		{"Checkout", version.Linked{}, checkout,
			version.Info{Version: "(devel)", Commit: "0123456789abcdef0123456789abcdef01234567", Modified: true, Date: "2026-12-07T22:10:00Z", GoVersion: "go1.26.8", Platform: platform},
			"keygate (devel) (commit 0123456789ab-dirty, built 2026-12-07T22:10:00Z, go1.26.8, " + platform + ")"},
		{"GoInstall", version.Linked{}, installed,
			version.Info{Version: "v0.3.0", GoVersion: "go1.26.8", Platform: platform},
			"keygate v0.3.0 (commit unknown, built unknown, go1.26.8, " + platform + ")"},
		{"NoBuildInfo", version.Linked{}, nil,
			version.Info{Version: "(devel)", GoVersion: runtime.Version(), Platform: platform},
			"keygate (devel) (commit unknown, built unknown, " + runtime.Version() + ", " + platform + ")"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := version.From(tc.linked, tc.bi)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("From (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantLine, got.String()); diff != "" {
				t.Errorf("String (-want +got):\n%s", diff)
			}
		})
	}
}

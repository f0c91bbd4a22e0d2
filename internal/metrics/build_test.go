// SPDX-License-Identifier: Apache-2.0

package metrics_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/keygate/keygate/internal/metrics"
)

func TestBuildInfo(t *testing.T) {
	m, reg := MustNew(t, metrics.Options{})
	if err := metrics.RegisterBuildInfo(reg, metrics.Build{Version: "v0.3.0", Commit: "abcdef123456", GoVersion: "go1.26.8"}); err != nil {
		t.Fatal(err)
	}
	got := MustParse(t, MustScrape(t, m, reg))
	want := `keygate_build_info{commit="abcdef123456",go_version="go1.26.8",version="v0.3.0"}`
	if diff := cmp.Diff(1.0, got[want]); diff != "" {
		t.Errorf("%s (-want +got):\n%s\nall: %v", want, diff, got)
	}
	b := metrics.Build{Version: "v0.3.0", Commit: "abcdef123456", GoVersion: "go1.26.8"}
	if err := metrics.RegisterBuildInfo(reg, b); err == nil {
		t.Error("a second build info on the same registry: no error")
	}
	if err := metrics.RegisterBuildInfo(nil, metrics.Build{}); err == nil {
		t.Error("nil registerer: no error")
	}
}

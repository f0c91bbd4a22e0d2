// SPDX-License-Identifier: Apache-2.0

package api

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/keygate/keygate"
)

// TestWhoAmIServerBuild checks that whoami names the build that answers,
// as the server was given it.
func TestWhoAmIServerBuild(t *testing.T) {
	a, db := MustAPI(t)
	want := BuildInfo{Version: "v0.3.0", Commit: "abcdef1234567890", Date: "2026-12-08T01:00:00Z", GoVersion: "go1.26.8"}
	a.d.Build = want
	tok := MustToken(t, db, keygate.RolePlatformAdmin, "")
	status, out := MustServe(t, a, tok, "GET", "/api/v1/whoami", "")
	if status != 200 {
		t.Fatalf("whoami: %d %s", status, out)
	}
	var got struct{ Server BuildInfo }
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got.Server); diff != "" {
		t.Errorf("server block (-want +got):\n%s", diff)
	}
}

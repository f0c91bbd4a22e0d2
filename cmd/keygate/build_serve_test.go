// SPDX-License-Identifier: Apache-2.0

package main

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/keygate/keygate/internal/version"
)

// TestServeBuildInfo: a running server names its build in
// keygate_build_info and in whoami's server block, as `keygate version`
// does.
func TestServeBuildInfo(t *testing.T) {
	s := MustServe(t, t.TempDir(), nil)
	in := version.Get()
	resp, err := http.Get(s.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	want := `keygate_build_info{commit="` + in.ShortCommit() + `",go_version="` + in.GoVersion + `",version="` + in.Version + `"} 1`
	if !strings.Contains(string(body), want) {
		t.Errorf("/metrics has no %s", want)
	}
	r := runEnv(t, map[string]string{"KEYGATE_ADDR": s.URL, "KEYGATE_TOKEN": s.Token}, "", "whoami", "--json")
	if r.exit != exitOK || !strings.Contains(r.stdout, `"version": "`+in.Version+`"`) || !strings.Contains(r.stdout, `"go_version": "`+in.GoVersion+`"`) {
		t.Errorf("whoami --json: exit %d, stdout %s, stderr %s; want the server block", r.exit, r.stdout, r.stderr)
	}
	r = runEnv(t, map[string]string{"KEYGATE_ADDR": s.URL, "KEYGATE_TOKEN": s.Token}, "", "whoami")
	if !strings.Contains(r.stdout, "server version") || !strings.Contains(r.stdout, in.Version) {
		t.Errorf("whoami: %s; want the server version", r.stdout)
	}
}

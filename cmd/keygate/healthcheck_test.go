// SPDX-License-Identifier: Apache-2.0

package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/keygate/keygate/internal/version"
)

func TestHealthcheck(t *testing.T) {
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(status)
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")

	// Found from the server's own settings, as in the container image.
	r := runEnv(t, map[string]string{"KEYGATE_LISTEN_ADDR": addr}, "", "healthcheck")
	if r.exit != exitOK || !strings.Contains(r.stdout, "ready") {
		t.Errorf("ready server: exit %d, stdout %q, stderr %q", r.exit, r.stdout, r.stderr)
	}
	status = http.StatusServiceUnavailable
	r = runEnv(t, nil, "", "healthcheck", "--url", srv.URL+"/readyz")
	if r.exit != exitFailure || !strings.Contains(r.stderr, "503") {
		t.Errorf("unready server: exit %d, stderr %q; want 1 naming the status", r.exit, r.stderr)
	}
	srv.Close()
	r = runEnv(t, nil, "", "healthcheck", "--url", srv.URL+"/readyz")
	if r.exit != exitFailure {
		t.Errorf("no server: exit %d, stderr %q; want 1", r.exit, r.stderr)
	}
	r = runEnv(t, nil, "", "healthcheck", "--timeout", "0s")
	if r.exit != exitUsage {
		t.Errorf("--timeout 0s: exit %d, want usage", r.exit)
	}
}

func TestReadyzURL(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"Default", nil, "http://127.0.0.1:8080/readyz"},
		{"AllAddresses", map[string]string{"KEYGATE_LISTEN_ADDR": "0.0.0.0:9000"}, "http://127.0.0.1:9000/readyz"},
		{"NoHost", map[string]string{"KEYGATE_LISTEN_ADDR": ":9000"}, "http://127.0.0.1:9000/readyz"},
		{"IPv6Any", map[string]string{"KEYGATE_LISTEN_ADDR": "[::]:9000"}, "http://127.0.0.1:9000/readyz"},
		{"Host", map[string]string{"KEYGATE_LISTEN_ADDR": "10.0.0.5:8080"}, "http://10.0.0.5:8080/readyz"},
		{"TLS", map[string]string{"KEYGATE_LISTEN_ADDR": "localhost:8443", "KEYGATE_TLS_CERT": "c.pem", "KEYGATE_TLS_KEY": "k.pem"}, "https://localhost:8443/readyz"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readyzURL(func(k string) string { return tc.env[k] })
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("readyzURL (-want +got):\n%s", diff)
			}
		})
	}
}

func TestVersionCommand(t *testing.T) {
	r := runEnv(t, nil, "", "version")
	if diff := cmp.Diff(version.Get().String()+"\n", r.stdout); r.exit != exitOK || diff != "" {
		t.Errorf("version: exit %d (-want +got):\n%s", r.exit, diff)
	}
	r = runEnv(t, nil, "", "version", "--json")
	var got version.Info
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || r.exit != exitOK {
		t.Fatalf("version --json: exit %d, %v: %q", r.exit, err, r.stdout)
	}
	if diff := cmp.Diff(version.Get(), got); diff != "" {
		t.Errorf("version --json (-want +got):\n%s", diff)
	}
}

// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keygate/keygate/internal/testkit"
)

// TestServeFailsFastOnBusyAddress: `keygate serve` on an address already in
// use (the main one or the metrics one), or with TLS files that do not
// load, returns the error at once instead of hanging, and has created
// nothing: no data directory, so no master key and no bootstrap token.
func TestServeFailsFastOnBusyAddress(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	a, b := testkit.MustCert(t, "keygate test"), testkit.MustCert(t, "keygate test")
	writeFile(t, certFile, a.CertPEM)
	writeFile(t, keyFile, b.KeyPEM) // another certificate's key
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"MainAddress", []string{"--addr", busy.Addr().String()}, "address already in use"},
		{"MetricsAddress", []string{"--addr", "127.0.0.1:0", "--metrics-addr", busy.Addr().String()}, "listen on metrics address"},
		{"TLSKeyMismatch", []string{"--addr", "127.0.0.1:0", "--tls-cert", certFile, "--tls-key", keyFile}, "load TLS certificate"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dataDir := filepath.Join(t.TempDir(), "data")
			var stderr syncBuffer
			done := make(chan error, 1)
			go func() {
				done <- run(context.Background(), append([]string{"serve", "--data-dir", dataDir}, tc.args...), func(string) string { return "" }, strings.NewReader(""), io.Discard, &stderr)
			}()
			var err error
			select {
			case err = <-done:
			case <-time.After(30 * time.Second): // guards against the hang only
				t.Fatalf("keygate serve did not return\nlogs:\n%s", stderr.Bytes())
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want it to mention %q", err, tc.want)
			}
			if _, statErr := os.Stat(dataDir); !os.IsNotExist(statErr) {
				t.Errorf("the data directory was created (stat: %v)", statErr)
			}
			if bytes.Contains(stderr.Bytes(), []byte("kga_")) {
				t.Error("a bootstrap token was minted")
			}
		})
	}
}

// listeningLine returns the server's "listening" log line.
func listeningLine(t *testing.T, s *testServer) map[string]any {
	t.Helper()
	sc := bufio.NewScanner(bytes.NewReader(s.Logs.Bytes()))
	for sc.Scan() {
		var rec map[string]any
		if json.Unmarshal(sc.Bytes(), &rec) == nil && rec["msg"] == "listening" {
			return rec
		}
	}
	t.Fatal("no listening line in the log")
	return nil
}

// TestServeMetricsListener: with --metrics-addr, /metrics is served on that
// address only; with a metrics token, only to a request that carries it;
// the token never appears in the log.
func TestServeMetricsListener(t *testing.T) {
	const token = "metrics-token-KGCANARY-0123456789"
	s := MustServe(t, t.TempDir(), map[string]string{"KEYGATE_METRICS_TOKEN": token}, "--metrics-addr", "127.0.0.1:0")
	maddr, _ := listeningLine(t, s)["metrics_addr"].(string)
	if maddr == "" {
		t.Fatal("the listening line has no metrics_addr")
	}
	get := func(url, auth string) (int, string) {
		req, _ := http.NewRequest("GET", url, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	tests := []struct {
		name, url, auth string
		want            int
	}{
		{"MainAddressNotServed", s.URL + "/metrics", "Bearer " + token, 404},
		{"NoToken", "http://" + maddr + "/metrics", "", 401},
		{"WrongToken", "http://" + maddr + "/metrics", "Bearer " + s.Token, 401},
		{"Token", "http://" + maddr + "/metrics", "Bearer " + token, 200},
		{"NothingElse", "http://" + maddr + "/healthz", "Bearer " + token, 404},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, body := get(tc.url, tc.auth)
			if st != tc.want {
				t.Fatalf("status %d, want %d: %.200s", st, tc.want, body)
			}
			if st == 200 && !strings.Contains(body, "keygate_") {
				t.Errorf("no keygate metric in the answer: %.200s", body)
			}
		})
	}
	s.Stop(t)
	if bytes.Contains(s.Logs.Bytes(), []byte("KGCANARY")) {
		t.Error("the metrics token appears in the log")
	}
}

// TestServeTLS: with --tls-cert and --tls-key (a certificate made here),
// keygate serves HTTPS, TLS 1.2 or newer, on the main and metrics
// addresses, and refuses plain HTTP.
func TestServeTLS(t *testing.T) {
	dir := t.TempDir()
	c := testkit.MustCert(t, "keygate test")
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writeFile(t, certFile, c.CertPEM)
	writeFile(t, keyFile, c.KeyPEM)
	s := MustServe(t, filepath.Join(dir, "data"), nil, "--tls-cert", certFile, "--tls-key", keyFile, "--metrics-addr", "127.0.0.1:0")
	line := listeningLine(t, s)
	if line["tls"] != true {
		t.Errorf("the listening line says tls=%v", line["tls"])
	}
	maddr, _ := line["metrics_addr"].(string)
	pool := x509.NewCertPool()
	pool.AddCert(c.X509)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	defer hc.CloseIdleConnections()
	addr := strings.TrimPrefix(s.URL, "http://")
	for _, url := range []string{"https://" + addr + "/healthz", "https://" + maddr + "/metrics"} {
		resp, err := hc.Get(url)
		if err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.TLS == nil || resp.TLS.Version < tls.VersionTLS12 {
			t.Errorf("GET %s: status %d, TLS %+v", url, resp.StatusCode, resp.TLS)
		}
	}
	old := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MaxVersion: tls.VersionTLS11}}}
	if resp, err := old.Get("https://" + addr + "/healthz"); err == nil {
		resp.Body.Close()
		t.Error("a TLS 1.1 client was served")
	}
	if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Error("plain HTTP was served")
		}
	}
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestServeDeletedTenantAudit: a deleted tenant's audit trail stays
// queryable by its id for platform admins, through the API and `keygate
// audit list --tenant tn_...`; its name no longer resolves, and a tenant
// token still cannot reach the platform-wide listing.
func TestServeDeletedTenantAudit(t *testing.T) {
	s := MustServe(t, t.TempDir(), nil)
	c := s.MustTenant(t, "doomed")
	ctx := context.Background()
	tn, err := c.GetTenant(ctx, "doomed")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteTenant(ctx, "doomed"); err != nil {
		t.Fatal(err)
	}
	var page struct {
		Events []struct{ Action, Tenant string } `json:"events"`
	}
	if st := jsonCall(t, s, "GET", "/api/v1/audit?tenant="+string(tn.ID), "", &page); st != 200 {
		t.Fatalf("GET /api/v1/audit?tenant=%s: %d", tn.ID, st)
	}
	var actions []string
	for _, e := range page.Events {
		if e.Tenant != string(tn.ID) {
			t.Errorf("an event of tenant %q in the deleted tenant's trail", e.Tenant)
		}
		actions = append(actions, e.Action)
	}
	if diff := cmp.Diff([]string{"tenant.deleted", "tenant.created"}, actions); diff != "" {
		t.Errorf("the deleted tenant's events (-want +got):\n%s", diff)
	}
	var out bytes.Buffer
	r := cliRun(t, s, s.Token, "", &out, "audit", "list", "--tenant", string(tn.ID), "--json")
	if r.exit != 0 || !strings.Contains(r.stdout, "tenant.deleted") || !strings.Contains(r.stdout, "tenant.created") {
		t.Errorf("keygate audit list --tenant %s: %+v", tn.ID, r)
	}
	if st := jsonCall(t, s, "GET", "/api/v1/audit?tenant=doomed", "", nil); st != 404 {
		t.Errorf("the deleted tenant's name: %d, want 404", st)
	}
}

// SPDX-License-Identifier: Apache-2.0

package server_test

import (
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/keygate/keygate/internal/server"
	"github.com/keygate/keygate/internal/testkit"
)

// writePair writes c's files with modification time mod, so a change
// shows whatever the file system's timestamp granularity.
func writePair(t *testing.T, certFile, keyFile string, certPEM, keyPEM []byte, mod time.Time) {
	t.Helper()
	for _, f := range []struct {
		path string
		b    []byte
	}{{certFile, certPEM}, {keyFile, keyPEM}} {
		if err := os.WriteFile(f.path, f.b, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(f.path, mod, mod); err != nil {
			t.Fatal(err)
		}
	}
}

// fakeClock is a clock the test moves.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// TestTLSReload: keygate serves HTTPS with the certificate of the files,
// refuses TLS 1.1, and serves a renewed certificate once its files change
// and the check interval has passed; a renewal written half-way (a key that
// does not match) keeps the previous certificate in service.
func TestTLSReload(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	first, second, third := testkit.MustCert(t, "first"), testkit.MustCert(t, "second"), testkit.MustCert(t, "third")
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	writePair(t, certFile, keyFile, first.CertPEM, first.KeyPEM, base)
	clock := &fakeClock{t: base}
	const every = 10 * time.Second
	rl, err := server.NewCertReloader(certFile, keyFile, server.CertOptions{CheckEvery: every, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") }), TLSConfig: server.TLSConfig(rl)}
	go func() { _ = srv.ServeTLS(ln, "", "") }()
	t.Cleanup(func() { srv.Close() })
	url := "https://" + ln.Addr().String() + "/"

	// served returns the common name of the certificate a new connection
	// is served.
	served := func(t *testing.T, maxVersion uint16) (string, error) {
		t.Helper()
		tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true, MaxVersion: maxVersion}, DisableKeepAlives: true}
		defer tr.CloseIdleConnections()
		resp, err := (&http.Client{Transport: tr}).Get(url)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		if resp.TLS.Version < tls.VersionTLS12 {
			t.Errorf("negotiated TLS version %x, below 1.2", resp.TLS.Version)
		}
		return resp.TLS.PeerCertificates[0].Subject.CommonName, nil
	}
	mustServe := func(t *testing.T, want string) {
		t.Helper()
		got, err := served(t, 0)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("served the %q certificate, want %q", got, want)
		}
	}

	mustServe(t, "first")
	if _, err := served(t, tls.VersionTLS11); err == nil {
		t.Error("a TLS 1.1 client was served")
	}
	// A renewal: new files, but the check interval has not passed.
	writePair(t, certFile, keyFile, second.CertPEM, second.KeyPEM, base.Add(time.Minute))
	clock.Add(every - time.Second)
	mustServe(t, "first")
	clock.Add(time.Second)
	mustServe(t, "second")
	// Half-way: the new certificate is written, its key not yet.
	writePair(t, certFile, keyFile, third.CertPEM, second.KeyPEM, base.Add(2*time.Minute))
	clock.Add(every)
	mustServe(t, "second")
	writePair(t, certFile, keyFile, third.CertPEM, third.KeyPEM, base.Add(3*time.Minute))
	clock.Add(every)
	mustServe(t, "third")
}

// TestCertReloaderRefusesBadPair: a pair that does not load fails at start,
// naming the files.
func TestCertReloaderRefusesBadPair(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	a, b := testkit.MustCert(t, "a"), testkit.MustCert(t, "b")
	writePair(t, certFile, keyFile, a.CertPEM, b.KeyPEM, time.Now())
	if _, err := server.NewCertReloader(certFile, keyFile, server.CertOptions{}); err == nil {
		t.Fatal("a certificate with another's key was accepted")
	}
	if _, err := server.NewCertReloader(filepath.Join(dir, "absent.pem"), keyFile, server.CertOptions{}); err == nil {
		t.Fatal("a missing certificate file was accepted")
	}
}

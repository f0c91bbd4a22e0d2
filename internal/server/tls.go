// SPDX-License-Identifier: Apache-2.0

package server

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/keygate/keygate"
)

// CertReloader serves a certificate read from a PEM certificate file and
// its key file, and reads them again when either changes, so that a
// renewed certificate is served without a restart. It looks at the files
// (a stat each, no read) during a TLS handshake at most once per
// CheckEvery; a pair that does not load (a renewal written half-way, a key
// that does not match) keeps the previous certificate in service and is
// logged, and is tried again at the next look.
type CertReloader struct {
	certFile, keyFile string
	every             time.Duration
	now               keygate.Clock
	logger            *slog.Logger

	mu      sync.Mutex
	cert    *tls.Certificate
	stamp   [2]fileStamp // of the files the served certificate was read from
	checked time.Time
}

// CertOptions tune a CertReloader.
type CertOptions struct {
	// CheckEvery is the least time between two looks at the files. Default
	// 10s.
	CheckEvery time.Duration
	Now        keygate.Clock
	Logger     *slog.Logger
}

// fileStamp is what tells that a file changed: its modification time and
// size.
type fileStamp struct {
	mod  time.Time
	size int64
}

// NewCertReloader reads the pair once; an error (a missing file, a key that
// does not match the certificate) names the files.
func NewCertReloader(certFile, keyFile string, o CertOptions) (*CertReloader, error) {
	if o.CheckEvery <= 0 {
		o.CheckEvery = 10 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	r := &CertReloader{certFile: certFile, keyFile: keyFile, every: o.CheckEvery, now: o.Now, logger: o.Logger}
	st, err := r.stat()
	if err != nil {
		return nil, err
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("load TLS certificate %s and key %s: %w", certFile, keyFile, err)
	}
	r.cert, r.stamp, r.checked = &cert, st, o.Now()
	return r, nil
}

func (r *CertReloader) stat() ([2]fileStamp, error) {
	var st [2]fileStamp
	for i, f := range []string{r.certFile, r.keyFile} {
		fi, err := os.Stat(f)
		if err != nil {
			return st, fmt.Errorf("TLS file: %w", err)
		}
		st[i] = fileStamp{mod: fi.ModTime(), size: fi.Size()}
	}
	return st, nil
}

// GetCertificate is the tls.Config hook: it returns the current
// certificate, first reading the files again if it is time to look and
// they changed.
func (r *CertReloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	if now.Sub(r.checked) < r.every {
		return r.cert, nil
	}
	r.checked = now
	st, err := r.stat()
	if err != nil {
		r.logger.Warn("TLS certificate files unreadable: serving the previous certificate", "err", err)
		return r.cert, nil
	}
	if st == r.stamp {
		return r.cert, nil
	}
	cert, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		// Not recorded as seen: the next look tries again, as the other
		// file of a renewal may still be on its way.
		r.logger.Warn("TLS certificate changed but does not load: serving the previous certificate", "cert", r.certFile, "key", r.keyFile, "err", err)
		return r.cert, nil
	}
	r.cert, r.stamp = &cert, st
	r.logger.Info("TLS certificate reloaded", "cert", r.certFile)
	return r.cert, nil
}

// TLSConfig returns the server TLS configuration over r: TLS 1.2 at
// least, HTTP/2 and HTTP/1.1.
func TLSConfig(r *CertReloader) *tls.Config {
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: r.GetCertificate,
		NextProtos:     []string{"h2", "http/1.1"},
	}
}

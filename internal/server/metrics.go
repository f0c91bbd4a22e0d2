// SPDX-License-Identifier: Apache-2.0

package server

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/keygate/keygate"
)

// requireBearer serves h only to requests that carry "Authorization:
// Bearer <token>"; others get 401. A zero token requires nothing. The
// comparison is of SHA-256 digests in constant time, so neither the
// token's bytes nor its length show in the time taken.
func requireBearer(token keygate.Secret, h http.Handler) http.Handler {
	if token.IsZero() {
		return h
	}
	want := sha256.Sum256(token.RevealBytes())
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := bearerToken(r)
		sum := sha256.Sum256([]byte(got))
		if subtle.ConstantTimeCompare(sum[:], want[:]) != 1 || !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="keygate metrics"`)
			writeError(w, http.StatusUnauthorized, keygate.CodeUnauthorized, "The metrics endpoint needs its bearer token.")
			return
		}
		h.ServeHTTP(w, r)
	})
}

// bearerToken returns the token of an "Authorization: Bearer" header.
func bearerToken(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	if len(h) < 7 || !strings.EqualFold(h[:7], "bearer ") {
		return "", false
	}
	return strings.TrimSpace(h[7:]), true
}

// MetricsDeps are the parts of the metrics listener's handler.
type MetricsDeps struct {
	// Metrics serves the Prometheus exposition.
	Metrics http.Handler
	// Token, if set, is required as a bearer token.
	Token keygate.Secret
}

// NewMetrics returns the handler of the metrics listener (--metrics-addr):
// GET /metrics, behind the token when one is set; everything else 404.
func NewMetrics(d MetricsDeps) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", requireBearer(d.Token, d.Metrics))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "No such endpoint.")
	})
	return mux
}

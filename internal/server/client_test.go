// SPDX-License-Identifier: Apache-2.0

package server_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/keygate/keygate/internal/auth"
	"github.com/keygate/keygate/internal/server"
)

// TestClientForThrottle: every request carries its peer's IP for the
// authentication throttle (never a forwarded header), and a refusal sets
// Retry-After on the answer the handler then writes.
func TestClientForThrottle(t *testing.T) {
	tests := []struct {
		name, remote, forwarded, want string
	}{
		{"IPv4", "192.0.2.7:51234", "", "192.0.2.7"},
		{"IPv6", "[2001:db8::1]:443", "", "2001:db8::1"},
		{"ForwardedIgnored", "192.0.2.7:51234", "203.0.113.9", "192.0.2.7"},
		{"NoPort", "192.0.2.8", "", "192.0.2.8"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got string
			h := server.New(server.Deps{API: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				c := auth.ClientFrom(r.Context())
				if c == nil {
					t.Fatal("no client in the request's context")
				}
				got = c.Addr
				c.Refused.Refused(1500 * time.Millisecond)
				w.WriteHeader(http.StatusTooManyRequests)
			})})
			req := httptest.NewRequest("GET", "/api/v1/whoami", nil)
			req.RemoteAddr = tc.remote
			if tc.forwarded != "" {
				req.Header.Set("X-Forwarded-For", tc.forwarded)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if got != tc.want {
				t.Errorf("client address %q, want %q", got, tc.want)
			}
			if ra := w.Header().Get("Retry-After"); ra != "2" {
				t.Errorf("Retry-After %q, want 2", ra)
			}
		})
	}
}

// BenchmarkServerOverhead measures what the middleware costs a request
// that does nothing.
func BenchmarkServerOverhead(b *testing.B) {
	h := server.New(server.Deps{Gateway: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), GatewayPrefixes: []string{"/v1/"}})
	req := httptest.NewRequest("POST", "/v1/chat/completions", nil)
	w := httptest.NewRecorder()
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, req)
	}
}

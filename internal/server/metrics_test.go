// SPDX-License-Identifier: Apache-2.0

package server_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/server"
)

// TestMetricsToken: with a metrics token, /metrics answers only a request
// that carries it as a bearer token, on the main handler and on the
// metrics listener's; without one, it answers everyone. The metrics
// listener's handler serves nothing else.
func TestMetricsToken(t *testing.T) {
	const token = "metrics-token-0123456789"
	metrics := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "keygate_up 1\n") })
	handlers := map[string]http.Handler{
		"Main": server.New(server.Deps{Metrics: metrics, MetricsToken: keygate.NewSecret(token), Ready: func(context.Context) error { return nil }}),
		"Own":  server.NewMetrics(server.MetricsDeps{Metrics: metrics, Token: keygate.NewSecret(token)}),
	}
	tests := []struct {
		name, path, auth string
		want             int
	}{
		{"NoToken", "/metrics", "", 401},
		{"WrongToken", "/metrics", "Bearer metrics-token-0123456780", 401},
		{"Prefix", "/metrics", "Bearer metrics-token", 401},
		{"NotBearer", "/metrics", "Basic " + token, 401},
		{"Token", "/metrics", "Bearer " + token, 200},
		{"TokenAnyCase", "/metrics", "bearer " + token, 200},
	}
	for name, h := range handlers {
		for _, tc := range tests {
			t.Run(name+"/"+tc.name, func(t *testing.T) {
				r := httptest.NewRequest("GET", tc.path, nil)
				if tc.auth != "" {
					r.Header.Set("Authorization", tc.auth)
				}
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, r)
				if rec.Code != tc.want {
					t.Errorf("status %d, want %d: %s", rec.Code, tc.want, rec.Body)
				}
				if rec.Code == 401 && rec.Header().Get("WWW-Authenticate") == "" {
					t.Error("401 without WWW-Authenticate")
				}
			})
		}
	}
	t.Run("OwnServesNothingElse", func(t *testing.T) {
		rec := httptest.NewRecorder()
		handlers["Own"].ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/whoami", nil))
		if rec.Code != 404 {
			t.Errorf("status %d, want 404", rec.Code)
		}
	})
	t.Run("NoTokenConfigured", func(t *testing.T) {
		rec := httptest.NewRecorder()
		server.NewMetrics(server.MetricsDeps{Metrics: metrics}).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		if rec.Code != 200 {
			t.Errorf("status %d, want 200", rec.Code)
		}
	})
}

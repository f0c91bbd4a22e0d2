// SPDX-License-Identifier: Apache-2.0

package server

import (
	"context"
	"net/http"
	"time"
)

// addRoutes mounts every route of the server.
func addRoutes(mux *http.ServeMux, d Deps) {
	if d.API != nil {
		mux.Handle("/api/v1/", d.API)
	}
	if d.BYOKGuide != nil {
		mux.Handle("/api/tenants/", d.BYOKGuide)
	}
	if d.Gateway != nil {
		for _, prefix := range d.GatewayPrefixes {
			mux.Handle(prefix, d.Gateway)
		}
	}
	if d.Metrics != nil {
		mux.Handle("GET /metrics", requireBearer(d.MetricsToken, d.Metrics))
	} else {
		// Served on a listener of its own, or not at all: not the
		// console's page either.
		mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
			writeError(w, http.StatusNotFound, "not_found", "No such endpoint.")
		})
	}
	mux.HandleFunc("GET /healthz", handleHealthz)
	mux.HandleFunc("GET /readyz", handleReadyz(d))
	if d.UI != nil {
		mux.Handle("/", d.UI)
		return
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "No such endpoint.")
	})
}

func handleHealthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"status":"ok"}` + "\n"))
}

func handleReadyz(d Deps) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := d.Ready(ctx); err != nil {
			d.Logger.WarnContext(r.Context(), "not ready", "err", err)
			writeError(w, http.StatusServiceUnavailable, "unavailable", "Storage is not reachable.")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ready"}` + "\n"))
	}
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(`{"error":{"code":"` + code + `","message":"` + msg + `"}}` + "\n"))
}

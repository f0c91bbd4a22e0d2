// Package server assembles keygate's HTTP surface: the management API, the
// health endpoints and the middleware every request passes through (request
// id, access log, panic recovery).
package server

import (
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"net/http"
	"time"
)

// Deps are the parts the server mounts.
type Deps struct {
	// API serves /api/v1/.
	API http.Handler
	// Gateway serves the proxied provider APIs under GatewayPrefixes
	// (/v1/ and /{provider}/).
	Gateway         http.Handler
	GatewayPrefixes []string
	// Ready reports whether storage is reachable, for /readyz.
	Ready  func(ctx context.Context) error
	Logger *slog.Logger
	Now    func() time.Time
	Rand   io.Reader
}

// New returns the root handler.
func New(d Deps) http.Handler {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Rand == nil {
		d.Rand = rand.Reader
	}
	mux := http.NewServeMux()
	addRoutes(mux, d)
	return withRequestID(d.Rand, withAccessLog(d.Logger, d.Now, withRecover(d.Logger, mux)))
}

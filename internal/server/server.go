// SPDX-License-Identifier: Apache-2.0

// Package server assembles keygate's HTTP surface: the management API, the
// health endpoints and the middleware every request passes through (body
// read deadline, request id, access log, panic recovery, the client address
// for the authentication throttle), and the listener
// that caps open connections.
package server

import (
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/keygate/keygate"
)

// Deps are the parts the server mounts.
type Deps struct {
	// API serves /api/v1/.
	API http.Handler
	// BYOKGuide, if set, serves the tenant-BYOK interface of the "BYOK
	// Setup Guide" under /api/tenants/ (internal/byokguide).
	BYOKGuide http.Handler
	// Gateway serves the proxied provider APIs under GatewayPrefixes
	// (/v1/ and /{provider}/).
	Gateway         http.Handler
	GatewayPrefixes []string
	// Metrics serves /metrics (Prometheus); nil: not served here (it may
	// have a listener of its own: NewMetrics).
	Metrics http.Handler
	// MetricsToken, if set, is required as "Authorization: Bearer" on
	// /metrics.
	MetricsToken keygate.Secret
	// UI, if set, serves the web console at "/" (every path no other route
	// takes); nil: such paths answer a JSON 404.
	UI http.Handler
	// ObserveAPI, if set, records each management API call by its route
	// pattern.
	ObserveAPI func(route, method string, status int, d time.Duration)
	// Scrub, if set, cleans a caller-supplied value (the model name) before
	// it is logged, so a key pasted into it never reaches the log.
	Scrub func(string) string
	// RedactPath, if set, replaces the key-shaped segments of a request
	// path before it is logged (provider.Catalog.RedactPath), so a key
	// pasted into a URL never reaches the log.
	RedactPath func(string) string
	// BodyReadTimeout is how long a request has to deliver its body once
	// its headers are in; past it the body read fails with
	// keygate.CodeRequestTimeout (408). Responses are not limited. 0: no
	// limit.
	BodyReadTimeout time.Duration
	// Ready reports whether storage is reachable, for /readyz.
	Ready  func(ctx context.Context) error
	Logger *slog.Logger
	Now    keygate.Clock
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
	if d.Scrub == nil {
		d.Scrub = func(s string) string { return s }
	}
	if d.RedactPath == nil {
		d.RedactPath = func(s string) string { return s }
	}
	mux := http.NewServeMux()
	addRoutes(mux, d)
	return withRequestID(d.Rand, withAccessLog(d, withBodyDeadline(d.BodyReadTimeout, withRecover(d.Logger, d.RedactPath, mux))))
}

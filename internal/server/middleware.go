// SPDX-License-Identifier: Apache-2.0

package server

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/keygate/keygate/internal/auth"
	"github.com/keygate/keygate/internal/reqid"
)

// withRequestID gives every request a fresh id, in its context and in the
// X-Request-Id response header, and an Info for the access log. A
// client-sent id is not trusted: it would let callers forge entries in the
// audit trail.
func withRequestID(random io.Reader, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := reqid.New(random)
		w.Header().Set("X-Request-Id", id)
		ctx := reqid.WithInfo(reqid.With(r.Context(), id), &reqid.Info{})
		ctx = withClient(ctx, w, r) // here, to copy the request only once
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// statusWriter records the status and size of a response.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += int64(n)
	return n, err
}

// Flush passes flushes through, so streamed responses stay streamed.
func (s *statusWriter) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// withAccessLog logs one JSON line per request, also when the handler
// aborts (a proxied stream whose client went away). It logs the path only,
// with key-shaped segments redacted (d.RedactPath), never the query string
// (some SDKs put keys there) or any header.
func withAccessLog(d Deps, next http.Handler) http.Handler {
	logger, now := d.Logger, d.Now
	scrub, redactPath := d.Scrub, d.RedactPath
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := now()
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			info := reqid.InfoFrom(r.Context())
			status := sw.status
			switch {
			case info.Status != 0:
				status = info.Status
			case r.Context().Err() != nil && status == 0:
				status = reqid.StatusClientClosed // the client went away before an answer
			case status == 0:
				status = http.StatusOK
			}
			elapsed := now().Sub(start)
			attrs := []slog.Attr{
				slog.String("request_id", reqid.From(r.Context())),
				slog.String("method", r.Method),
				slog.String("path", redactPath(r.URL.Path)),
				slog.Int("status", status),
				slog.Int64("bytes", sw.bytes),
				slog.Duration("duration", elapsed),
			}
			if info.Provider != "" {
				attrs = append(attrs,
					slog.String("tenant", info.Tenant),
					slog.String("provider", info.Provider),
					slog.String("model", scrub(info.Model)),
					slog.String("key_source", info.KeySource))
			}
			logger.LogAttrs(r.Context(), slog.LevelInfo, "request", attrs...)
			if d.ObserveAPI != nil && strings.HasPrefix(r.URL.Path, "/api/v1/") {
				d.ObserveAPI(r.Pattern, r.Method, status, elapsed)
			}
		}()
		next.ServeHTTP(sw, r)
	})
}

// withRecover turns a panic into a 500 and a log line with the stack. The
// panic value is not logged: it could hold anything.
func withRecover(logger *slog.Logger, redactPath func(string) string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				logger.ErrorContext(r.Context(), "panic serving request", "path", redactPath(r.URL.Path), "stack", string(debug.Stack()))
				writeError(w, http.StatusInternalServerError, "internal", "Internal error.")
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// withClient returns ctx telling the authentication throttle (auth.Guard)
// who r's client is: the IP of the connection's peer. Headers such as
// X-Forwarded-For are not read: any client can set them, and would pick the
// address its failures count against. A refusal sets Retry-After on w's
// answer, which the API or the proxy then writes in its own shape.
func withClient(ctx context.Context, w http.ResponseWriter, r *http.Request) context.Context {
	return auth.WithClient(ctx, &auth.Client{Addr: clientIP(r.RemoteAddr), Refused: retryAfter(w.Header())})
}

// retryAfter sets the Retry-After header of a refused answer. (A map type:
// making it an auth.Refusal allocates nothing.)
type retryAfter http.Header

// Refused implements auth.Refusal.
func (h retryAfter) Refused(wait time.Duration) {
	http.Header(h).Set("Retry-After", auth.RetryAfter(wait))
}

// clientIP returns the host of a RemoteAddr ("ip:port"), or the whole
// string if it has no port.
func clientIP(remote string) string {
	if host, _, err := net.SplitHostPort(remote); err == nil {
		return host
	}
	return remote
}

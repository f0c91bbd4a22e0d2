// SPDX-License-Identifier: Apache-2.0

package api

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/keygate/keygate"
)

// StatusOf returns the HTTP status of an error code (keygate.HTTPStatus).
func StatusOf(code string) int { return keygate.HTTPStatus(code) }

// unreachable reports whether err comes from storage being out of reach:
// a network error in its chain, or storage failing its own health check.
func (a *API) unreachable(r *http.Request, err error) bool {
	var netErr *net.OpError
	if errors.As(err, &netErr) {
		return true
	}
	if a.d.Ready == nil {
		return false
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), time.Second)
	defer cancel()
	return a.d.Ready(ctx) != nil
}

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	if keygate.ErrorCode(err) == keygate.CodeInternal && a.unreachable(r, err) {
		// Storage cannot be reached: a retryable 503, not a bug.
		err = keygate.Unavailable("reach storage", err)
	}
	code := keygate.ErrorCode(err)
	status := StatusOf(code)
	if code == keygate.CodeInternal || code == keygate.CodeUnavailable {
		// The full error stays in the server log; the caller gets the code.
		a.d.Logger.ErrorContext(r.Context(), "api error", "method", r.Method, "path", a.d.Providers.RedactPath(r.URL.Path), "err", err)
	}
	WriteJSON(w, status, errorBody{Error: errorDetail{Code: code, Message: a.scrubMessage(keygate.ErrorMessage(err))}})
}

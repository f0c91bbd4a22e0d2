package api

import (
	"errors"
	"net"
	"net/http"

	"github.com/keygate/keygate"
)

// StatusOf returns the HTTP status of an error code (keygate.HTTPStatus).
func StatusOf(code string) int { return keygate.HTTPStatus(code) }

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var netErr *net.OpError
	if keygate.ErrorCode(err) == keygate.CodeInternal && errors.As(err, &netErr) {
		// Storage (or another backing service) cannot be reached: a
		// retryable 503, not a bug.
		err = keygate.Unavailable("reach a backing service", err)
	}
	code := keygate.ErrorCode(err)
	status := StatusOf(code)
	if code == keygate.CodeInternal || code == keygate.CodeUnavailable {
		// The full error stays in the server log; the caller gets the code.
		a.d.Logger.ErrorContext(r.Context(), "api error", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeJSON(w, status, errorBody{Error: errorDetail{Code: code, Message: keygate.ErrorMessage(err)}})
}

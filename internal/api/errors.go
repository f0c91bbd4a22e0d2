package api

import (
	"net/http"

	"github.com/keygate/keygate"
)

// statusOf maps every error code to its HTTP status: the one table.
var statusOf = map[string]int{
	keygate.CodeInvalidRequest:     http.StatusBadRequest,
	keygate.CodeInvalidJSON:        http.StatusBadRequest,
	keygate.CodeBodyTooLarge:       http.StatusRequestEntityTooLarge,
	keygate.CodeUnknownProvider:    http.StatusBadRequest,
	keygate.CodeInvalidKeyFormat:   http.StatusUnprocessableEntity,
	keygate.CodeNotFound:           http.StatusNotFound,
	keygate.CodeConflict:           http.StatusConflict,
	keygate.CodeUnauthorized:       http.StatusUnauthorized,
	keygate.CodeForbidden:          http.StatusForbidden,
	keygate.CodeProviderKeyMissing: http.StatusBadRequest,
	keygate.CodeBudgetExceeded:     http.StatusTooManyRequests,
	keygate.CodeRateLimited:        http.StatusTooManyRequests,
	keygate.CodeUnavailable:        http.StatusServiceUnavailable,
	keygate.CodeUnsupported:        http.StatusNotImplemented,
	keygate.CodeInternal:           http.StatusInternalServerError,
}

// StatusOf returns the HTTP status of an error code (500 for unknown codes).
func StatusOf(code string) int {
	if s, ok := statusOf[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code := keygate.ErrorCode(err)
	status := StatusOf(code)
	if code == keygate.CodeInternal {
		// The full error stays in the server log; the caller gets the code.
		a.d.Logger.ErrorContext(r.Context(), "api error", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeJSON(w, status, errorBody{Error: errorDetail{Code: code, Message: keygate.ErrorMessage(err)}})
}

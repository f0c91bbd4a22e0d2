package api

import (
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
	code := keygate.ErrorCode(err)
	status := StatusOf(code)
	if code == keygate.CodeInternal {
		// The full error stays in the server log; the caller gets the code.
		a.d.Logger.ErrorContext(r.Context(), "api error", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeJSON(w, status, errorBody{Error: errorDetail{Code: code, Message: keygate.ErrorMessage(err)}})
}

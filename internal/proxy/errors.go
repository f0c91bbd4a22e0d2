// SPDX-License-Identifier: Apache-2.0

package proxy

import (
	"encoding/json"
	"net/http"

	"github.com/keygate/keygate"
)

// dialect is the error shape a caller's SDK understands.
type dialect int

const (
	dialectOpenAI    dialect = iota // {"error": {"message", "type", "param", "code"}}
	dialectAnthropic                // {"type": "error", "error": {"type", "message"}}
)

// openAIType maps a keygate code to the OpenAI error type its SDK expects.
func openAIType(status int) string {
	switch status {
	case 400, 404, 408, 413, 422:
		return "invalid_request_error"
	case 401:
		return "authentication_error"
	case 403:
		return "permission_error"
	case 429:
		return "rate_limit_error"
	}
	return "api_error"
}

// anthropicType maps a status to the Anthropic error type its SDK expects.
func anthropicType(status int) string {
	switch status {
	case 400, 408, 413, 422:
		return "invalid_request_error"
	case 401:
		return "authentication_error"
	case 403:
		return "permission_error"
	case 404:
		return "not_found_error"
	case 429:
		return "rate_limit_error"
	case 529, 503:
		return "overloaded_error"
	}
	return "api_error"
}

type openAIError struct {
	Error openAIErrorBody `json:"error"`
}

type openAIErrorBody struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    string  `json:"code"`
}

type anthropicError struct {
	Type  string             `json:"type"`
	Error anthropicErrorBody `json:"error"`
}

type anthropicErrorBody struct {
	Type    string `json:"type"`
	Message string `json:"message"`
	Code    string `json:"code"`
}

// writeError answers with err in the caller's dialect: the keygate code
// and its safe message; internal details stay out.
func writeError(w http.ResponseWriter, r *http.Request, d dialect, err error) {
	code := keygate.ErrorCode(err)
	status := keygate.HTTPStatus(code)
	msg := keygate.ErrorMessage(err)
	var body any
	switch d {
	case dialectAnthropic:
		body = anthropicError{Type: "error", Error: anthropicErrorBody{Type: anthropicType(status), Message: msg, Code: code}}
	default:
		body = openAIError{Error: openAIErrorBody{Message: msg, Type: openAIType(status), Code: code}}
	}
	b, _ := json.Marshal(body)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	if h.Get(headerKeySource) == "" {
		h.Set(headerKeySource, "none")
	}
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

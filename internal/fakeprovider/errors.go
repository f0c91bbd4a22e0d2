// SPDX-License-Identifier: Apache-2.0

package fakeprovider

import (
	"fmt"
	"net/http"

	"github.com/keygate/keygate/internal/provider"
)

// fail answers with the provider's own error shape.
func (x *exchange) fail(status int, msg string) {
	writeJSON(x.w, status, errorBody(x.p, status, msg, x.id("req")))
}

// errorBody returns the JSON error the provider answers with. Providers
// known to differ get their shape; the rest follow their usage dialect.
func errorBody(p provider.Provider, status int, msg, reqID string) any {
	switch p.Name {
	case "deepgram":
		return map[string]any{"err_code": deepgramCode(status), "err_msg": msg, "request_id": reqID}
	case "elevenlabs":
		return map[string]any{"detail": map[string]any{"status": snake(status), "message": msg}}
	case "exa":
		return map[string]any{"requestId": reqID, "error": msg, "tag": snake(status)}
	case "mistral":
		return map[string]any{"object": "error", "message": msg, "type": snake(status), "param": nil, "code": fmt.Sprint(status)}
	case "openrouter":
		return map[string]any{"error": map[string]any{"message": msg, "code": status}}
	}
	switch p.Usage {
	case provider.UsageAnthropic:
		return map[string]any{
			"type":       "error",
			"error":      map[string]any{"type": anthropicType(status), "message": msg},
			"request_id": reqID,
		}
	case provider.UsageGemini:
		return map[string]any{"error": map[string]any{
			"code": status, "message": msg, "status": googleStatus(status),
		}}
	default:
		code := any(nil)
		if status == http.StatusUnauthorized {
			code = "invalid_api_key"
		}
		return map[string]any{"error": map[string]any{
			"message": msg, "type": openAIType(status), "param": nil, "code": code,
		}}
	}
}

func openAIType(status int) string {
	switch {
	case status == http.StatusUnauthorized:
		return "invalid_request_error"
	case status == http.StatusTooManyRequests:
		return "rate_limit_exceeded"
	case status >= 500:
		return "server_error"
	default:
		return "invalid_request_error"
	}
}

func anthropicType(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "invalid_request_error"
	case http.StatusUnauthorized:
		return "authentication_error"
	case http.StatusForbidden:
		return "permission_error"
	case http.StatusNotFound:
		return "not_found_error"
	case http.StatusTooManyRequests:
		return "rate_limit_error"
	case 529:
		return "overloaded_error"
	default:
		return "api_error"
	}
}

func googleStatus(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "INVALID_ARGUMENT"
	case http.StatusUnauthorized:
		return "UNAUTHENTICATED"
	case http.StatusForbidden:
		return "PERMISSION_DENIED"
	case http.StatusNotFound:
		return "NOT_FOUND"
	case http.StatusTooManyRequests:
		return "RESOURCE_EXHAUSTED"
	case http.StatusServiceUnavailable:
		return "UNAVAILABLE"
	default:
		return "INTERNAL"
	}
}

func deepgramCode(status int) string {
	switch status {
	case http.StatusUnauthorized:
		return "INVALID_AUTH"
	case http.StatusTooManyRequests:
		return "TOO_MANY_REQUESTS"
	default:
		return snake(status)
	}
}

func snake(status int) string {
	switch status {
	case http.StatusUnauthorized:
		return "invalid_api_key"
	case http.StatusTooManyRequests:
		return "rate_limited"
	case http.StatusBadRequest:
		return "invalid_request"
	default:
		return "server_error"
	}
}

// SPDX-License-Identifier: Apache-2.0

package keygate

import (
	"errors"
	"fmt"
)

// Error codes. They are part of the API contract: clients branch on them, so
// a code is never renamed or reused for something else.
const (
	CodeInvalidRequest     = "invalid_request"      // malformed or out-of-range input
	CodeInvalidJSON        = "invalid_json"         // a body that is not the JSON the endpoint takes
	CodeBodyTooLarge       = "body_too_large"       // a body over the endpoint's limit
	CodeRequestTimeout     = "request_timeout"      // a body that did not arrive within the body read timeout
	CodeUnknownProvider    = "unknown_provider"     // a provider that is not in the catalog
	CodeInvalidKeyFormat   = "invalid_key_format"   // a provider key that fails the format check
	CodeNotFound           = "not_found"            // the named tenant, key or token does not exist
	CodeConflict           = "conflict"             // a unique name is taken, or a concurrent change won
	CodeUnauthorized       = "unauthorized"         // no token, or a token that is not valid
	CodeForbidden          = "forbidden"            // a valid token without the right for this
	CodeProviderKeyMissing = "provider_key_missing" // no key may be used for this provider and tenant
	CodeBudgetExceeded     = "budget_exceeded"      // the tenant's platform budget is spent
	CodeRateLimited        = "rate_limited"         // the tenant's rate limit is reached
	CodeUnavailable        = "unavailable"          // a dependency (storage, master key) is not reachable
	CodeUnsupported        = "unsupported"          // the operation is not possible with this configuration
	CodeUnknownModel       = "unknown_model"        // a model name no provider is routed for
	CodeKeyRejected        = "key_rejected"         // the provider refused the key when it was tested
	CodeUpstreamError      = "upstream_error"       // the provider could not be reached or broke off
	CodeInternal           = "internal"             // anything else; details are logged server-side only
	CodeKeyUnreadable      = "key_unreadable"       // a stored key that cannot be decrypted with the master keys at hand
	CodeTokenExpired       = "token_expired"        // a token past its expiry
	CodeAuthThrottled      = "auth_throttled"       // too many failed authentications from this client address
	CodeTokenScopeProvider = "token_scope_provider" // the gateway token may not call this provider
	CodeTokenScopeModel    = "token_scope_model"    // the gateway token may not call this model
	CodeModelUnpriced      = "model_unpriced"       // a platform-paid call keygate has no price for, refused by the operator's rule
)

// HTTPStatus maps every error code to its HTTP status: the one table that
// every transport uses. Unknown codes are 500.
func HTTPStatus(code string) int {
	switch code {
	case CodeInvalidRequest, CodeInvalidJSON, CodeUnknownProvider, CodeUnknownModel, CodeProviderKeyMissing:
		return 400
	case CodeUnauthorized, CodeTokenExpired:
		return 401
	case CodeForbidden,
		CodeTokenScopeProvider, CodeTokenScopeModel:
		return 403
	case CodeNotFound:
		return 404
	case CodeRequestTimeout:
		return 408
	case CodeConflict:
		return 409
	case CodeBodyTooLarge:
		return 413
	case CodeInvalidKeyFormat, CodeKeyRejected:
		return 422
	case CodeModelUnpriced:
		// Well-formed, but not a call the platform pays for; not 429 (an
		// SDK would retry it in vain) nor 402 (no standard meaning).
		return 422
	case CodeBudgetExceeded, CodeRateLimited, CodeAuthThrottled:
		return 429
	case CodeUnsupported:
		return 501
	case CodeUpstreamError:
		return 502
	case CodeUnavailable:
		return 503
	}
	return 500
}

// Error is the error type whose code and message may be shown to a caller.
// The message must never contain a secret. Any other error reaches callers as
// CodeInternal with a generic message, and is logged in full server-side.
type Error struct {
	Code    string
	Message string
}

// Error implements error.
func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Message) }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, "" for nil,
// and CodeInternal for any other error.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// ErrorMessage returns the message of the first *Error in err's chain, and a
// generic message for any other error, so internal details never reach a
// caller.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}

// IsCode reports whether err carries the given code.
func IsCode(err error, code string) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}

// Unavailable wraps err, a failure to reach a dependency (storage, a
// counter backend), as CodeUnavailable with a generic message for the
// caller; the original error stays in the chain for the server's log.
func Unavailable(what string, err error) error {
	return &unavailableError{msg: what, err: err}
}

type unavailableError struct {
	msg string
	err error
}

func (e *unavailableError) Error() string { return e.msg + ": " + e.err.Error() }

func (e *unavailableError) Unwrap() []error {
	return []error{&Error{Code: CodeUnavailable, Message: "A backing service of keygate is not reachable; try again shortly."}, e.err}
}

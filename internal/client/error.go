// SPDX-License-Identifier: Apache-2.0

package client

import (
	"errors"
	"fmt"

	"github.com/keygate/keygate"
)

// Error is the error every Client method returns when a call fails. Status is
// the HTTP status of the answer, or 0 when none was received (the server was
// not reachable, the context ended, or the request was refused before it was
// sent). When the server answered with an error, Err is the *keygate.Error
// holding its code and message; otherwise Err is what went wrong.
type Error struct {
	Method string // HTTP method of the call
	Path   string // request path, e.g. /api/v1/tenants/acme
	Status int
	Err    error
}

// Error implements error. It names the call, the status and the cause, and
// never contains a request body.
func (e *Error) Error() string {
	if e.Status == 0 {
		return fmt.Sprintf("%s %s: %v", e.Method, e.Path, e.Err)
	}
	return fmt.Sprintf("%s %s: %d: %v", e.Method, e.Path, e.Status, e.Err)
}

// Unwrap returns the cause, so errors.As finds the *keygate.Error and
// errors.Is finds context.Canceled.
func (e *Error) Unwrap() error { return e.Err }

// Code returns the keygate error code of the failure: the server's code when
// it answered with one, CodeUnavailable when no answer was received (other
// than a client-side refusal, which carries its own code), and CodeInternal
// otherwise (an answer that could not be decoded).
func (e *Error) Code() string {
	var ke *keygate.Error
	switch {
	case errors.As(e.Err, &ke):
		return ke.Code
	case e.Status == 0:
		return keygate.CodeUnavailable
	}
	return keygate.CodeInternal
}

// Message returns the user-facing message of the failure: the server's
// message, or the cause's text when the server gave none.
func (e *Error) Message() string {
	var ke *keygate.Error
	if errors.As(e.Err, &ke) {
		return ke.Message
	}
	return e.Error()
}

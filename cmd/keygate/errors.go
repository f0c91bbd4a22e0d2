// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/client"
)

// Exit codes. Scripts rely on them: never renumber. Documented in the usage
// text and docs/cli.md.
const (
	exitOK           = 0
	exitFailure      = 1 // server, network or internal failure
	exitUsage        = 2 // bad command, flags or arguments
	exitNotFound     = 3 // not_found
	exitUnauthorized = 4 // unauthorized or forbidden
	exitConflict     = 5 // conflict
	exitInvalid      = 6 // input the server rejected
)

// Codes the CLI prints for outcomes it detects itself; they are not API
// codes. Scripts may match them: never rename.
const (
	codeUsage           = "usage"            // a command-line mistake (exit 2)
	codeKeyUnverifiable = "key_unverifiable" // key test: the provider could not judge the key (exit 1)
	codeKeysRed         = "keys_red"         // health --fail-on-red: a key is red (exit 1)
)

// usageError marks a usage error: bad command, flags or arguments (exit 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// usagef returns a usageError with a formatted message.
func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// cliError is a failure the CLI itself detects, with the code to print and the
// exit code to return.
type cliError struct {
	code string
	msg  string
	exit int
}

func (e *cliError) Error() string { return e.msg }

// exitCodeFor maps an error code to the exit code.
func exitCodeFor(code string) int {
	switch code {
	case "":
		return exitOK
	case codeUsage:
		return exitUsage
	case keygate.CodeNotFound:
		return exitNotFound
	case keygate.CodeUnauthorized, keygate.CodeForbidden:
		return exitUnauthorized
	case keygate.CodeConflict:
		return exitConflict
	case keygate.CodeInvalidRequest, keygate.CodeInvalidJSON, keygate.CodeInvalidKeyFormat,
		keygate.CodeUnknownProvider, keygate.CodeBodyTooLarge, keygate.CodeKeyRejected:
		return exitInvalid
	}
	return exitFailure
}

// describe returns the message, the code and the exit code of err.
func describe(err error) (msg, code string, exit int) {
	var (
		ue usageError
		ce *cliError
		ae *client.Error
		ke *keygate.Error
	)
	switch {
	case err == nil:
		return "", "", exitOK
	case errors.As(err, &ue):
		return ue.Error(), codeUsage, exitUsage
	case errors.As(err, &ce):
		return ce.msg, ce.code, ce.exit
	case errors.Is(err, context.Canceled):
		return "interrupted", "canceled", exitFailure
	case errors.As(err, &ae):
		code := ae.Code()
		return ae.Message(), code, exitCodeFor(code)
	case errors.As(err, &ke):
		return ke.Message, ke.Code, exitCodeFor(ke.Code)
	}
	return err.Error(), keygate.CodeInternal, exitFailure
}

// report prints err as "keygate: <message> (<code>)" on w, with a pointer to
// the help for usage errors, and returns the exit code (0 for nil).
func report(w io.Writer, err error) int {
	if err == nil {
		return exitOK
	}
	msg, code, exit := describe(err)
	fmt.Fprintf(w, "keygate: %s (%s)\n", termSafe(msg), termSafe(code))
	if exit == exitUsage {
		fmt.Fprintln(w, "Run 'keygate help' for usage.")
	}
	return exit
}

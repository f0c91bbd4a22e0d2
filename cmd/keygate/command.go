// SPDX-License-Identifier: Apache-2.0

package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/keygate/keygate/internal/client"
)

// The steps every client command takes, in the same order: parse its flags
// and positional arguments, find every usage error before connecting (so a
// mistake exits 2 without a word to the server), connect, send, and print
// the answer as JSON (--json) or as text. A command function states only
// what is its own (its flags, its checks, its request, its text) and leaves
// the steps to the helpers below.

// parseArgs parses args with fs, the flag set of cmd (see flagSet), and
// returns the positional arguments, of which there must be exactly n: a
// usage error names what is missing (what) or the first argument too many.
// On -h/--help it returns flag.ErrHelp after printing the command's usage.
func (c *cli) parseArgs(cmd *command, fs *flag.FlagSet, args []string, n int, what string) ([]string, error) {
	pos, err := c.parse(cmd, fs, args)
	if err != nil {
		return nil, err
	}
	return pos, wantArgs(cmd, pos, n, what)
}

// tenantUsage is the help of a required --tenant flag.
const tenantUsage = "the tenant (id or name) (required)"

// requireTenant returns a usage error when the required --tenant flag was
// not given.
func requireTenant(cmd *command, tenant string) error {
	if tenant == "" {
		return usagef("%s: --tenant is required", cmd.name())
	}
	return nil
}

// parseTenant is parseArgs for a command on one tenant that takes no
// positional arguments: it adds the required --tenant flag (usage is its
// help) to fs, parses args and returns the tenant.
func (c *cli) parseTenant(cmd *command, fs *flag.FlagSet, args []string, usage string) (string, error) {
	tenant := fs.String("tenant", "", usage)
	if _, err := c.parseArgs(cmd, fs, args, 0, ""); err != nil {
		return "", err
	}
	return *tenant, requireTenant(cmd, *tenant)
}

// view is how a command prints an answer of type T.
type view[T any] struct {
	// json returns the document --json prints; nil prints the answer as it
	// is. A list command wraps its slice in the API's list object, never
	// null (see nonNil).
	json func(T) any
	// text prints the answer for people on w, the standard output.
	text func(w io.Writer, v T) error
	// verdict returns the error that fails the command, once the answer is
	// printed in either form, for an answer that must not exit 0 (a broken
	// audit chain, a rejected key); nil for a command that any answer
	// satisfies.
	verdict func(T) error
}

// print prints v on standard output, with --json as one JSON document, else
// as text, and then returns the verdict on v.
func (vw view[T]) print(c *cli, v T) error {
	var err error
	switch {
	case !c.jsonOut:
		err = vw.text(c.stdout, v)
	case vw.json != nil:
		err = writeJSON(c.stdout, vw.json(v))
	default:
		err = writeJSON(c.stdout, v)
	}
	if err != nil || vw.verdict == nil {
		return err
	}
	return vw.verdict(v)
}

// nonNil returns s, or an empty slice for nil, so that JSON output says []
// rather than null.
func nonNil[E any](s []E) []E {
	if s == nil {
		return []E{}
	}
	return s
}

// request connects to the server, sends one request and prints its answer
// with vw. The command has checked its flags and arguments already.
func request[T any](c *cli, send func(api *client.Client) (T, error), vw view[T]) error {
	api, err := c.client()
	if err != nil {
		return err
	}
	v, err := send(api)
	if err != nil {
		return err
	}
	return vw.print(c, v)
}

// act connects to the server, sends one request that has no answer (a
// delete, a revocation) and prints the line format says of what was done.
// It prints no JSON: these commands take no --json.
func (c *cli) act(send func(api *client.Client) error, format string, a ...any) error {
	api, err := c.client()
	if err != nil {
		return err
	}
	if err := send(api); err != nil {
		return err
	}
	_, err = fmt.Fprintf(c.stdout, format, a...)
	return err
}

// SPDX-License-Identifier: Apache-2.0

// Command keygate is the keygate server and its command-line client.
//
// `keygate serve` runs the server. Every other command, `keygate <noun>
// <verb>`, is a client of the management API of a running server, addressed
// by KEYGATE_ADDR and authenticated by KEYGATE_TOKEN. See `keygate help` and
// docs/cli.md.
package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(report(os.Stderr, err))
}

// run runs one keygate command: `serve` starts the server, anything else is
// the CLI. It returns nil on success; report turns an error into the message
// on stderr and the exit code.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "serve" {
		return runServe(ctx, args[1:], getenv, stdout, stderr)
	}
	c := &cli{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr, now: time.Now}
	return c.run(ctx, args)
}

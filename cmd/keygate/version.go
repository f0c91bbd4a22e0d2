// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"fmt"

	"github.com/keygate/keygate/internal/version"
)

// versionCmd is `keygate version [--json]`: this binary's version, commit,
// build date, Go version and platform (internal/version says where each
// comes from).
func versionCmd(_ context.Context, c *cli, cmd *command, args []string) error {
	if _, err := c.parseArgs(cmd, c.flagSet(cmd), args, 0, ""); err != nil {
		return err
	}
	in := version.Get()
	if c.jsonOut {
		return writeJSON(c.stdout, in)
	}
	_, err := fmt.Fprintln(c.stdout, in.String())
	return err
}

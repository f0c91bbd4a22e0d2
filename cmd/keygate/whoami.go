// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"io"

	"github.com/keygate/keygate/internal/client"
)

func whoami(ctx context.Context, c *cli, cmd *command, args []string) error {
	if _, err := c.parseArgs(cmd, c.flagSet(cmd), args, 0, ""); err != nil {
		return err
	}
	return request(c, func(api *client.Client) (client.Identity, error) {
		return api.WhoAmI(ctx)
	}, view[client.Identity]{text: func(w io.Writer, id client.Identity) error {
		// c.server is the address the client resolved: the API's base URL.
		kv := []string{"token", id.TokenID, "name", id.Name, "role", string(id.Role), "tenant", string(id.Tenant), "server", c.server}
		if id.Server.Version != "" { // an older server sends no build
			kv = append(kv, "server version", serverVersion(id.Server))
		}
		return fields(w, kv...)
	}})
}

// serverVersion is the server's build as whoami shows it: the version and
// the commit's first 12 digits.
func serverVersion(b client.ServerBuild) string {
	v := b.Version
	if c := b.Commit; c != "" {
		v += " (commit " + c[:min(len(c), 12)] + ")"
	}
	return v
}

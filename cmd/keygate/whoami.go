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
		return fields(w, "token", id.TokenID, "name", id.Name, "role", string(id.Role), "tenant", string(id.Tenant), "server", c.server)
	}})
}

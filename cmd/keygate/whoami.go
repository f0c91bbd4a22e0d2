package main

import "context"

func whoami(ctx context.Context, c *cli, cmd *command, args []string) error {
	fs := c.flagSet(cmd)
	pos, err := c.parse(cmd, fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(cmd, pos, 0, ""); err != nil {
		return err
	}
	api, err := c.client()
	if err != nil {
		return err
	}
	id, err := api.WhoAmI(ctx)
	if err != nil {
		return err
	}
	if c.jsonOut {
		return writeJSON(c.stdout, id)
	}
	return fields(c.stdout, "token", id.TokenID, "name", id.Name, "role", string(id.Role), "tenant", string(id.Tenant), "server", api.BaseURL())
}

package main

import (
	"context"
	"fmt"
	"strconv"
)

func masterKeyStatus(ctx context.Context, c *cli, cmd *command, args []string) error {
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
	m, err := api.MasterKeyStatus(ctx)
	if err != nil {
		return err
	}
	if c.jsonOut {
		return writeJSON(c.stdout, m)
	}
	return fields(c.stdout, "primary", m.Primary, "kind", m.Kind, "pending rewrap", strconv.FormatInt(m.PendingRewrap, 10))
}

func masterKeyRotate(ctx context.Context, c *cli, cmd *command, args []string) error {
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
	r, err := api.RotateMasterKey(ctx)
	if err != nil {
		return err
	}
	if c.jsonOut {
		return writeJSON(c.stdout, r)
	}
	_, err = fmt.Fprintf(c.stdout, "rotated master key %s -> %s; %d data keys pending rewrap (see keygate master-key status)\n", r.Previous, r.Primary, r.PendingRewrap)
	return err
}

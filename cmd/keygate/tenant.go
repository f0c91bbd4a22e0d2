package main

import (
	"context"
	"fmt"
	"strconv"

	"github.com/keygate/keygate/internal/client"
)

func tenantCreate(ctx context.Context, c *cli, cmd *command, args []string) error {
	fs := c.flagSet(cmd)
	var byok optionalBool
	fs.Var(&byok, "byok", "grant BYOK (true or false; default: the server's setting)")
	pos, err := c.parse(cmd, fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(cmd, pos, 1, "tenant NAME"); err != nil {
		return err
	}
	api, err := c.client()
	if err != nil {
		return err
	}
	t, err := api.CreateTenant(ctx, client.CreateTenantParams{Name: pos[0], BYOKEnabled: byok.ptr()})
	if err != nil {
		return err
	}
	if c.jsonOut {
		return writeJSON(c.stdout, t)
	}
	_, err = fmt.Fprintln(c.stdout, t.ID)
	return err
}

func tenantList(ctx context.Context, c *cli, cmd *command, args []string) error {
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
	ts, err := api.ListTenants(ctx)
	if err != nil {
		return err
	}
	if c.jsonOut {
		if ts == nil {
			ts = []client.Tenant{}
		}
		return writeJSON(c.stdout, client.TenantList{Tenants: ts})
	}
	return printTenants(c, ts...)
}

func printTenants(c *cli, ts ...client.Tenant) error {
	tb := newTable(c.stdout, "ID", "NAME", "BYOK", "CREATED", "UPDATED")
	for _, t := range ts {
		tb.row(string(t.ID), t.Name, strconv.FormatBool(t.BYOKEnabled), fmtTime(t.CreatedAt), fmtTime(t.UpdatedAt))
	}
	return tb.flush()
}

func tenantGet(ctx context.Context, c *cli, cmd *command, args []string) error {
	fs := c.flagSet(cmd)
	pos, err := c.parse(cmd, fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(cmd, pos, 1, "TENANT (id or name)"); err != nil {
		return err
	}
	api, err := c.client()
	if err != nil {
		return err
	}
	t, err := api.GetTenant(ctx, pos[0])
	if err != nil {
		return err
	}
	if c.jsonOut {
		return writeJSON(c.stdout, t)
	}
	return printTenants(c, t)
}

func tenantUpdate(ctx context.Context, c *cli, cmd *command, args []string) error {
	fs := c.flagSet(cmd)
	var byok optionalBool
	fs.Var(&byok, "byok", "grant (true) or withdraw (false) BYOK")
	pos, err := c.parse(cmd, fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(cmd, pos, 1, "TENANT (id or name)"); err != nil {
		return err
	}
	if !byok.set {
		return usagef("%s: nothing to change: give --byok=true or --byok=false", cmd.name())
	}
	api, err := c.client()
	if err != nil {
		return err
	}
	t, err := api.UpdateTenant(ctx, pos[0], client.TenantUpdate{BYOKEnabled: byok.ptr()})
	if err != nil {
		return err
	}
	if c.jsonOut {
		return writeJSON(c.stdout, t)
	}
	return printTenants(c, t)
}

func tenantRm(ctx context.Context, c *cli, cmd *command, args []string) error {
	fs := c.flagSet(cmd)
	pos, err := c.parse(cmd, fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(cmd, pos, 1, "TENANT (id or name)"); err != nil {
		return err
	}
	api, err := c.client()
	if err != nil {
		return err
	}
	if err := api.DeleteTenant(ctx, pos[0]); err != nil {
		return err
	}
	_, err = fmt.Fprintf(c.stdout, "deleted tenant %s\n", pos[0])
	return err
}

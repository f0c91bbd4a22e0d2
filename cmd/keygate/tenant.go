package main

import (
	"context"
	"fmt"
	"strconv"

	"github.com/keygate/keygate"
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
	tb := newTable(c.stdout, "ID", "NAME", "BYOK", "KEY ADMINS", "CREATED", "UPDATED")
	for _, t := range ts {
		tb.row(string(t.ID), t.Name, strconv.FormatBool(t.BYOKEnabled), string(t.KeyAdmins), fmtTime(t.CreatedAt), fmtTime(t.UpdatedAt))
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

// tenantUpdate changes a tenant's BYOK entitlement (platform admins) and
// who may manage its keys (platform admins and the tenant's owner).
func tenantUpdate(ctx context.Context, c *cli, cmd *command, args []string) error {
	fs := c.flagSet(cmd)
	var byok optionalBool
	fs.Var(&byok, "byok", "grant (true) or withdraw (false) BYOK (platform admins)")
	keyAdmins := fs.String("key-admins", "", "who may change the tenant's keys: owner_and_admin or owner_only (platform admins and the tenant's owner)")
	pos, err := c.parse(cmd, fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(cmd, pos, 1, "TENANT (id or name)"); err != nil {
		return err
	}
	if !byok.set && *keyAdmins == "" {
		return usagef("%s: nothing to change: give --byok=true|false or --key-admins owner_and_admin|owner_only", cmd.name())
	}
	u := client.TenantUpdate{BYOKEnabled: byok.ptr()}
	if *keyAdmins != "" {
		ka, err := keygate.ParseKeyAdmins(*keyAdmins)
		if err != nil {
			return usagef("%s: --key-admins must be %s or %s", cmd.name(), keygate.KeyAdminsOwnerAndAdmin, keygate.KeyAdminsOwnerOnly)
		}
		u.KeyAdmins = ka
	}
	api, err := c.client()
	if err != nil {
		return err
	}
	t, err := api.UpdateTenant(ctx, pos[0], u)
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

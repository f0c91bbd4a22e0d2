// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"fmt"
	"io"
	"strconv"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/client"
)

// tenantRef names the TENANT argument in errors.
const tenantRef = "TENANT (id or name)"

// tenantView prints one tenant as a table.
func tenantView() view[client.Tenant] {
	return view[client.Tenant]{text: func(w io.Writer, t client.Tenant) error { return tenantTable(w, t) }}
}

// tenantTable prints tenants as a table, one row each.
func tenantTable(w io.Writer, ts ...client.Tenant) error {
	tb := newTable(w, "ID", "NAME", "BYOK", "KEY ADMINS", "CREATED", "UPDATED")
	for _, t := range ts {
		tb.row(string(t.ID), t.Name, strconv.FormatBool(t.BYOKEnabled), string(t.KeyAdmins), fmtTime(t.CreatedAt), fmtTime(t.UpdatedAt))
	}
	return tb.flush()
}

func tenantCreate(ctx context.Context, c *cli, cmd *command, args []string) error {
	fs := c.flagSet(cmd)
	var byok optionalBool
	fs.Var(&byok, "byok", "grant BYOK (true or false; default: the server's setting)")
	pos, err := c.parseArgs(cmd, fs, args, 1, "tenant NAME")
	if err != nil {
		return err
	}
	return request(c, func(api *client.Client) (client.Tenant, error) {
		return api.CreateTenant(ctx, client.CreateTenantParams{Name: pos[0], BYOKEnabled: byok.ptr()})
	}, view[client.Tenant]{text: func(w io.Writer, t client.Tenant) error {
		// The id alone, for scripts: id=$(keygate tenant create acme).
		_, err := fmt.Fprintln(w, t.ID)
		return err
	}})
}

func tenantList(ctx context.Context, c *cli, cmd *command, args []string) error {
	if _, err := c.parseArgs(cmd, c.flagSet(cmd), args, 0, ""); err != nil {
		return err
	}
	return request(c, func(api *client.Client) ([]client.Tenant, error) {
		return api.ListTenants(ctx)
	}, view[[]client.Tenant]{
		json: func(ts []client.Tenant) any { return client.TenantList{Tenants: nonNil(ts)} },
		text: func(w io.Writer, ts []client.Tenant) error { return tenantTable(w, ts...) },
	})
}

func tenantGet(ctx context.Context, c *cli, cmd *command, args []string) error {
	pos, err := c.parseArgs(cmd, c.flagSet(cmd), args, 1, tenantRef)
	if err != nil {
		return err
	}
	return request(c, func(api *client.Client) (client.Tenant, error) {
		return api.GetTenant(ctx, pos[0])
	}, tenantView())
}

// tenantUpdate changes a tenant's BYOK entitlement (platform admins) and
// who may manage its keys (platform admins and the tenant's owner).
func tenantUpdate(ctx context.Context, c *cli, cmd *command, args []string) error {
	fs := c.flagSet(cmd)
	var byok optionalBool
	fs.Var(&byok, "byok", "grant (true) or withdraw (false) BYOK (platform admins)")
	keyAdmins := fs.String("key-admins", "", "who may change the tenant's keys: owner_and_admin or owner_only (platform admins and the tenant's owner)")
	pos, err := c.parseArgs(cmd, fs, args, 1, tenantRef)
	if err != nil {
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
	return request(c, func(api *client.Client) (client.Tenant, error) {
		return api.UpdateTenant(ctx, pos[0], u)
	}, tenantView())
}

func tenantRm(ctx context.Context, c *cli, cmd *command, args []string) error {
	pos, err := c.parseArgs(cmd, c.flagSet(cmd), args, 1, tenantRef)
	if err != nil {
		return err
	}
	return c.act(func(api *client.Client) error { return api.DeleteTenant(ctx, pos[0]) },
		"deleted tenant %s\n", pos[0])
}

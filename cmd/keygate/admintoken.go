// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/client"
)

func adminTokenCreate(ctx context.Context, c *cli, cmd *command, args []string) error {
	fs := c.flagSet(cmd)
	var p client.CreateAdminTokenParams
	var role string
	fs.StringVar(&p.Name, "name", "", "token name, e.g. ci (required)")
	fs.StringVar(&role, "role", "", "platform_admin, owner, admin or member (required)")
	fs.StringVar(&p.Tenant, "tenant", "", "tenant (id or name) of an owner, admin or member token")
	fs.StringVar(&p.ExpiresIn, "expires-in", "", "make the token expire after this long: whole days (90d) or a duration (12h); default: never")
	if _, err := c.parseArgs(cmd, fs, args, 0, ""); err != nil {
		return err
	}
	p.Role = keygate.Role(role)
	switch {
	case p.Name == "":
		return usagef("%s: --name is required", cmd.name())
	case !p.Role.Valid():
		return usagef("%s: --role must be platform_admin, owner, admin or member", cmd.name())
	case p.Role == keygate.RolePlatformAdmin && p.Tenant != "":
		return usagef("%s: a platform_admin token has no --tenant", cmd.name())
	case p.Role != keygate.RolePlatformAdmin && p.Tenant == "":
		return usagef("%s: --tenant is required for role %s", cmd.name(), p.Role)
	}
	return request(c, func(api *client.Client) (client.NewAdminToken, error) {
		return api.CreateAdminToken(ctx, p)
	}, view[client.NewAdminToken]{
		json: func(nt client.NewAdminToken) any {
			return struct {
				client.AdminToken
				Token string `json:"token"`
			}{nt.AdminToken, nt.Token.Reveal()}
		},
		text: func(w io.Writer, nt client.NewAdminToken) error {
			who := string(nt.Role)
			if nt.Tenant != "" {
				who += " of " + string(nt.Tenant)
			}
			fmt.Fprintf(c.stderr, "created admin token %s (%s, %s); it is shown only once, store it now:\n", termSafe(nt.ID), termSafe(nt.Name), termSafe(who))
			_, err := fmt.Fprintln(w, nt.Token.Reveal())
			return err
		},
	})
}

func adminTokenList(ctx context.Context, c *cli, cmd *command, args []string) error {
	fs := c.flagSet(cmd)
	tenant := fs.String("tenant", "", "only the tokens of this tenant (id or name)")
	if _, err := c.parseArgs(cmd, fs, args, 0, ""); err != nil {
		return err
	}
	return request(c, func(api *client.Client) ([]client.AdminToken, error) {
		return api.ListAdminTokens(ctx, *tenant)
	}, view[[]client.AdminToken]{
		json: func(ts []client.AdminToken) any { return client.AdminTokenList{Tokens: nonNil(ts)} },
		text: func(w io.Writer, ts []client.AdminToken) error {
			tb := newTable(w, "ID", "NAME", "ROLE", "TENANT", "CREATED", "EXPIRES", "LAST USED", "REVOKED")
			for _, t := range ts {
				tb.row(t.ID, t.Name, string(t.Role), string(t.Tenant), fmtTime(t.CreatedAt), fmtTimePtr(t.ExpiresAt), fmtTimePtr(t.LastUsedAt), fmtTimePtr(t.RevokedAt))
			}
			return tb.flush()
		},
	})
}

func adminTokenRevoke(ctx context.Context, c *cli, cmd *command, args []string) error {
	pos, err := c.parseArgs(cmd, c.flagSet(cmd), args, 1, "token ID (at_...)")
	if err != nil {
		return err
	}
	// Someone pasting the token instead of its id: do not send the secret
	// anywhere (nor echo it in an error).
	if strings.HasPrefix(pos[0], "kga_") {
		return usagef("%s: give the token's id (at_..., see keygate admin-token list), not the token itself", cmd.name())
	}
	return c.act(func(api *client.Client) error { return api.RevokeAdminToken(ctx, pos[0]) },
		"revoked admin token %s\n", pos[0])
}

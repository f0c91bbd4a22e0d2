// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/keygate/keygate/internal/client"
)

// defaultGatewayTokenName names a gateway token created without --name.
const defaultGatewayTokenName = "default"

func tokenCreate(ctx context.Context, c *cli, cmd *command, args []string) error {
	fs := c.flagSet(cmd)
	name := fs.String("name", defaultGatewayTokenName, "a name that says which app uses the token, e.g. web")
	expiresIn := fs.String("expires-in", "", "make the token expire after this long: whole days (90d) or a duration (12h); default: never")
	sf := addScopeFlags(fs)
	tenant, err := c.parseTenant(cmd, fs, args, "the tenant (id or name) whose apps will use the token (required)")
	if err != nil {
		return err
	}
	params := client.CreateGatewayTokenParams{Name: *name, ExpiresIn: *expiresIn}
	scope, err := sf.scope(cmd)
	if err != nil {
		return err
	}
	if !scope.IsZero() {
		params.Scope = &scope
	}
	return request(c, func(api *client.Client) (client.NewGatewayToken, error) {
		return api.CreateGatewayTokenWith(ctx, tenant, params)
	}, view[client.NewGatewayToken]{
		json: func(nt client.NewGatewayToken) any {
			return struct {
				client.GatewayToken
				Token string `json:"token"`
			}{nt.GatewayToken, nt.Token.Reveal()}
		},
		text: func(w io.Writer, nt client.NewGatewayToken) error {
			fmt.Fprintf(c.stderr, "created gateway token %s (%s) for tenant %s; it is shown only once, store it now:\n", termSafe(nt.ID), termSafe(nt.Name), termSafe(string(nt.Tenant)))
			_, err := fmt.Fprintln(w, nt.Token.Reveal())
			return err
		},
	})
}

func tokenList(ctx context.Context, c *cli, cmd *command, args []string) error {
	tenant, err := c.parseTenant(cmd, c.flagSet(cmd), args, tenantUsage)
	if err != nil {
		return err
	}
	return request(c, func(api *client.Client) ([]client.GatewayToken, error) {
		return api.ListGatewayTokens(ctx, tenant)
	}, view[[]client.GatewayToken]{
		json: func(ts []client.GatewayToken) any { return client.GatewayTokenList{Tokens: nonNil(ts)} },
		text: func(w io.Writer, ts []client.GatewayToken) error {
			tb := newTable(w, "ID", "NAME", "PREFIX", "CREATED", "EXPIRES", "LAST USED", "REVOKED", "SCOPE")
			for _, t := range ts {
				tb.row(t.ID, t.Name, t.Prefix, fmtTime(t.CreatedAt), fmtTimePtr(t.ExpiresAt), fmtTimePtr(t.LastUsedAt), fmtTimePtr(t.RevokedAt),
					scopeSummary(t.Scope))
			}
			return tb.flush()
		},
	})
}

func tokenRevoke(ctx context.Context, c *cli, cmd *command, args []string) error {
	fs := c.flagSet(cmd)
	tenant := fs.String("tenant", "", "the tenant (id or name) that owns the token (required)")
	pos, err := c.parseArgs(cmd, fs, args, 1, "token ID (gt_...)")
	if err != nil {
		return err
	}
	// Someone pasting the token instead of its id: do not send the secret
	// anywhere (nor echo it in an error).
	if strings.HasPrefix(pos[0], "kg_") || strings.HasPrefix(pos[0], "kga_") {
		return usagef("%s: give the token's id (gt_..., see keygate token list), not the token itself", cmd.name())
	}
	if err := requireTenant(cmd, *tenant); err != nil {
		return err
	}
	return c.act(func(api *client.Client) error { return api.RevokeGatewayToken(ctx, *tenant, pos[0]) },
		"revoked gateway token %s of tenant %s\n", pos[0], *tenant)
}

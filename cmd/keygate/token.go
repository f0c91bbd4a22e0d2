package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/keygate/keygate/internal/client"
)

// defaultGatewayTokenName names a gateway token created without --name.
const defaultGatewayTokenName = "default"

func tokenCreate(ctx context.Context, c *cli, cmd *command, args []string) error {
	fs := c.flagSet(cmd)
	tenant := fs.String("tenant", "", "the tenant (id or name) whose apps will use the token (required)")
	name := fs.String("name", defaultGatewayTokenName, "a name that says which app uses the token, e.g. web")
	pos, err := c.parse(cmd, fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(cmd, pos, 0, ""); err != nil {
		return err
	}
	if *tenant == "" {
		return usagef("%s: --tenant is required", cmd.name())
	}
	api, err := c.client()
	if err != nil {
		return err
	}
	nt, err := api.CreateGatewayToken(ctx, *tenant, *name)
	if err != nil {
		return err
	}
	if c.jsonOut {
		return writeJSON(c.stdout, struct {
			client.GatewayToken
			Token string `json:"token"`
		}{nt.GatewayToken, nt.Token.Reveal()})
	}
	fmt.Fprintf(c.stderr, "created gateway token %s (%s) for tenant %s; it is shown only once, store it now:\n", nt.ID, nt.Name, nt.Tenant)
	_, err = fmt.Fprintln(c.stdout, nt.Token.Reveal())
	return err
}

func tokenList(ctx context.Context, c *cli, cmd *command, args []string) error {
	fs := c.flagSet(cmd)
	tenant := fs.String("tenant", "", "the tenant (id or name) (required)")
	pos, err := c.parse(cmd, fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(cmd, pos, 0, ""); err != nil {
		return err
	}
	if *tenant == "" {
		return usagef("%s: --tenant is required", cmd.name())
	}
	api, err := c.client()
	if err != nil {
		return err
	}
	ts, err := api.ListGatewayTokens(ctx, *tenant)
	if err != nil {
		return err
	}
	if c.jsonOut {
		if ts == nil {
			ts = []client.GatewayToken{}
		}
		return writeJSON(c.stdout, client.GatewayTokenList{Tokens: ts})
	}
	tb := newTable(c.stdout, "ID", "NAME", "PREFIX", "CREATED", "REVOKED")
	for _, t := range ts {
		tb.row(t.ID, t.Name, t.Prefix, fmtTime(t.CreatedAt), fmtTimePtr(t.RevokedAt))
	}
	return tb.flush()
}

func tokenRevoke(ctx context.Context, c *cli, cmd *command, args []string) error {
	fs := c.flagSet(cmd)
	tenant := fs.String("tenant", "", "the tenant (id or name) that owns the token (required)")
	pos, err := c.parse(cmd, fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(cmd, pos, 1, "token ID (gt_...)"); err != nil {
		return err
	}
	// Someone pasting the token instead of its id: do not send the secret
	// anywhere (nor echo it in an error).
	if strings.HasPrefix(pos[0], "kg_") || strings.HasPrefix(pos[0], "kga_") {
		return usagef("%s: give the token's id (gt_..., see keygate token list), not the token itself", cmd.name())
	}
	if *tenant == "" {
		return usagef("%s: --tenant is required", cmd.name())
	}
	api, err := c.client()
	if err != nil {
		return err
	}
	if err := api.RevokeGatewayToken(ctx, *tenant, pos[0]); err != nil {
		return err
	}
	_, err = fmt.Fprintf(c.stdout, "revoked gateway token %s of tenant %s\n", pos[0], *tenant)
	return err
}

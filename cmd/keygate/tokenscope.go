// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/keygate/keygate/internal/client"
)

// scopeFlags are the flags that give a gateway token's scope, on `token
// create` and `token scope`.
type scopeFlags struct {
	providers, models          string
	dailyUSD, monthlyUSD       limitFlag
	dailyTokens, monthlyTokens limitFlag
	rpm, tpm                   int64
}

func addScopeFlags(fs *flag.FlagSet) *scopeFlags {
	f := &scopeFlags{dailyUSD: limitFlag{usd: true}, monthlyUSD: limitFlag{usd: true}}
	fs.StringVar(&f.providers, "providers", "", "the providers the token may call, comma-separated, e.g. openai,anthropic (default: every provider)")
	fs.StringVar(&f.models, "models", "", "the models the token may call, comma-separated: exact ids or prefixes ending in *, e.g. 'gpt-4o*,claude-sonnet-4-5' (default: every model)")
	fs.Var(&f.dailyUSD, "daily-usd", "the token's own spending limit per UTC day in US dollars, such as 5 (default: none)")
	fs.Var(&f.monthlyUSD, "monthly-usd", "the token's own spending limit per UTC month in US dollars (default: none)")
	fs.Var(&f.dailyTokens, "daily-tokens", "the token's own limit of tokens per UTC day (default: none)")
	fs.Var(&f.monthlyTokens, "monthly-tokens", "the token's own limit of tokens per UTC month (default: none)")
	fs.Int64Var(&f.rpm, "rpm", 0, "the token's own requests per minute (default: 0, no cap)")
	fs.Int64Var(&f.tpm, "tpm", 0, "the token's own tokens per minute (default: 0, no cap)")
	return f
}

// scope returns the scope the flags give.
func (f *scopeFlags) scope(cmd *command) (client.TokenScope, error) {
	if f.rpm < 0 || f.tpm < 0 {
		return client.TokenScope{}, usagef("%s: --rpm and --tpm may not be negative", cmd.name())
	}
	return client.TokenScope{
		Providers: splitList(f.providers), Models: splitList(f.models),
		DailyUSD: f.dailyUSD.applyUSD(nil), MonthlyUSD: f.monthlyUSD.applyUSD(nil),
		DailyTokens: f.dailyTokens.applyTokens(nil), MonthlyTokens: f.monthlyTokens.applyTokens(nil),
		RPM: f.rpm, TPM: f.tpm,
	}, nil
}

// splitList splits a comma-separated flag value, dropping empty entries.
func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// scopeSummary writes a scope in one cell: "-" when it restricts nothing.
func scopeSummary(s client.TokenScope) string {
	if s.IsZero() {
		return "-"
	}
	var parts []string
	if len(s.Providers) > 0 {
		parts = append(parts, "providers "+strings.Join(s.Providers, ","))
	}
	if len(s.Models) > 0 {
		parts = append(parts, "models "+strings.Join(s.Models, ","))
	}
	for _, l := range []struct {
		v    *string
		unit string
	}{{s.DailyUSD, "/day"}, {s.MonthlyUSD, "/month"}} {
		if l.v != nil {
			parts = append(parts, fmtUSD(*l.v)+l.unit)
		}
	}
	for _, l := range []struct {
		v    *int64
		unit string
	}{{s.DailyTokens, " tokens/day"}, {s.MonthlyTokens, " tokens/month"}} {
		if l.v != nil {
			parts = append(parts, strconv.FormatInt(*l.v, 10)+l.unit)
		}
	}
	if s.RPM > 0 {
		parts = append(parts, strconv.FormatInt(s.RPM, 10)+" rpm")
	}
	if s.TPM > 0 {
		parts = append(parts, strconv.FormatInt(s.TPM, 10)+" tpm")
	}
	return strings.Join(parts, "; ")
}

// tokenScope is `keygate token scope --tenant T ID [scope flags] [--clear]`:
// it replaces the token's whole scope with the one the flags give.
func tokenScope(ctx context.Context, c *cli, cmd *command, args []string) error {
	fs := c.flagSet(cmd)
	tenant := fs.String("tenant", "", "the tenant (id or name) that owns the token (required)")
	clear := fs.Bool("clear", false, "remove the scope: the token may do all its tenant may")
	f := addScopeFlags(fs)
	pos, err := c.parseArgs(cmd, fs, args, 1, "token ID (gt_...)")
	if err != nil {
		return err
	}
	if strings.HasPrefix(pos[0], "kg_") || strings.HasPrefix(pos[0], "kga_") {
		return usagef("%s: give the token's id (gt_..., see keygate token list), not the token itself", cmd.name())
	}
	if err := requireTenant(cmd, *tenant); err != nil {
		return err
	}
	s, err := f.scope(cmd)
	if err != nil {
		return err
	}
	switch {
	case *clear && !s.IsZero():
		return usagef("%s: give either --clear or the scope's flags, not both", cmd.name())
	case !*clear && s.IsZero():
		return usagef("%s: nothing to set: give --providers, --models, --daily-usd, --monthly-usd, --daily-tokens, --monthly-tokens, --rpm or --tpm (the whole scope is replaced), or --clear", cmd.name())
	}
	return request(c, func(api *client.Client) (client.GatewayToken, error) {
		return api.SetGatewayTokenScope(ctx, *tenant, pos[0], s)
	}, view[client.GatewayToken]{
		text: func(w io.Writer, t client.GatewayToken) error {
			_, err := fmt.Fprintf(w, "gateway token %s of tenant %s: scope %s\n", termSafe(t.ID), termSafe(string(t.Tenant)), termSafe(scopeSummary(t.Scope)))
			return err
		},
	})
}

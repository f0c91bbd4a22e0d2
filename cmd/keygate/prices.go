// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/keygate/keygate/internal/client"
)

// pricesImport is `keygate prices import FILE [--source litellm|openrouter]`:
// FILE ("-": standard input) is sent as it is; the server parses it.
func pricesImport(ctx context.Context, c *cli, cmd *command, args []string) error {
	fs := c.flagSet(cmd)
	source := fs.String("source", "", "the file's format: litellm (model_prices_and_context_window.json) or openrouter (GET /api/v1/models); default: told by its shape")
	pos, err := c.parseArgs(cmd, fs, args, 1, "the price list file (- for standard input)")
	if err != nil {
		return err
	}
	switch *source {
	case "", "litellm", "openrouter":
	default:
		return usagef("%s: --source: want litellm or openrouter", cmd.name())
	}
	var list []byte
	if pos[0] == "-" {
		list, err = io.ReadAll(io.LimitReader(c.stdin, client.MaxPriceListBody+1))
	} else {
		list, err = os.ReadFile(pos[0])
	}
	if err != nil {
		return usagef("%s: %v", cmd.name(), err)
	}
	return request(c, func(api *client.Client) (client.PriceImportResult, error) {
		return api.ImportPrices(ctx, *source, list)
	}, view[client.PriceImportResult]{text: func(w io.Writer, r client.PriceImportResult) error {
		v := r.Version
		skipped := make([]string, 0, len(r.Skipped))
		for why, n := range r.Skipped {
			skipped = append(skipped, fmt.Sprintf("%s: %d", why, n))
		}
		sort.Strings(skipped)
		return fields(w, "version", strconv.FormatInt(v.Version, 10), "imported", fmtTime(v.ImportedAt),
			"source", v.Source, "entries", strconv.Itoa(v.Entries), "skipped", strconv.Itoa(v.Skipped)+" ("+strings.Join(skipped, ", ")+")",
			"digest", v.Digest, "by", v.Actor)
	}})
}

// pricesList is `keygate prices list [--provider P]`: the table in effect,
// each provider's fallback price, and the imported versions.
func pricesList(ctx context.Context, c *cli, cmd *command, args []string) error {
	fs := c.flagSet(cmd)
	provider := fs.String("provider", "", "only this provider's prices")
	if _, err := c.parseArgs(cmd, fs, args, 0, ""); err != nil {
		return err
	}
	return request(c, func(api *client.Client) (client.PriceTable, error) {
		return api.Prices(ctx, *provider)
	}, view[client.PriceTable]{text: pricesText})
}

// pricesText prints a price table: one row a model, USD per million
// tokens, then the fallbacks and the version in effect.
func pricesText(w io.Writer, t client.PriceTable) error {
	tb := newTable(w, "PROVIDER", "MODEL", "INPUT/1M", "OUTPUT/1M", "CACHED/1M", "ORIGIN")
	for _, p := range t.Prices {
		tb.row(p.Provider, p.Model, fmtUSD(p.Input), fmtUSD(p.Output), fmtUSD(p.CachedInput), p.Origin)
	}
	for _, p := range t.Fallbacks {
		tb.row(p.Provider, "* (fallback)", fmtUSD(p.Input), fmtUSD(p.Output), fmtUSD(p.CachedInput), "")
	}
	if err := tb.flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	version := "none imported (built-in table)"
	if len(t.Versions) > 0 {
		v := t.Versions[0]
		version = fmt.Sprintf("%d, %s from %s (%d entries) by %s", v.Version, fmtTime(v.ImportedAt), v.Source, v.Entries, v.Actor)
	}
	return fields(w, "as of", t.AsOf, "import in effect", version)
}

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

// health is `keygate health [--tenant T | --platform | --all]`. Without a
// flag it shows the token's own tenant, or, for a platform admin, the
// platform-wide summary. It exits 0 even when keys are red, unless
// --fail-on-red is given (for monitoring scripts): then 1 (keys_red).
func health(ctx context.Context, c *cli, cmd *command, args []string) error {
	fs := c.flagSet(cmd)
	var (
		o         ownerFlags
		all       bool
		failOnRed bool
	)
	fs.StringVar(&o.tenant, "tenant", "", "the tenant (id or name) whose keys to show")
	fs.BoolVar(&o.platform, "platform", false, "the platform's shared keys")
	fs.BoolVar(&all, "all", false, "platform-wide: counts by color and every red key (platform admins)")
	fs.BoolVar(&failOnRed, "fail-on-red", false, "exit 1 if any key shown is red")
	if _, err := c.parseArgs(cmd, fs, args, 0, ""); err != nil {
		return err
	}
	given := 0
	for _, b := range []bool{o.tenant != "", o.platform, all} {
		if b {
			given++
		}
	}
	if given > 1 {
		return usagef("%s: give at most one of --tenant, --platform and --all", cmd.name())
	}
	api, err := c.client()
	if err != nil {
		return err
	}
	owner := ""
	switch {
	case o.tenant != "":
		owner = o.tenant
	case o.platform:
		owner = string(keygate.PlatformScope)
	case !all:
		// No flag: the token's own tenant, else (a platform admin) the
		// platform-wide view.
		id, err := api.WhoAmI(ctx)
		if err != nil {
			return err
		}
		owner = string(id.Tenant)
	}
	if owner == "" {
		h, err := api.PlatformHealth(ctx)
		if err != nil {
			return err
		}
		return view[client.PlatformHealth]{
			json: func(h client.PlatformHealth) any {
				h.Red = nonNil(h.Red)
				return h
			},
			text:    platformHealthText,
			verdict: func(h client.PlatformHealth) error { return keysRed(failOnRed, h.Counts.Red) },
		}.print(c, h)
	}
	h, err := api.Health(ctx, owner)
	if err != nil {
		return err
	}
	return view[client.Health]{
		json: func(h client.Health) any {
			h.Keys = nonNil(h.Keys)
			return h
		},
		text: healthText,
		verdict: func(h client.Health) error {
			red := 0
			for _, k := range h.Keys {
				if k.Color == client.ColorRed || k.Status == keygate.KeyStatusInvalid {
					red++
				}
			}
			return keysRed(failOnRed, red)
		},
	}.print(c, h)
}

// keysRed fails health --fail-on-red (failOnRed) when red keys are shown.
func keysRed(failOnRed bool, red int) error {
	if failOnRed && red > 0 {
		return &cliError{code: codeKeysRed, exit: exitFailure, msg: fmt.Sprintf("%d %s red", red, plural(red, "key is", "keys are"))}
	}
	return nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// healthText prints one owner's keys: PROVIDER STATUS HINT VERSION
// LAST_CHECKED LAST_ERROR, the status as its color word.
func healthText(w io.Writer, h client.Health) error {
	tb := newTable(w, "PROVIDER", "STATUS", "HINT", "VERSION", "LAST_CHECKED", "LAST_ERROR")
	for _, k := range h.Keys {
		tb.row(k.Provider, colorWord(k), k.Hint, strconv.Itoa(k.Version), fmtTimePtr(k.LastCheckedAt), k.LastError)
	}
	return tb.flush()
}

// platformHealthText prints the counts line, then the red keys (if any):
// OWNER PROVIDER STATUS HINT VERSION LAST_CHECKED LAST_ERROR.
func platformHealthText(w io.Writer, h client.PlatformHealth) error {
	if _, err := fmt.Fprintf(w, "%d %s: %d green, %d red, %d grey\n",
		h.Total, plural(h.Total, "key", "keys"), h.Counts.Green, h.Counts.Red, h.Counts.Grey); err != nil {
		return err
	}
	if len(h.Red) == 0 {
		return nil
	}
	tb := newTable(w, "OWNER", "PROVIDER", "STATUS", "HINT", "VERSION", "LAST_CHECKED", "LAST_ERROR")
	for _, k := range h.Red {
		tb.row(string(k.Owner), k.Provider, colorWord(k), k.Hint, strconv.Itoa(k.Version), fmtTimePtr(k.LastCheckedAt), k.LastError)
	}
	return tb.flush()
}

// colorWord is the status column of the health tables: the API's color,
// or one derived from the status if an older server sent none.
func colorWord(k client.KeyHealth) string {
	if k.Color != "" {
		return k.Color
	}
	switch k.Status {
	case keygate.KeyStatusValid:
		return client.ColorGreen
	case keygate.KeyStatusInvalid:
		return client.ColorRed
	}
	return client.ColorGrey
}

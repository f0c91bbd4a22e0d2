// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/client"
)

// ownerFlags are --tenant and --platform, which name whose keys a key
// command acts on.
type ownerFlags struct {
	tenant   string
	platform bool
}

func (o *ownerFlags) bind(fs *flag.FlagSet) {
	fs.StringVar(&o.tenant, "tenant", "", "the tenant (id or name) that owns the key")
	fs.BoolVar(&o.platform, "platform", false, "the platform's shared fallback key instead of a tenant's")
}

// owner returns the API owner and how to name it in messages, or a usage
// error unless exactly one of --tenant and --platform is given.
func (o *ownerFlags) owner(cmd *command) (owner, display string, err error) {
	switch {
	case o.platform && o.tenant != "":
		return "", "", usagef("%s: give --tenant or --platform, not both", cmd.name())
	case o.platform:
		return string(keygate.PlatformScope), "the platform", nil
	case o.tenant != "":
		return o.tenant, "tenant " + o.tenant, nil
	}
	return "", "", usagef("%s: --tenant TENANT or --platform is required", cmd.name())
}

// providerArg returns --provider, or the one positional argument.
func providerArg(cmd *command, flagValue string, pos []string) (string, error) {
	switch {
	case flagValue != "" && len(pos) == 0:
		return flagValue, nil
	case flagValue == "" && len(pos) == 1:
		return pos[0], nil
	case flagValue == "" && len(pos) == 0:
		return "", usagef("%s: --provider PROVIDER is required", cmd.name())
	}
	return "", usagef("%s: give the provider once, with --provider", cmd.name())
}

// errKeyInArgs is the answer to a provider key given on the command line.
// It never repeats the argument, which may be the key.
func errKeyInArgs(cmd *command) error {
	return usagef("%s: refusing to take a provider key from the command line, where ps and shell history "+
		"would show it: pipe it on standard input instead, e.g. "+
		`printf '%%s' "$OPENAI_API_KEY" | keygate %s --tenant acme --provider openai`, cmd.name(), cmd.name())
}

// ownerProviderFlags parses the flags of a command that addresses one key:
// (--tenant T | --platform) --provider P (the provider may also be the one
// positional argument). It returns the API owner, its display name and the
// provider.
func (c *cli) ownerProviderFlags(cmd *command, args []string) (owner, display, provider string, err error) {
	fs := c.flagSet(cmd)
	var o ownerFlags
	o.bind(fs)
	providerFlag := fs.String("provider", "", "the provider, e.g. openai (required)")
	pos, err := c.parse(cmd, fs, args)
	if err != nil {
		return "", "", "", err
	}
	if provider, err = providerArg(cmd, *providerFlag, pos); err != nil {
		return "", "", "", err
	}
	owner, display, err = o.owner(cmd)
	return owner, display, provider, err
}

func keySet(ctx context.Context, c *cli, cmd *command, args []string) error {
	var test bool
	api, in, err := c.readKeyInput(cmd, args, "key", func(fs *flag.FlagSet) {
		fs.BoolVar(&test, "test", false, "test the key with the provider first; a key it rejects is not stored (exit 6)")
	})
	if err != nil {
		return err
	}
	defer in.key.Wipe()
	put := api.PutKey
	if test {
		put = api.PutKeyTested
	}
	ch, err := put(ctx, in.owner, in.provider, in.key)
	if err != nil {
		return err
	}
	if test && ch.Key.Status != keygate.KeyStatusValid {
		// The server stores a key the provider could not judge (network
		// error, rate limit, 5xx) rather than refuse a possibly good key.
		fmt.Fprintf(c.stderr, "keygate: warning: %s could not verify the key; it was stored with status %s\n", in.provider, ch.Key.Status)
	}
	return view[client.KeyChange]{
		json: func(ch client.KeyChange) any { return ch.Key },
		text: func(w io.Writer, ch client.KeyChange) error {
			action := "set"
			if ch.Rotated {
				action = "rotated"
			}
			tested := ""
			if test {
				tested = ", status " + string(ch.Key.Status)
			}
			_, err := fmt.Fprintf(w, "%s %s key of %s: version %d, hint %s, fingerprint %s%s\n",
				action, termSafe(ch.Key.Provider), termSafe(in.display), ch.Key.Version, termSafe(ch.Key.Hint), termSafe(ch.Key.Fingerprint), termSafe(tested))
			return err
		},
	}.print(c, ch)
}

func keyList(ctx context.Context, c *cli, cmd *command, args []string) error {
	fs := c.flagSet(cmd)
	var o ownerFlags
	o.bind(fs)
	if _, err := c.parseArgs(cmd, fs, args, 0, ""); err != nil {
		return err
	}
	owner, _, err := o.owner(cmd)
	if err != nil {
		return err
	}
	return request(c, func(api *client.Client) ([]client.Key, error) {
		return api.ListKeys(ctx, owner)
	}, view[[]client.Key]{
		json: func(keys []client.Key) any { return client.KeyList{Keys: nonNil(keys)} },
		text: func(w io.Writer, keys []client.Key) error {
			tb := newTable(w, "PROVIDER", "HINT", "FINGERPRINT", "VERSION", "STATUS", "CREATED", "UPDATED")
			for _, k := range keys {
				tb.row(k.Provider, k.Hint, k.Fingerprint, strconv.Itoa(k.Version), string(k.Status), fmtTime(k.CreatedAt), fmtTime(k.UpdatedAt))
			}
			return tb.flush()
		},
	})
}

func keyGet(ctx context.Context, c *cli, cmd *command, args []string) error {
	owner, _, provider, err := c.ownerProviderFlags(cmd, args)
	if err != nil {
		return err
	}
	return request(c, func(api *client.Client) (client.Key, error) {
		return api.GetKey(ctx, owner, provider)
	}, view[client.Key]{text: func(w io.Writer, k client.Key) error {
		return fields(w,
			"id", k.ID,
			"owner", string(k.Owner),
			"provider", k.Provider,
			"version", strconv.Itoa(k.Version),
			"hint", k.Hint,
			"fingerprint", k.Fingerprint,
			"status", string(k.Status),
			"last checked", fmtTimePtr(k.LastCheckedAt),
			"last error", k.LastError,
			"created by", k.CreatedBy,
			"created", fmtTime(k.CreatedAt),
			"updated", fmtTime(k.UpdatedAt),
		)
	}})
}

func keyRm(ctx context.Context, c *cli, cmd *command, args []string) error {
	owner, display, provider, err := c.ownerProviderFlags(cmd, args)
	if err != nil {
		return err
	}
	return c.act(func(api *client.Client) error { return api.DeleteKey(ctx, owner, provider) },
		"deleted %s key of %s\n", provider, display)
}

package main

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"strings"

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

// checkKeyArgs refuses anything in args that is not one of the flags of a
// command that reads a key (key set, key test), before the flag package
// sees it: an unknown flag's name, or a stray argument, could be the key,
// and must not be echoed in an error. extraBool names the command's own
// boolean flags.
func checkKeyArgs(cmd *command, args []string, extraBool ...string) error {
	valueFlags := map[string]bool{"tenant": true, "provider": true, "addr": true, "token": true}
	boolFlags := map[string]bool{"platform": true, "json": true, "h": true, "help": true}
	for _, f := range extraBool {
		boolFlags[f] = true
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" || !strings.HasPrefix(a, "-") || a == "-" {
			if a == "--" && i == len(args)-1 {
				continue
			}
			return errKeyInArgs(cmd)
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		switch {
		case valueFlags[name]:
			if !hasValue {
				i++ // its value
			}
		case boolFlags[name]:
			// --platform=<anything but a boolean> would be echoed by the
			// flag package.
			if _, v, _ := strings.Cut(a, "="); hasValue && v != "true" && v != "false" {
				return errKeyInArgs(cmd)
			}
		default:
			return errKeyInArgs(cmd)
		}
	}
	return nil
}

func keySet(ctx context.Context, c *cli, cmd *command, args []string) error {
	if err := checkKeyArgs(cmd, args, "test"); err != nil {
		return err
	}
	fs := c.flagSet(cmd)
	var o ownerFlags
	o.bind(fs)
	provider := fs.String("provider", "", "the provider, e.g. openai (required)")
	test := fs.Bool("test", false, "test the key with the provider first; a key it rejects is not stored (exit 6)")
	pos, err := c.parse(cmd, fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return errKeyInArgs(cmd)
	}
	owner, display, err := o.owner(cmd)
	if err != nil {
		return err
	}
	if *provider == "" {
		return usagef("%s: --provider PROVIDER is required", cmd.name())
	}
	api, err := c.client()
	if err != nil {
		return err
	}
	key, err := c.readKey(cmd, fmt.Sprintf("%s key for %s (input hidden): ", *provider, display))
	if err != nil {
		return err
	}
	defer key.Wipe()
	put := api.PutKey
	if *test {
		put = api.PutKeyTested
	}
	ch, err := put(ctx, owner, *provider, key)
	if err != nil {
		return err
	}
	if *test && ch.Key.Status != keygate.KeyStatusValid {
		// The server stores a key the provider could not judge (network
		// error, rate limit, 5xx) rather than refuse a possibly good key.
		fmt.Fprintf(c.stderr, "keygate: warning: %s could not verify the key; it was stored with status %s\n", *provider, ch.Key.Status)
	}
	if c.jsonOut {
		return writeJSON(c.stdout, ch.Key)
	}
	action := "set"
	if ch.Rotated {
		action = "rotated"
	}
	tested := ""
	if *test {
		tested = ", status " + string(ch.Key.Status)
	}
	_, err = fmt.Fprintf(c.stdout, "%s %s key of %s: version %d, hint %s, fingerprint %s%s\n",
		action, ch.Key.Provider, display, ch.Key.Version, ch.Key.Hint, ch.Key.Fingerprint, tested)
	return err
}

func keyList(ctx context.Context, c *cli, cmd *command, args []string) error {
	fs := c.flagSet(cmd)
	var o ownerFlags
	o.bind(fs)
	pos, err := c.parse(cmd, fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(cmd, pos, 0, ""); err != nil {
		return err
	}
	owner, _, err := o.owner(cmd)
	if err != nil {
		return err
	}
	api, err := c.client()
	if err != nil {
		return err
	}
	keys, err := api.ListKeys(ctx, owner)
	if err != nil {
		return err
	}
	if c.jsonOut {
		if keys == nil {
			keys = []client.Key{}
		}
		return writeJSON(c.stdout, client.KeyList{Keys: keys})
	}
	tb := newTable(c.stdout, "PROVIDER", "HINT", "FINGERPRINT", "VERSION", "STATUS", "CREATED", "UPDATED")
	for _, k := range keys {
		tb.row(k.Provider, k.Hint, k.Fingerprint, strconv.Itoa(k.Version), string(k.Status), fmtTime(k.CreatedAt), fmtTime(k.UpdatedAt))
	}
	return tb.flush()
}

func keyGet(ctx context.Context, c *cli, cmd *command, args []string) error {
	fs := c.flagSet(cmd)
	var o ownerFlags
	o.bind(fs)
	providerFlag := fs.String("provider", "", "the provider, e.g. openai (required)")
	pos, err := c.parse(cmd, fs, args)
	if err != nil {
		return err
	}
	provider, err := providerArg(cmd, *providerFlag, pos)
	if err != nil {
		return err
	}
	owner, _, err := o.owner(cmd)
	if err != nil {
		return err
	}
	api, err := c.client()
	if err != nil {
		return err
	}
	k, err := api.GetKey(ctx, owner, provider)
	if err != nil {
		return err
	}
	if c.jsonOut {
		return writeJSON(c.stdout, k)
	}
	return fields(c.stdout,
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
}

func keyRm(ctx context.Context, c *cli, cmd *command, args []string) error {
	fs := c.flagSet(cmd)
	var o ownerFlags
	o.bind(fs)
	providerFlag := fs.String("provider", "", "the provider, e.g. openai (required)")
	pos, err := c.parse(cmd, fs, args)
	if err != nil {
		return err
	}
	provider, err := providerArg(cmd, *providerFlag, pos)
	if err != nil {
		return err
	}
	owner, display, err := o.owner(cmd)
	if err != nil {
		return err
	}
	api, err := c.client()
	if err != nil {
		return err
	}
	if err := api.DeleteKey(ctx, owner, provider); err != nil {
		return err
	}
	_, err = fmt.Fprintf(c.stdout, "deleted %s key of %s\n", provider, display)
	return err
}

package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/client"
)

// maxModelsShown caps the model names key test prints; the count says how
// many there are.
const maxModelsShown = 10

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

// keyTest is `keygate key test`: it sends a candidate key to the server,
// which asks the provider about it and stores nothing. Exit 0 for valid, 6
// (key_rejected) for rejected, 1 (key_unverifiable) when the provider could
// not say.
func keyTest(ctx context.Context, c *cli, cmd *command, args []string) error {
	if err := checkKeyArgs(cmd, args); err != nil {
		return err
	}
	fs := c.flagSet(cmd)
	var o ownerFlags
	o.bind(fs)
	provider := fs.String("provider", "", "the provider, e.g. openai (required)")
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
	key, err := c.readKey(cmd, fmt.Sprintf("%s key to test for %s (input hidden): ", *provider, display))
	if err != nil {
		return err
	}
	defer key.Wipe()
	res, err := api.TestKey(ctx, owner, *provider, key)
	if err != nil {
		return err
	}
	if c.jsonOut {
		err = writeJSON(c.stdout, client.KeyTestResults{Results: map[string]client.KeyTestResult{*provider: res}})
	} else {
		err = fields(c.stdout,
			"provider", *provider,
			"hint", key.Hint(),
			"status", string(res.Status),
			"models", modelSummary(res),
			"error", res.Error)
	}
	if err != nil {
		return err
	}
	switch res.Status {
	case client.KeyTestValid:
		return nil
	case client.KeyTestRejected:
		return &cliError{code: keygate.CodeKeyRejected, exit: exitInvalid, msg: fmt.Sprintf("the %s key was rejected: %s", *provider, res.Error)}
	case client.KeyTestUnverifiable:
		return &cliError{code: codeKeyUnverifiable, exit: exitFailure, msg: fmt.Sprintf("the %s key could not be verified: %s", *provider, res.Error)}
	}
	return &cliError{code: keygate.CodeInternal, exit: exitFailure, msg: fmt.Sprintf("the server answered an unknown test status %q", res.Status)}
}

// modelSummary is the models line of key test: the count, then up to
// maxModelsShown names ("12: a, b, ..., +2 more"); "" when the provider
// listed none.
func modelSummary(r client.KeyTestResult) string {
	n := max(r.ModelCount, len(r.Models))
	if n == 0 {
		return ""
	}
	names := r.Models[:min(len(r.Models), maxModelsShown)]
	s := strconv.Itoa(n)
	if len(names) > 0 {
		s += ": " + strings.Join(names, ", ")
	}
	if more := n - len(names); more > 0 && len(names) > 0 {
		s += fmt.Sprintf(", +%d more", more)
	}
	return s
}

// keyVersions is `keygate key versions`.
func keyVersions(ctx context.Context, c *cli, cmd *command, args []string) error {
	owner, _, provider, err := c.ownerProviderFlags(cmd, args)
	if err != nil {
		return err
	}
	api, err := c.client()
	if err != nil {
		return err
	}
	vs, err := api.ListKeyVersions(ctx, owner, provider)
	if err != nil {
		return err
	}
	if c.jsonOut {
		if vs == nil {
			vs = []client.KeyVersion{}
		}
		return writeJSON(c.stdout, client.KeyVersionList{Versions: vs})
	}
	tb := newTable(c.stdout, "VERSION", "CURRENT", "HINT", "FINGERPRINT", "CREATED", "SUPERSEDED", "DESTROYED")
	for _, v := range vs {
		current := ""
		if v.Current {
			current = "yes"
		}
		tb.row(strconv.Itoa(v.Version), current, v.Hint, v.Fingerprint, fmtTime(v.CreatedAt), fmtTimePtr(v.SupersededAt), fmtTimePtr(v.DestroyedAt))
	}
	return tb.flush()
}

// keyRollback is `keygate key rollback`; a conflict (nothing to restore)
// exits 5.
func keyRollback(ctx context.Context, c *cli, cmd *command, args []string) error {
	owner, display, provider, err := c.ownerProviderFlags(cmd, args)
	if err != nil {
		return err
	}
	api, err := c.client()
	if err != nil {
		return err
	}
	k, err := api.RollbackKey(ctx, owner, provider)
	if err != nil {
		return err
	}
	if c.jsonOut {
		return writeJSON(c.stdout, k)
	}
	_, err = fmt.Fprintf(c.stdout, "rolled back %s key of %s to version %d, hint %s, fingerprint %s\n",
		k.Provider, display, k.Version, k.Hint, k.Fingerprint)
	return err
}

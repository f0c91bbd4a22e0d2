// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/client"
)

// defaultRow is the PROVIDER cell of the default rule in policy tables; as
// --provider it names the default too.
const defaultRow = "*"

// policySetting is how the policy commands get, put and print a tenant's
// policy.
func policySetting() setting[client.Policy] {
	return setting[client.Policy]{
		get:  (*client.Client).GetPolicy,
		put:  (*client.Client).PutPolicy,
		same: samePolicy,
		view: view[client.Policy]{
			json: func(p client.Policy) any {
				if p.Providers == nil {
					p.Providers = map[string]client.PolicyRule{}
				}
				return p
			},
			text: policyText,
		},
		unchanged: "the policy of tenant %s already says so",
	}
}

// policyText prints p as a table: the default ("*") first, then the
// overrides by provider name.
func policyText(w io.Writer, p client.Policy) error {
	tb := newTable(w, "PROVIDER", "MODE", "REQUEST_KEYS", "FALLBACK")
	row := func(name string, r client.PolicyRule) {
		tb.row(name, string(r.Mode), strconv.FormatBool(r.AllowRequestKeys), strconv.FormatBool(r.FallbackOnError))
	}
	row(defaultRow, p.Default)
	for _, name := range slices.Sorted(maps.Keys(p.Providers)) {
		row(name, p.Providers[name])
	}
	return tb.flush()
}

// policyChange is what `policy set` was asked to change.
type policyChange struct {
	tenant, provider string
	mode             string
	requestKeys      optionalBool
	fallback         optionalBool
	clear            bool
}

func (ch *policyChange) target() string { return ch.tenant }

// check returns a usage error for a change that is empty or contradictory.
// --provider * names the default, as "" does.
func (ch *policyChange) check(cmd *command) error {
	if ch.provider == defaultRow {
		ch.provider = ""
	}
	if err := requireTenant(cmd, ch.tenant); err != nil {
		return err
	}
	changes := ch.mode != "" || ch.requestKeys.set || ch.fallback.set
	switch {
	case ch.clear && ch.provider == "":
		return usagef("%s: --clear removes the override of one provider: give --provider too", cmd.name())
	case ch.clear && changes:
		return usagef("%s: --clear removes the override; it takes no --mode, --allow-request-keys or --fallback-on-error", cmd.name())
	case !ch.clear && !changes:
		return usagef("%s: nothing to change: give --mode, --allow-request-keys=true|false, --fallback-on-error=true|false or --clear", cmd.name())
	case ch.mode != "" && !keygate.PolicyMode(ch.mode).Valid():
		return usagef("%s: --mode must be tenant_then_platform, tenant_only or platform_only", cmd.name())
	}
	return nil
}

// apply returns p with the change made. A provider without an override gets
// one that starts from the default, so only the given fields differ from
// what the provider had before. It returns a not_found error when --clear
// names a provider without an override.
func (ch *policyChange) apply(p client.Policy) (client.Policy, error) {
	out := p
	out.Providers = maps.Clone(p.Providers)
	if out.Providers == nil {
		out.Providers = map[string]client.PolicyRule{}
	}
	if ch.clear {
		if _, ok := out.Providers[ch.provider]; !ok {
			return out, &cliError{code: keygate.CodeNotFound, exit: exitNotFound,
				msg: fmt.Sprintf("tenant %s has no policy override for %s; nothing to clear", ch.tenant, ch.provider)}
		}
		delete(out.Providers, ch.provider)
		return out, nil
	}
	r := out.For(ch.provider)
	if ch.mode != "" {
		r.Mode = keygate.PolicyMode(ch.mode)
	}
	if ch.requestKeys.set {
		r.AllowRequestKeys = ch.requestKeys.value
	}
	if ch.fallback.set {
		r.FallbackOnError = ch.fallback.value
	}
	if ch.provider == "" {
		out.Default = r
	} else {
		out.Providers[ch.provider] = r
	}
	return out, nil
}

// samePolicy reports whether a and b set the same rules.
func samePolicy(a, b client.Policy) bool {
	return a.Default == b.Default && maps.Equal(a.Providers, b.Providers)
}

func policySet(ctx context.Context, c *cli, cmd *command, args []string) error {
	fs := c.flagSet(cmd)
	var ch policyChange
	fs.StringVar(&ch.tenant, "tenant", "", tenantUsage)
	fs.StringVar(&ch.provider, "provider", "", "change this provider's override (created from the default if it has none); without it, change the default")
	fs.StringVar(&ch.mode, "mode", "", "tenant_then_platform, tenant_only or platform_only")
	fs.Var(&ch.requestKeys, "allow-request-keys", "let calls bring their own key in X-Provider-Key (true or false)")
	fs.Var(&ch.fallback, "fallback-on-error", "retry once on the platform key when the tenant's key fails (true or false)")
	fs.BoolVar(&ch.clear, "clear", false, "remove the --provider override, so the default applies to it again")
	return policySetting().set(ctx, c, cmd, fs, args, &ch)
}

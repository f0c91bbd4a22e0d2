// SPDX-License-Identifier: Apache-2.0

package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/client"
)

// optionalInt is a non-negative integer flag that remembers whether it was
// given, so that "not given" keeps the server's value.
type optionalInt struct {
	set   bool
	value int64
}

func (n *optionalInt) String() string {
	if n == nil || !n.set {
		return ""
	}
	return strconv.FormatInt(n.value, 10)
}

func (n *optionalInt) Set(s string) error {
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 {
		return fmt.Errorf("want a whole number, 0 for no cap")
	}
	n.set, n.value = true, v
	return nil
}

// limitsSetting is how the limits commands get, put and print a tenant's
// rate limits.
func limitsSetting() setting[client.RateLimits] {
	return setting[client.RateLimits]{
		get: (*client.Client).GetLimits,
		put: func(api *client.Client, ctx context.Context, tenant string, l client.RateLimits) (client.RateLimits, error) {
			return api.PutLimits(ctx, tenant, l.Limits)
		},
		same:      func(a, b client.RateLimits) bool { return slices.Equal(a.Limits, b.Limits) },
		view:      view[client.RateLimits]{text: limitsText},
		unchanged: "the rate limits of tenant %s already say so",
	}
}

// limitsText prints l as a table: the limit on every provider together as
// "*" first, then by provider; "-" is no cap.
func limitsText(w io.Writer, l client.RateLimits) error {
	ls := slices.Clone(l.Limits)
	slices.SortFunc(ls, func(a, b client.RateLimit) int { return cmp.Compare(a.Provider, b.Provider) })
	tb := newTable(w, "PROVIDER", "RPM", "TPM", "APPLIES_TO")
	for _, r := range ls {
		name := r.Provider
		if name == "" {
			name = defaultRow
		}
		tb.row(name, fmtInt(r.RPM), fmtInt(r.TPM), r.AppliesTo)
	}
	return tb.flush()
}

// limitsChange is what `limits set` was asked to change.
type limitsChange struct {
	tenant, provider string
	rpm, tpm         optionalInt
	appliesTo        string
	clear            bool
}

func (ch *limitsChange) target() string { return ch.tenant }

// check returns a usage error for a change that is empty or contradictory.
// --provider * names the limit on every provider together, as "" does.
func (ch *limitsChange) check(cmd *command) error {
	if ch.provider == defaultRow {
		ch.provider = ""
	}
	if err := requireTenant(cmd, ch.tenant); err != nil {
		return err
	}
	changes := ch.rpm.set || ch.tpm.set || ch.appliesTo != ""
	switch {
	case ch.clear && changes:
		return usagef("%s: --clear removes the limit; it takes no --rpm, --tpm or --applies-to", cmd.name())
	case !ch.clear && !changes:
		return usagef("%s: nothing to change: give --rpm, --tpm, --applies-to or --clear", cmd.name())
	case ch.appliesTo != "" && ch.appliesTo != keygate.AppliesToPlatform && ch.appliesTo != keygate.AppliesToAll:
		return usagef("%s: --applies-to must be platform or all", cmd.name())
	}
	return nil
}

// apply returns the limits with the change made: the provider's limit is
// changed, or added (no caps, applying to platform-paid calls, before the
// given fields), or removed with --clear. It returns a not_found error when
// --clear names a limit that does not exist.
func (ch *limitsChange) apply(l client.RateLimits) (client.RateLimits, error) {
	out := slices.Clone(l.Limits)
	i := slices.IndexFunc(out, func(r client.RateLimit) bool { return r.Provider == ch.provider })
	if ch.clear {
		if i < 0 {
			return l, &cliError{code: keygate.CodeNotFound, exit: exitNotFound,
				msg: fmt.Sprintf("tenant %s has no rate limit for %s; nothing to clear", ch.tenant, limitName(ch.provider))}
		}
		l.Limits = slices.Delete(out, i, i+1)
		return l, nil
	}
	if i < 0 {
		out = append(out, client.RateLimit{Provider: ch.provider, AppliesTo: keygate.AppliesToPlatform})
		i = len(out) - 1
	}
	if ch.rpm.set {
		out[i].RPM = ch.rpm.value
	}
	if ch.tpm.set {
		out[i].TPM = ch.tpm.value
	}
	if ch.appliesTo != "" {
		out[i].AppliesTo = ch.appliesTo
	}
	l.Limits = out
	return l, nil
}

// limitName names a limit's provider in messages.
func limitName(provider string) string {
	if provider == "" {
		return "all providers together (*)"
	}
	return provider
}

func limitsSet(ctx context.Context, c *cli, cmd *command, args []string) error {
	fs := c.flagSet(cmd)
	var ch limitsChange
	fs.StringVar(&ch.tenant, "tenant", "", tenantUsage)
	fs.StringVar(&ch.provider, "provider", "", "change this provider's limit (added if it has none); without it, or *, the limit on every provider together")
	fs.Var(&ch.rpm, "rpm", "requests per minute (0: no cap)")
	fs.Var(&ch.tpm, "tpm", "tokens per minute (0: no cap)")
	fs.StringVar(&ch.appliesTo, "applies-to", "", "platform (only platform-paid calls are limited) or all")
	fs.BoolVar(&ch.clear, "clear", false, "remove the limit")
	return limitsSetting().set(ctx, c, cmd, fs, args, &ch)
}

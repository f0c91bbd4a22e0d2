// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/client"
)

// noLimit is the value that removes a budget limit: --daily-usd none.
const noLimit = "none"

// limitFlag is a budget limit flag: an amount, or "none" to remove the
// limit. It remembers whether it was given, so "not given" keeps the
// server's value. usd selects US-dollar amounts (decimals); otherwise the
// value is a whole number of tokens.
type limitFlag struct {
	usd   bool
	set   bool
	none  bool
	value string // normalized: "12.5" for 12.50, "1000"
}

func (f *limitFlag) String() string {
	if f == nil || !f.set {
		return ""
	}
	if f.none {
		return noLimit
	}
	return f.value
}

func (f *limitFlag) Set(s string) error {
	if s == noLimit {
		f.set, f.none, f.value = true, true, ""
		return nil
	}
	if f.usd {
		v, ok := normalizeUSD(s)
		if !ok {
			return fmt.Errorf("want an amount in US dollars such as 12.50 (at most 6 decimals), or none")
		}
		f.set, f.none, f.value = true, false, v
		return nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return fmt.Errorf("want a whole number of tokens, or none")
	}
	f.set, f.none, f.value = true, false, strconv.FormatInt(n, 10)
	return nil
}

// clear makes the flag remove the limit (--clear-daily-usd).
func (f *limitFlag) clear() { f.set, f.none, f.value = true, true, "" }

// normalizeUSD checks that s is a non-negative decimal with at most six
// decimal places, as the server requires, and writes it as the server
// does: without trailing zeros ("12.50" → "12.5", "3.0" → "3").
func normalizeUSD(s string) (string, bool) {
	whole, frac, dot := strings.Cut(s, ".")
	if whole == "" || len(frac) > 6 || (dot && frac == "") || strings.Trim(whole+frac, "0123456789") != "" {
		return "", false
	}
	if whole = strings.TrimLeft(whole, "0"); whole == "" {
		whole = "0"
	}
	if frac = strings.TrimRight(frac, "0"); frac != "" {
		return whole + "." + frac, true
	}
	return whole, true
}

// applyUSD returns the limit f sets, given the current one.
func (f *limitFlag) applyUSD(cur *string) *string {
	switch {
	case !f.set:
		return cur
	case f.none:
		return nil
	}
	v := f.value
	return &v
}

// applyTokens returns the limit f sets, given the current one.
func (f *limitFlag) applyTokens(cur *int64) *int64 {
	switch {
	case !f.set:
		return cur
	case f.none:
		return nil
	}
	n, _ := strconv.ParseInt(f.value, 10, 64) // checked by Set
	return &n
}

// budgetSetting is how the budget commands get, put and print a tenant's
// budget.
func budgetSetting() setting[client.Budget] {
	return setting[client.Budget]{
		get:       (*client.Client).GetBudget,
		put:       (*client.Client).PutBudget,
		same:      sameBudget,
		view:      view[client.Budget]{text: budgetText},
		unchanged: "the budget of tenant %s already says so",
	}
}

// budgetText prints b as aligned fields.
func budgetText(w io.Writer, b client.Budget) error {
	kv := []string{
		"tenant", string(b.Tenant),
		"daily usd", fmtUSDLimit(b.DailyUSD),
		"monthly usd", fmtUSDLimit(b.MonthlyUSD),
		"daily tokens", fmtTokenLimit(b.DailyTokens),
		"monthly tokens", fmtTokenLimit(b.MonthlyTokens),
	}
	if b.PerUserDailyUSD != nil || b.PerUserDailyTokens != nil {
		// Only when set: most tenants have no per-user limit.
		kv = append(kv,
			"per-user daily usd", fmtUSDLimit(b.PerUserDailyUSD),
			"per-user daily tokens", fmtTokenLimit(b.PerUserDailyTokens))
	}
	return fields(w, append(kv,
		"hard", strconv.FormatBool(b.Hard),
		"applies to", b.AppliesTo,
		"byok billing", b.BYOKBilling,
		"updated", fmtTimePtr(b.UpdatedAt))...)
}

// fmtUSD formats a decimal amount from the server as "$12.5"; "N/A" and ""
// stay as they are.
func fmtUSD(s string) string {
	if s == "" || s == "N/A" {
		return s
	}
	return "$" + s
}

func fmtUSDLimit(p *string) string {
	if p == nil {
		return noLimit
	}
	return fmtUSD(*p)
}

func fmtTokenLimit(p *int64) string {
	if p == nil {
		return noLimit
	}
	return strconv.FormatInt(*p, 10)
}

// budgetSummary is the budget in one line, for the usage report.
func budgetSummary(b client.Budget) string {
	perUser := b.PerUserDailyUSD != nil || b.PerUserDailyTokens != nil
	if b.DailyUSD == nil && b.MonthlyUSD == nil && b.DailyTokens == nil && b.MonthlyTokens == nil && !perUser {
		return noLimit
	}
	kind := "soft"
	if b.Hard {
		kind = "hard"
	}
	per := ""
	if perUser {
		per = fmt.Sprintf("; per end user daily %s, tokens %s", fmtUSDLimit(b.PerUserDailyUSD), fmtTokenLimit(b.PerUserDailyTokens))
	}
	return fmt.Sprintf("daily %s, monthly %s; tokens daily %s, monthly %s%s (%s, applies to %s)",
		fmtUSDLimit(b.DailyUSD), fmtUSDLimit(b.MonthlyUSD), fmtTokenLimit(b.DailyTokens), fmtTokenLimit(b.MonthlyTokens), per, kind, b.AppliesTo)
}

// budgetChange is what `budget set` was asked to change.
type budgetChange struct {
	tenant                      string
	dailyUSD, monthlyUSD        limitFlag
	dailyTokens, monthlyTokens  limitFlag
	perUserUSD, perUserTokens   limitFlag
	clearDailyUSD, clearMonthly bool
	clearDailyTok, clearMonthTk bool
	hard                        optionalBool
	appliesTo, billing          string
}

// check returns a usage error for a change that is empty or contradictory,
// and turns the --clear-* flags into "none" values.
func (ch *budgetChange) check(cmd *command) error {
	for _, cl := range []struct {
		clear bool
		f     *limitFlag
		name  string
	}{
		{ch.clearDailyUSD, &ch.dailyUSD, "daily-usd"},
		{ch.clearMonthly, &ch.monthlyUSD, "monthly-usd"},
		{ch.clearDailyTok, &ch.dailyTokens, "daily-tokens"},
		{ch.clearMonthTk, &ch.monthlyTokens, "monthly-tokens"},
	} {
		if !cl.clear {
			continue
		}
		if cl.f.set && !cl.f.none {
			return usagef("%s: --%s and --clear-%s contradict each other", cmd.name(), cl.name, cl.name)
		}
		cl.f.clear()
	}
	if err := requireTenant(cmd, ch.tenant); err != nil {
		return err
	}
	changes := ch.dailyUSD.set || ch.monthlyUSD.set || ch.dailyTokens.set || ch.monthlyTokens.set ||
		ch.perUserUSD.set || ch.perUserTokens.set || ch.hard.set || ch.appliesTo != "" || ch.billing != ""
	switch {
	case !changes:
		return usagef("%s: nothing to change: give --daily-usd, --monthly-usd, --daily-tokens, --monthly-tokens, --per-user-daily-usd, --per-user-daily-tokens (a value or none), --hard=true|false, --applies-to or --byok-billing", cmd.name())
	case ch.appliesTo != "" && ch.appliesTo != keygate.AppliesToPlatform && ch.appliesTo != keygate.AppliesToAll:
		return usagef("%s: --applies-to must be platform or all", cmd.name())
	case ch.billing != "" && ch.billing != keygate.BillingSkip && ch.billing != keygate.BillingMeter:
		return usagef("%s: --byok-billing must be skip or meter", cmd.name())
	}
	return nil
}

func (ch *budgetChange) target() string { return ch.tenant }

// apply returns b with the change made; it never fails.
func (ch *budgetChange) apply(b client.Budget) (client.Budget, error) {
	out := b
	out.DailyUSD = ch.dailyUSD.applyUSD(b.DailyUSD)
	out.MonthlyUSD = ch.monthlyUSD.applyUSD(b.MonthlyUSD)
	out.DailyTokens = ch.dailyTokens.applyTokens(b.DailyTokens)
	out.MonthlyTokens = ch.monthlyTokens.applyTokens(b.MonthlyTokens)
	out.PerUserDailyUSD = ch.perUserUSD.applyUSD(b.PerUserDailyUSD)
	out.PerUserDailyTokens = ch.perUserTokens.applyTokens(b.PerUserDailyTokens)
	if ch.hard.set {
		out.Hard = ch.hard.value
	}
	if ch.appliesTo != "" {
		out.AppliesTo = ch.appliesTo
	}
	if ch.billing != "" {
		out.BYOKBilling = ch.billing
	}
	return out, nil
}

// sameBudget reports whether a and b set the same limits and options.
func sameBudget(a, b client.Budget) bool {
	a.Tenant, a.UpdatedAt, b.Tenant, b.UpdatedAt = "", nil, "", nil
	return reflect.DeepEqual(a, b)
}

func budgetSet(ctx context.Context, c *cli, cmd *command, args []string) error {
	fs := c.flagSet(cmd)
	ch := budgetChange{dailyUSD: limitFlag{usd: true}, monthlyUSD: limitFlag{usd: true}, perUserUSD: limitFlag{usd: true}}
	fs.StringVar(&ch.tenant, "tenant", "", tenantUsage)
	fs.Var(&ch.dailyUSD, "daily-usd", "spending limit per UTC day in US dollars, such as 12.50; none removes it")
	fs.Var(&ch.monthlyUSD, "monthly-usd", "spending limit per UTC month in US dollars; none removes it")
	fs.Var(&ch.dailyTokens, "daily-tokens", "token limit (input + output) per UTC day; none removes it")
	fs.Var(&ch.monthlyTokens, "monthly-tokens", "token limit per UTC month; none removes it")
	fs.Var(&ch.perUserUSD, "per-user-daily-usd", "spending limit per UTC day for each end user of the tenant, in US dollars; none removes it")
	fs.Var(&ch.perUserTokens, "per-user-daily-tokens", "token limit per UTC day for each end user of the tenant; none removes it")
	fs.BoolVar(&ch.clearDailyUSD, "clear-daily-usd", false, "remove the daily USD limit (as --daily-usd none)")
	fs.BoolVar(&ch.clearMonthly, "clear-monthly-usd", false, "remove the monthly USD limit")
	fs.BoolVar(&ch.clearDailyTok, "clear-daily-tokens", false, "remove the daily token limit")
	fs.BoolVar(&ch.clearMonthTk, "clear-monthly-tokens", false, "remove the monthly token limit")
	fs.Var(&ch.hard, "hard", "refuse calls once a limit is spent (429 budget_exceeded) (true or false; false only reports)")
	fs.StringVar(&ch.appliesTo, "applies-to", "", "platform (only platform-paid calls count) or all")
	fs.StringVar(&ch.billing, "byok-billing", "", "skip (calls on the tenant's own keys cost the platform nothing) or meter")
	return budgetSetting().set(ctx, c, cmd, fs, args, &ch)
}

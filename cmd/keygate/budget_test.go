// SPDX-License-Identifier: Apache-2.0

package main

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/keygate/keygate/internal/client"
	"github.com/keygate/keygate/internal/client/clienttest"
)

// step is one CLI invocation of a scenario and what it must print.
type step struct {
	name string
	args []string
	want result
}

// runSteps runs steps in order against s, comparing every result.
func runSteps(t *testing.T, s *clienttest.Server, steps []step) {
	t.Helper()
	for _, st := range steps {
		got := MustRun(t, s, "", st.args...)
		if diff := cmp.Diff(st.want, got, cmp.AllowUnexported(result{})); diff != "" {
			t.Errorf("%s: (-want +got):\n%s", st.name, diff)
		}
	}
}

// countPUTs returns how many PUT requests s received.
func countPUTs(s *clienttest.Server) int {
	n := 0
	for _, r := range s.Requests() {
		if r.Method == "PUT" {
			n++
		}
	}
	return n
}

func TestBudgetCommands(t *testing.T) {
	s := MustFake(t)
	MustTenant(t, s, "acme")
	budget := func(daily, monthly, dTok, mTok, hard, applies, billing, updated string) string {
		return "" +
			"tenant:          tn_0001\n" +
			"daily usd:       " + daily + "\n" +
			"monthly usd:     " + monthly + "\n" +
			"daily tokens:    " + dTok + "\n" +
			"monthly tokens:  " + mTok + "\n" +
			"hard:            " + hard + "\n" +
			"applies to:      " + applies + "\n" +
			"byok billing:    " + billing + "\n" +
			"updated:         " + updated + "\n"
	}
	const at3, at5 = "2025-01-02T03:04:09Z", "2025-01-02T03:04:11Z"
	runSteps(t, s, []step{
		{"GetNone", []string{"budget", "get", "--tenant", "acme"}, result{stdout: budget("none", "none", "none", "none", "false", "platform", "skip", "-")}},
		// Only the given fields change; the amount is written as the server does.
		{"SetDaily", []string{"budget", "set", "--tenant", "acme", "--daily-usd", "12.50", "--hard=true"}, result{
			stdout: budget("$12.5", "none", "none", "none", "true", "platform", "skip", at3)}},
		{"SetMore", []string{"budget", "set", "--tenant", "tn_0001", "--monthly-usd", "300", "--monthly-tokens", "1000000", "--applies-to", "all", "--byok-billing", "meter"}, result{
			stdout: budget("$12.5", "$300", "none", "1000000", "true", "all", "meter", at5)}},
		{"Unchanged", []string{"budget", "set", "--tenant", "acme", "--daily-usd", "12.500000"}, result{
			stdout: budget("$12.5", "$300", "none", "1000000", "true", "all", "meter", at5),
			stderr: "the budget of tenant acme already says so; nothing changed\n"}},
		{"RemoveWithNone", []string{"budget", "set", "--tenant", "acme", "--daily-usd", "none", "--clear-monthly-tokens", "--hard=false"}, result{
			stdout: budget("none", "$300", "none", "none", "false", "all", "meter", "2025-01-02T03:04:14Z")}},
		{"BadAmount", []string{"budget", "set", "--tenant", "acme", "--daily-usd", "12,50"}, result{exit: exitUsage,
			stderr: "keygate: budget set: invalid value \"12,50\" for flag -daily-usd: want an amount in US dollars such as 12.50 (at most 6 decimals), or none (usage)\nRun 'keygate help' for usage.\n"}},
		{"NegativeTokens", []string{"budget", "set", "--tenant", "acme", "--daily-tokens", "-5"}, result{exit: exitUsage,
			stderr: "keygate: budget set: invalid value \"-5\" for flag -daily-tokens: want a whole number of tokens, or none (usage)\nRun 'keygate help' for usage.\n"}},
		{"Contradiction", []string{"budget", "set", "--tenant", "acme", "--daily-usd", "5", "--clear-daily-usd"}, result{exit: exitUsage,
			stderr: "keygate: budget set: --daily-usd and --clear-daily-usd contradict each other (usage)\nRun 'keygate help' for usage.\n"}},
		{"Nothing", []string{"budget", "set", "--tenant", "acme"}, result{exit: exitUsage,
			stderr: "keygate: budget set: nothing to change: give --daily-usd, --monthly-usd, --daily-tokens, --monthly-tokens, --per-user-daily-usd, --per-user-daily-tokens (a value or none), --hard=true|false, --applies-to or --byok-billing (usage)\nRun 'keygate help' for usage.\n"}},
		{"BadAppliesTo", []string{"budget", "set", "--tenant", "acme", "--applies-to", "everyone"}, result{exit: exitUsage,
			stderr: "keygate: budget set: --applies-to must be platform or all (usage)\nRun 'keygate help' for usage.\n"}},
		{"NoTenant", []string{"budget", "get"}, result{exit: exitUsage, stderr: "keygate: budget get: --tenant is required (usage)\nRun 'keygate help' for usage.\n"}},
		{"UnknownTenant", []string{"budget", "get", "--tenant", "nope"}, result{exit: exitNotFound, stderr: "keygate: Tenant \"nope\" not found. (not_found)\n"}},
	})
	if n := countPUTs(s); n != 3 {
		t.Errorf("%d PUTs, want 3 (no PUT for an unchanged budget or a usage error)", n)
	}

	var b client.Budget
	r := MustRun(t, s, "", "budget", "get", "--tenant", "acme", "--json")
	if err := json.Unmarshal([]byte(r.stdout), &b); err != nil {
		t.Fatalf("get --json: %q: %v", r.stdout, err)
	}
	if b.DailyUSD != nil || b.MonthlyUSD == nil || *b.MonthlyUSD != "300" || b.AppliesTo != "all" || b.UpdatedAt == nil {
		t.Errorf("get --json = %+v", b)
	}
	var raw map[string]any
	_ = json.Unmarshal([]byte(r.stdout), &raw)
	if v, ok := raw["daily_usd"]; !ok || v != nil {
		t.Errorf("get --json: daily_usd = %v, %v; want null", v, ok)
	}
}

func TestBudgetSetForbidden(t *testing.T) {
	s := MustFake(t)
	MustTenant(t, s, "acme")
	s.AddToken("kga_owner", client.AdminToken{ID: "at_owner", Name: "owner", Role: "owner", Tenant: "tn_0001"})
	env := map[string]string{"KEYGATE_ADDR": s.URL, "KEYGATE_TOKEN": "kga_owner"}
	if r := runEnv(t, env, "", "budget", "get", "--tenant", "acme"); r.exit != 0 {
		t.Errorf("owner budget get: exit %d: %s", r.exit, r.stderr)
	}
	r := runEnv(t, env, "", "budget", "set", "--tenant", "acme", "--daily-usd", "1")
	want := result{exit: exitUnauthorized, stderr: "keygate: Only a platform admin may do this. (forbidden)\n"}
	if diff := cmp.Diff(want, r, cmp.AllowUnexported(result{})); diff != "" {
		t.Errorf("owner budget set (-want +got):\n%s", diff)
	}
}

func TestNormalizeUSD(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"12.50", "12.5", true},
		{"0012.000", "12", true},
		{"0", "0", true},
		{"0.000001", "0.000001", true},
		{"0.0000001", "", false},
		{"12.", "", false},
		{".5", "", false},
		{"-1", "", false},
		{"1e3", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, ok := normalizeUSD(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("normalizeUSD(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// SPDX-License-Identifier: Apache-2.0

package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/client"
	"github.com/keygate/keygate/internal/client/clienttest"
)

// MustUsageFake returns a fake with tenants acme (BYOK, with an openai key)
// and beta, and a few metered calls on 2025-01-01 and 2025-01-02.
func MustUsageFake(tb testing.TB) *clienttest.Server {
	tb.Helper()
	s := MustFake(tb)
	MustTenant(tb, s, "acme")
	MustTenant(tb, s, "beta")
	if r := MustRun(tb, s, "sk-acmeOwnKey0000000000000000", "key", "set", "--tenant", "acme", "--provider", "openai"); r.exit != 0 {
		tb.Fatalf("key set: %s", r.stderr)
	}
	day := func(d int) time.Time { return time.Date(2025, 1, d, 1, 0, 0, 0, time.UTC) }
	for _, e := range []clienttest.UsageEvent{
		{Tenant: "tn_0001", Provider: "openai", Model: "gpt-4o", Source: keygate.SourceTenant, TokenID: "gt_web", Time: day(1), InputTokens: 100, OutputTokens: 20, CostMicros: 1_250_000},
		{Tenant: "tn_0001", Provider: "openai", Model: "gpt-4o", Source: keygate.SourceTenant, TokenID: "gt_web", Time: day(2), InputTokens: 50, OutputTokens: 10, CostMicros: 500_000},
		{Tenant: "tn_0001", Provider: "anthropic", Model: "claude-sonnet-4", Source: keygate.SourceRequest, TokenID: "gt_ci", Time: day(2), InputTokens: 7, OutputTokens: 3, CostMicros: 1500, Priced: keygate.PricedEstimated},
		{Tenant: "tn_0003", Provider: "openai", Model: "gpt-4o-mini", Source: keygate.SourcePlatform, Time: day(2), InputTokens: 10, OutputTokens: 10, CostMicros: 25, BillableMicros: 25},
	} {
		s.RecordUsage(e)
	}
	return s
}

func TestUsageCommand(t *testing.T) {
	s := MustUsageFake(t)
	const usageHint = "Run 'keygate help' for usage.\n"
	runSteps(t, s, []step{
		// acme is in BYOK mode under byok_billing skip: the platform cost is N/A.
		{"TenantByProviderDay", []string{"usage", "--tenant", "acme", "--from", "2025-01-01", "--to", "2025-01-03", "--group-by", "provider,day"}, result{stdout: "" +
			"PROVIDER   DAY         REQUESTS  INPUT  OUTPUT  COST     BILLABLE  PRICED\n" +
			"anthropic  2025-01-02  1         7      3       $0.0015  $0        estimated (1)\n" +
			"openai     2025-01-01  1         100    20      $1.25    $0        priced\n" +
			"openai     2025-01-02  1         50     10      $0.5     $0        priced\n" +
			"\n" +
			"period:         2025-01-01T00:00:00Z to 2025-01-03T00:00:00Z\n" +
			"platform-paid:  0 requests, N/A (0 input + 0 output tokens)\n" +
			"tenant-paid:    3 requests, $1.7515 (157 input + 33 output tokens)\n" +
			"tenant:         tn_0001\n" +
			"mode:           byok (byok billing: skip)\n" +
			"budget:         none\n"}},
		{"TenantByToken", []string{"usage", "--tenant", "acme", "--from", "2025-01-01", "--to", "2025-01-03", "--group-by", "token"}, result{stdout: "" +
			"TOKEN   REQUESTS  INPUT  OUTPUT  COST     BILLABLE  PRICED\n" +
			"gt_ci   1         7      3       $0.0015  $0        estimated (1)\n" +
			"gt_web  2         150    30      $1.75    $0        priced\n" +
			"\n" +
			"period:         2025-01-01T00:00:00Z to 2025-01-03T00:00:00Z\n" +
			"platform-paid:  0 requests, N/A (0 input + 0 output tokens)\n" +
			"tenant-paid:    3 requests, $1.7515 (157 input + 33 output tokens)\n" +
			"tenant:         tn_0001\n" +
			"mode:           byok (byok billing: skip)\n" +
			"budget:         none\n"}},
		// --since is relative to the CLI's clock, a day after the fake's start.
		{"AllByTenant", []string{"usage", "--all", "--since", "7d", "--group-by", "tenant"}, result{stdout: "" +
			"TENANT   REQUESTS  INPUT  OUTPUT  COST       BILLABLE   PRICED\n" +
			"tn_0001  3         157    33      $1.7515    $0         estimated (1)\n" +
			"tn_0003  1         10     10      $0.000025  $0.000025  priced\n" +
			"\n" +
			"period:         2024-12-27T03:04:05Z to 2025-01-02T04:00:00Z\n" +
			"platform-paid:  1 request, $0.000025 (10 input + 10 output tokens)\n" +
			"tenant-paid:    3 requests, $1.7515 (157 input + 33 output tokens)\n"}},
		{"SinceAndFrom", []string{"usage", "--all", "--since", "7d", "--from", "2025-01-01"}, result{exit: exitUsage,
			stderr: "keygate: usage: give at most one of --from and --since (usage)\n" + usageHint}},
		{"TenantAndAll", []string{"usage", "--all", "--tenant", "acme"}, result{exit: exitUsage,
			stderr: "keygate: usage: give at most one of --tenant and --all (usage)\n" + usageHint}},
		{"BadFrom", []string{"usage", "--from", "last week"}, result{exit: exitUsage,
			stderr: "keygate: usage: --from: \"last week\" is not an RFC 3339 time, a date (2006-01-02) or a duration such as 24h or 7d (usage)\n" + usageHint}},
		{"TenantDimension", []string{"usage", "--tenant", "acme", "--group-by", "tenant"}, result{exit: exitInvalid,
			stderr: "keygate: group_by takes provider, model, key_source, user, day, token (and tenant platform-wide). (invalid_request)\n"}},
	})

	// Without --tenant or --all, a platform admin gets the platform-wide
	// report (one row of totals), and a tenant token its own tenant's.
	r := MustRun(t, s, "", "usage")
	if r.exit != 0 || !strings.HasPrefix(r.stdout, "REQUESTS  INPUT  OUTPUT  COST       BILLABLE   PRICED\n4         167    43      $1.751525  $0.000025  estimated (1)") || strings.Contains(r.stdout, "mode:") {
		t.Errorf("usage as platform admin: exit %d\n%s%s", r.exit, r.stdout, r.stderr)
	}
	s.AddToken("kga_betamember", client.AdminToken{ID: "at_beta", Name: "beta", Role: keygate.RoleMember, Tenant: "tn_0003"})
	r = runEnv(t, map[string]string{"KEYGATE_ADDR": s.URL, "KEYGATE_TOKEN": "kga_betamember"}, "", "usage", "--group-by", "model")
	if r.exit != 0 || !strings.Contains(r.stdout, "gpt-4o-mini  1 ") || !strings.Contains(r.stdout, "mode:           platform (byok billing: skip)\n") {
		t.Errorf("usage as beta's member: exit %d\n%s%s", r.exit, r.stdout, r.stderr)
	}
	r = runEnv(t, map[string]string{"KEYGATE_ADDR": s.URL, "KEYGATE_TOKEN": "kga_betamember"}, "", "usage", "--all")
	if r.exit != exitUnauthorized {
		t.Errorf("usage --all as a member: exit %d, want %d: %s", r.exit, exitUnauthorized, r.stderr)
	}

	// --json prints the API object.
	r = MustRun(t, s, "", "usage", "--tenant", "acme", "--group-by", "key_source", "--json")
	var rep client.UsageReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("usage --json: %q: %v", r.stdout, err)
	}
	if rep.PlatformPaid.CostUSD != "N/A" || rep.Mode != "byok" || len(rep.Rows) != 2 || rep.Rows[0].KeySource != keygate.SourceRequest || rep.Budget == nil {
		t.Errorf("usage --json = %+v", rep)
	}
}

// TestUsageCommandByUser: --group-by user shows a row per end user (calls
// naming none under "-"), and --user limits rows and totals to one.
func TestUsageCommandByUser(t *testing.T) {
	s := MustUsageFake(t)
	day2 := time.Date(2025, 1, 2, 1, 0, 0, 0, time.UTC)
	for _, e := range []clienttest.UsageEvent{
		{Tenant: "tn_0003", EndUser: "alice", Provider: "openai", Model: "gpt-4o-mini", Source: keygate.SourcePlatform, Time: day2, InputTokens: 1, OutputTokens: 2, CostMicros: 3, BillableMicros: 3},
		{Tenant: "tn_0003", EndUser: "alice", Provider: "openai", Model: "gpt-4o-mini", Source: keygate.SourcePlatform, Time: day2, InputTokens: 4, OutputTokens: 5, CostMicros: 6, BillableMicros: 6},
	} {
		s.RecordUsage(e)
	}
	runSteps(t, s, []step{
		// Calls that named no end user group under "-".
		{"ByUser", []string{"usage", "--tenant", "beta", "--from", "2025-01-01", "--to", "2025-01-03", "--group-by", "user"}, result{stdout: "" +
			"USER   REQUESTS  INPUT  OUTPUT  COST       BILLABLE   PRICED\n" +
			"-      1         10     10      $0.000025  $0.000025  priced\n" +
			"alice  2         5      7       $0.000009  $0.000009  priced\n" +
			"\n" +
			"period:         2025-01-01T00:00:00Z to 2025-01-03T00:00:00Z\n" +
			"platform-paid:  3 requests, $0.000034 (15 input + 17 output tokens)\n" +
			"tenant-paid:    0 requests, $0 (0 input + 0 output tokens)\n" +
			"tenant:         tn_0003\n" +
			"mode:           platform (byok billing: skip)\n" +
			"budget:         none\n"}},
		{"OneUser", []string{"usage", "--tenant", "beta", "--from", "2025-01-01", "--to", "2025-01-03", "--user", "alice"}, result{stdout: "" +
			"REQUESTS  INPUT  OUTPUT  COST       BILLABLE   PRICED\n" +
			"2         5      7       $0.000009  $0.000009  priced\n" +
			"\n" +
			"period:         2025-01-01T00:00:00Z to 2025-01-03T00:00:00Z\n" +
			"platform-paid:  2 requests, $0.000009 (5 input + 7 output tokens)\n" +
			"tenant-paid:    0 requests, $0 (0 input + 0 output tokens)\n" +
			"end user:       alice\n" +
			"tenant:         tn_0003\n" +
			"mode:           platform (byok billing: skip)\n" +
			"budget:         none\n"}},
	})
}

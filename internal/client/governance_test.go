// SPDX-License-Identifier: Apache-2.0

package client_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/client"
	"github.com/keygate/keygate/internal/client/clienttest"
)

func ptr[T any](v T) *T { return &v }

// lastBody returns the body of the last request s received.
func lastBody(tb testing.TB, s *clienttest.Server) string {
	tb.Helper()
	rs := s.Requests()
	return string(rs[len(rs)-1].Body)
}

func TestBudget(t *testing.T) {
	s, c := MustFake(t)
	ctx := context.Background()
	tn := MustTenant(t, c, "acme")

	got, err := c.GetBudget(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	none := client.Budget{Tenant: tn.ID, AppliesTo: keygate.AppliesToPlatform, BYOKBilling: keygate.BillingSkip}
	if diff := cmp.Diff(none, got); diff != "" {
		t.Errorf("GetBudget before any PUT (-want +got):\n%s", diff)
	}

	stored, err := c.PutBudget(ctx, string(tn.ID), client.Budget{Tenant: "tn_ignored", DailyUSD: ptr("12.50"), MonthlyTokens: ptr[int64](1000), Hard: true, AppliesTo: keygate.AppliesToAll})
	if err != nil {
		t.Fatal(err)
	}
	// Every limit goes over the wire (null removes it); empty enums are
	// left to the server; tenant and updated_at are not sent.
	wantBody := `{"daily_usd":"12.50","monthly_usd":null,"daily_tokens":null,"monthly_tokens":1000,"hard":true,"applies_to":"all"}`
	if got := lastBody(t, s); got != wantBody {
		t.Errorf("PUT body:\n got %s\nwant %s", got, wantBody)
	}
	at := clienttest.Start().Add(3 * time.Second)
	want := client.Budget{Tenant: tn.ID, DailyUSD: ptr("12.5"), MonthlyTokens: ptr[int64](1000), Hard: true,
		AppliesTo: keygate.AppliesToAll, BYOKBilling: keygate.BillingSkip, UpdatedAt: &at}
	if diff := cmp.Diff(want, stored); diff != "" {
		t.Errorf("PutBudget (-want +got):\n%s", diff)
	}
	if got, err = c.GetBudget(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("GetBudget after PUT (-want +got):\n%s", diff)
	}

	errs := []struct {
		name   string
		tenant string
		b      client.Budget
		code   string
	}{
		{"NoTenant", "", client.Budget{}, keygate.CodeInvalidRequest},
		{"UnknownTenant", "nope", client.Budget{}, keygate.CodeNotFound},
		{"BadAmount", "acme", client.Budget{DailyUSD: ptr("1.2345678")}, keygate.CodeInvalidRequest},
		{"NegativeTokens", "acme", client.Budget{DailyTokens: ptr[int64](-1)}, keygate.CodeInvalidRequest},
		{"BadBilling", "acme", client.Budget{BYOKBilling: "free"}, keygate.CodeInvalidRequest},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.PutBudget(ctx, tt.tenant, tt.b)
			if got := keygate.ErrorCode(err); got != tt.code {
				t.Errorf("PutBudget: code %q (%v), want %q", got, err, tt.code)
			}
		})
	}
}

func TestLimits(t *testing.T) {
	s, c := MustFake(t)
	ctx := context.Background()
	tn := MustTenant(t, c, "acme")

	got, err := c.GetLimits(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(client.RateLimits{Tenant: tn.ID, Limits: []client.RateLimit{}}, got); diff != "" {
		t.Errorf("GetLimits before any PUT (-want +got):\n%s", diff)
	}
	stored, err := c.PutLimits(ctx, "acme", []client.RateLimit{{RPM: 60}, {Provider: "openai", TPM: 10000, AppliesTo: keygate.AppliesToAll}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := lastBody(t, s), `{"limits":[{"provider":"","rpm":60,"tpm":0},{"provider":"openai","rpm":0,"tpm":10000,"applies_to":"all"}]}`; got != want {
		t.Errorf("PUT body:\n got %s\nwant %s", got, want)
	}
	want := client.RateLimits{Tenant: tn.ID, Limits: []client.RateLimit{
		{RPM: 60, AppliesTo: keygate.AppliesToPlatform},
		{Provider: "openai", TPM: 10000, AppliesTo: keygate.AppliesToAll},
	}}
	if diff := cmp.Diff(want, stored); diff != "" {
		t.Errorf("PutLimits (-want +got):\n%s", diff)
	}
	if l, ok := stored.For("openai"); !ok || l.TPM != 10000 {
		t.Errorf("For(openai) = %+v, %v", l, ok)
	}
	if _, ok := stored.For("anthropic"); ok {
		t.Errorf("For(anthropic) found a limit")
	}

	// nil clears every limit, sent as [].
	if stored, err = c.PutLimits(ctx, "acme", nil); err != nil || len(stored.Limits) != 0 {
		t.Errorf("PutLimits(nil) = %+v, %v", stored, err)
	}
	if got := lastBody(t, s); got != `{"limits":[]}` {
		t.Errorf("PUT nil body = %s", got)
	}
	_, err = c.PutLimits(ctx, "acme", []client.RateLimit{{Provider: "nope", RPM: 1}})
	if got := keygate.ErrorCode(err); got != keygate.CodeUnknownProvider {
		t.Errorf("unknown provider: code %q (%v)", got, err)
	}
}

func TestUsage(t *testing.T) {
	s, c := MustFake(t)
	ctx := context.Background()
	acme := MustTenant(t, c, "acme")
	beta := MustTenant(t, c, "beta")
	day := func(d int) time.Time { return time.Date(2025, 1, d, 1, 0, 0, 0, time.UTC) }
	for _, e := range []clienttest.UsageEvent{
		{Tenant: acme.ID, Provider: "openai", Model: "gpt-4o", Source: keygate.SourcePlatform, Time: day(1), InputTokens: 10, OutputTokens: 5, CostMicros: 1500, BillableMicros: 1500},
		{Tenant: acme.ID, Provider: "openai", Model: "gpt-4o", Source: keygate.SourcePlatform, Time: day(2), InputTokens: 20, OutputTokens: 5, CostMicros: 2500, BillableMicros: 2500},
		{Tenant: acme.ID, Provider: "anthropic", Model: "claude-sonnet-4", Source: keygate.SourceTenant, Time: day(2), InputTokens: 7, OutputTokens: 3, CostMicros: 12_000_000},
		{Tenant: beta.ID, Provider: "openai", Model: "gpt-4o", Source: keygate.SourcePlatform, Time: day(2), InputTokens: 1, OutputTokens: 1, CostMicros: 1},
	} {
		s.RecordUsage(e)
	}
	from, to := day(1).Truncate(24*time.Hour), day(3).Truncate(24*time.Hour)

	got, err := c.Usage(ctx, client.UsageQuery{Tenant: "acme", From: from, To: to, GroupBy: []string{client.GroupProvider, client.GroupDay}})
	if err != nil {
		t.Fatal(err)
	}
	if q := s.Requests()[len(s.Requests())-1]; q.Path != "/api/v1/tenants/acme/usage" || q.Query != "from=2025-01-01T00%3A00%3A00Z&group_by=provider%2Cday&to=2025-01-03T00%3A00%3A00Z" {
		t.Errorf("request %s?%s", q.Path, q.Query)
	}
	budget := client.Budget{Tenant: acme.ID, AppliesTo: keygate.AppliesToPlatform, BYOKBilling: keygate.BillingSkip}
	want := client.UsageReport{
		Tenant: acme.ID, From: from, To: to, GroupBy: []string{"provider", "day"},
		Rows: []client.UsageRow{
			{Provider: "anthropic", Day: "2025-01-02", Requests: 1, InputTokens: 7, OutputTokens: 3, CostUSD: "12", BillableCostUSD: "0", Priced: "priced"},
			{Provider: "openai", Day: "2025-01-01", Requests: 1, InputTokens: 10, OutputTokens: 5, CostUSD: "0.0015", BillableCostUSD: "0.0015", Priced: "priced"},
			{Provider: "openai", Day: "2025-01-02", Requests: 1, InputTokens: 20, OutputTokens: 5, CostUSD: "0.0025", BillableCostUSD: "0.0025", Priced: "priced"},
		},
		PlatformPaid: client.UsageTotals{Requests: 2, InputTokens: 30, OutputTokens: 10, CostUSD: "0.004"},
		TenantPaid:   client.UsageTotals{Requests: 1, InputTokens: 7, OutputTokens: 3, CostUSD: "12"},
		Mode:         "platform", BYOKBilling: keygate.BillingSkip, Budget: &budget,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("tenant Usage (-want +got):\n%s", diff)
	}

	// Platform-wide, by tenant, no times: the server's defaults.
	got, err = c.Usage(ctx, client.UsageQuery{GroupBy: []string{client.GroupTenant}})
	if err != nil {
		t.Fatal(err)
	}
	if q := s.Requests()[len(s.Requests())-1]; q.Path != "/api/v1/usage" || q.Query != "group_by=tenant" {
		t.Errorf("request %s?%s", q.Path, q.Query)
	}
	// The fake's clock is in 2025-01-02, so the default window holds all.
	wantRows := []client.UsageRow{
		{Tenant: acme.ID, Requests: 3, InputTokens: 37, OutputTokens: 13, CostUSD: "12.004", BillableCostUSD: "0.004", Priced: "priced"},
		{Tenant: beta.ID, Requests: 1, InputTokens: 1, OutputTokens: 1, CostUSD: "0.000001", BillableCostUSD: "0", Priced: "priced"},
	}
	if diff := cmp.Diff(wantRows, got.Rows); diff != "" || got.Mode != "" || got.Budget != nil || got.Tenant != "" {
		t.Errorf("platform Usage rows (-want +got):\n%s\nmode %q budget %v tenant %q", diff, got.Mode, got.Budget, got.Tenant)
	}

	errs := []struct {
		name string
		q    client.UsageQuery
		code string
	}{
		{"TenantDimensionForATenant", client.UsageQuery{Tenant: "acme", GroupBy: []string{"tenant"}}, keygate.CodeInvalidRequest},
		{"UnknownDimension", client.UsageQuery{GroupBy: []string{"color"}}, keygate.CodeInvalidRequest},
		{"Backwards", client.UsageQuery{From: to, To: from}, keygate.CodeInvalidRequest},
		{"UnknownTenant", client.UsageQuery{Tenant: "nope"}, keygate.CodeNotFound},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Usage(ctx, tt.q)
			if got := keygate.ErrorCode(err); got != tt.code {
				t.Errorf("Usage: code %q (%v), want %q", got, err, tt.code)
			}
		})
	}
}

// SPDX-License-Identifier: Apache-2.0

package api

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/keygate/keygate"
)

type usageRowJSON struct {
	Tenant          keygate.TenantID  `json:"tenant,omitempty"`
	Provider        string            `json:"provider,omitempty"`
	Model           string            `json:"model,omitempty"`
	KeySource       keygate.KeySource `json:"key_source,omitempty"`
	User            string            `json:"user,omitempty"`
	Token           string            `json:"token,omitempty"`
	Day             string            `json:"day,omitempty"`
	Requests        int64             `json:"requests"`
	InputTokens     int64             `json:"input_tokens"`
	OutputTokens    int64             `json:"output_tokens"`
	CachedTokens    int64             `json:"cached_tokens"`
	CostUSD         usd               `json:"cost_usd"`
	BillableCostUSD usd               `json:"billable_cost_usd"`
	// Priced is how the row's cost was found: "priced" (every call at its
	// model's price), "estimated" (some at their provider's fallback
	// price) or "unpriced" (some with no price at all, counted at 0).
	Priced            string `json:"priced"`
	EstimatedRequests int64  `json:"estimated_requests"`
	UnpricedRequests  int64  `json:"unpriced_requests"`
}

func toUsageRowJSON(r keygate.UsageRow) usageRowJSON {
	out := usageRowJSON{Tenant: r.Tenant, Provider: r.Provider, Model: r.Model, KeySource: r.Source, User: r.User, Token: r.Token, Requests: r.Requests,
		InputTokens: r.InputTokens, OutputTokens: r.OutputTokens, CachedTokens: r.CachedTokens,
		CostUSD: usd(r.CostMicros), BillableCostUSD: usd(r.BillableCostMicros),
		Priced: keygate.PricedExact, EstimatedRequests: r.EstimatedRequests, UnpricedRequests: r.UnpricedRequests}
	switch {
	case r.UnpricedRequests > 0:
		out.Priced = keygate.PricedNone
	case r.EstimatedRequests > 0:
		out.Priced = keygate.PricedEstimated
	}
	if !r.Day.IsZero() {
		out.Day = r.Day.UTC().Format("2006-01-02")
	}
	return out
}

// usageTotals is one side of the dashboard: platform-paid or tenant-paid.
type usageTotals struct {
	Requests     int64 `json:"requests"`
	InputTokens  int64 `json:"input_tokens"`
	OutputTokens int64 `json:"output_tokens"`
	// CostUSD is a decimal string, or "N/A" for the platform cost of a
	// tenant in BYOK mode, as the stories' dashboards show.
	CostUSD string `json:"cost_usd"`
}

var usageDimensions = []string{"tenant", "provider", "model", "key_source", "user", "day", "token"}

// usageQuery reads from (default: 30 days ago), to (default: now; both RFC
// 3339 or YYYY-MM-DD), user (one end user's calls) and group_by.
func usageQuery(q map[string][]string, now time.Time, platform bool) (keygate.UsageQuery, error) {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	// Whole hours by default, so the rollups answer without raw events.
	end := now.Truncate(time.Hour).Add(time.Hour)
	uq := keygate.UsageQuery{From: end.AddDate(0, 0, -30), To: end, GroupBy: []string{}}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &uq.From}, {"to", &uq.To}} {
		v := get(p.name)
		if v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			if t, err = time.Parse("2006-01-02", v); err != nil {
				return uq, keygate.Errorf(keygate.CodeInvalidRequest, "%s must be a date (2026-01-02) or an RFC 3339 time.", p.name)
			}
		}
		*p.dst = t.UTC()
	}
	if !uq.To.After(uq.From) {
		return uq, keygate.Errorf(keygate.CodeInvalidRequest, "to must be after from.")
	}
	if v, ok := q["user"]; ok {
		if len(v) != 1 || !keygate.ValidEndUser(v[0]) {
			return uq, keygate.Errorf(keygate.CodeInvalidRequest, "user must be one end-user id of 1 to %d characters of A-Z, a-z, 0-9 and . _ : @ + -.", keygate.MaxEndUserLen)
		}
		uq.User = v[0]
	}
	if v := get("group_by"); v != "" {
		for _, d := range strings.Split(v, ",") {
			d = strings.TrimSpace(d)
			if !slices.Contains(usageDimensions, d) || (d == "tenant" && !platform) {
				return uq, keygate.Errorf(keygate.CodeInvalidRequest, "group_by takes provider, model, key_source, user, day, token (and tenant platform-wide).")
			}
			if !slices.Contains(uq.GroupBy, d) {
				uq.GroupBy = append(uq.GroupBy, d)
			}
		}
	}
	return uq, nil
}

// handleUsage reports a tenant's usage (or, on /api/v1/usage, every
// tenant's), grouped as asked, with the dashboard's two totals: what the
// platform paid (with its budget), and what the tenant's own keys paid. A
// tenant in BYOK mode (BYOK enabled and its own keys stored) shows "N/A" as
// the platform cost when its billing policy is skip.
func (a *API) handleUsage(c *call) (int, any, error) {
	uq, err := usageQuery(c.r.URL.Query(), a.d.Now().UTC(), c.tenant.ID == "")
	if err != nil {
		return 0, nil, err
	}
	if uq.User != "" && a.d.Providers.RedactModel(uq.User) != uq.User {
		// Key-shaped (an id has no "/", so RedactModel judges it whole):
		// the gateway never records such an id, and the answer would echo
		// it.
		return 0, nil, keygate.Errorf(keygate.CodeInvalidRequest, "user must be one end-user id, not a value shaped like a credential.")
	}
	uq.Tenant = c.tenant.ID
	rows, err := a.d.Store.QueryUsage(c.r.Context(), uq)
	if err != nil {
		return 0, nil, err
	}
	bySource := uq
	bySource.GroupBy = []string{"key_source"}
	sums, err := a.d.Store.QueryUsage(c.r.Context(), bySource)
	if err != nil {
		return 0, nil, err
	}
	var platform, own usageTotals
	var platformMicros, ownMicros int64
	for _, r := range sums {
		t, m := &own, &ownMicros
		if r.Source == keygate.SourcePlatform {
			t, m = &platform, &platformMicros
		}
		t.Requests += r.Requests
		t.InputTokens += r.InputTokens
		t.OutputTokens += r.OutputTokens
		*m += r.CostMicros
	}
	platform.CostUSD, own.CostUSD = formatUSD(platformMicros), formatUSD(ownMicros)
	out := map[string]any{
		"from": uq.From, "to": uq.To, "group_by": uq.GroupBy,
		"platform_paid": &platform, "tenant_paid": &own,
	}
	if uq.User != "" {
		out["user"] = uq.User
	}
	rowsJSON := make([]usageRowJSON, 0, len(rows))
	for _, r := range rows {
		row := toUsageRowJSON(r)
		// The proxy records a key-shaped model as a marker; rows written
		// before it did are masked here.
		row.Model = a.d.Providers.RedactModel(row.Model)
		rowsJSON = append(rowsJSON, row)
	}
	out["rows"] = rowsJSON
	if c.tenant.ID != "" {
		out["tenant"] = c.tenant.ID
		b, err := a.d.Store.GetBudget(c.r.Context(), c.tenant.ID)
		if err != nil {
			return 0, nil, err
		}
		keys, err := a.d.Vault.List(c.r.Context(), c.tenant.ID)
		if err != nil {
			return 0, nil, err
		}
		mode := "platform"
		if c.tenant.BYOKEnabled && len(keys) > 0 {
			mode = "byok"
			if b.BYOKBilling != keygate.BillingMeter && platform.Requests == 0 {
				platform.CostUSD = "N/A"
			}
		}
		out["mode"] = mode
		out["byok_billing"] = b.BYOKBilling
		b.Tenant = c.tenant.ID
		out["budget"] = toBudgetJSON(b)
	}
	return http.StatusOK, out, nil
}

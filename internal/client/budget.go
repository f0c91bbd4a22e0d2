// SPDX-License-Identifier: Apache-2.0

package client

import (
	"context"
	"net/http"
	"time"

	"github.com/keygate/keygate"
)

// Budget is the API's budget object: what a tenant may spend per UTC day and
// month. A nil limit is no limit. Amounts in US dollars are decimal strings
// ("12.5") exactly as the server writes them, never floats.
type Budget struct {
	Tenant        keygate.TenantID `json:"tenant"`
	DailyUSD      *string          `json:"daily_usd"`
	MonthlyUSD    *string          `json:"monthly_usd"`
	DailyTokens   *int64           `json:"daily_tokens"`
	MonthlyTokens *int64           `json:"monthly_tokens"`
	// PerUserDailyUSD and PerUserDailyTokens cap each end user of the
	// tenant per UTC day (calls naming no end user are not capped).
	PerUserDailyUSD    *string `json:"per_user_daily_usd"`
	PerUserDailyTokens *int64  `json:"per_user_daily_tokens"`
	// Hard refuses calls once a limit is spent (429 budget_exceeded); a
	// soft budget only reports.
	Hard bool `json:"hard"`
	// AppliesTo is keygate.AppliesToPlatform (only platform-paid calls
	// count) or keygate.AppliesToAll.
	AppliesTo string `json:"applies_to"`
	// BYOKBilling is keygate.BillingSkip (calls on the tenant's own keys
	// cost the platform nothing) or keygate.BillingMeter.
	BYOKBilling string `json:"byok_billing"`
	// UpdatedAt is nil while the tenant has never set a budget.
	UpdatedAt *time.Time `json:"updated_at"`
}

// tenantPath returns /tenants/{tenant}/{what}, refusing an empty tenant.
func tenantPath(tenant, what string) (string, error) {
	if err := required("tenant", tenant); err != nil {
		return "", err
	}
	return "/tenants/" + pathEscape(tenant) + "/" + what, nil
}

// GetBudget returns the budget of tenant (id or name); a tenant that never
// set one has no limits and a nil UpdatedAt. not_found for an unknown tenant.
func (c *Client) GetBudget(ctx context.Context, tenant string) (Budget, error) {
	var b Budget
	path, err := tenantPath(tenant, "budget")
	if err != nil {
		return b, err
	}
	_, err = c.do(ctx, call{method: http.MethodGet, path: path, out: &b})
	return b, err
}

// PutBudget replaces the budget of tenant with b (b.Tenant and b.UpdatedAt
// are ignored; a nil limit removes it; an empty AppliesTo or BYOKBilling
// leaves the server's default) and returns the budget stored. Only platform
// admins may set budgets (forbidden otherwise). The server answers
// invalid_request for a malformed amount, a negative token limit or an
// unknown applies_to / byok_billing, and not_found for an unknown tenant.
// Like PutPolicy, there is no compare-and-swap: of two concurrent
// read-modify-write cycles, the later PUT wins.
func (c *Client) PutBudget(ctx context.Context, tenant string, b Budget) (Budget, error) {
	var out Budget
	path, err := tenantPath(tenant, "budget")
	if err != nil {
		return out, err
	}
	body, err := jsonBody(struct {
		DailyUSD      *string `json:"daily_usd"`
		MonthlyUSD    *string `json:"monthly_usd"`
		DailyTokens   *int64  `json:"daily_tokens"`
		MonthlyTokens *int64  `json:"monthly_tokens"`
		PerUserUSD    *string `json:"per_user_daily_usd,omitempty"`
		PerUserTokens *int64  `json:"per_user_daily_tokens,omitempty"`
		Hard          bool    `json:"hard"`
		AppliesTo     string  `json:"applies_to,omitempty"`
		BYOKBilling   string  `json:"byok_billing,omitempty"`
	}{b.DailyUSD, b.MonthlyUSD, b.DailyTokens, b.MonthlyTokens, b.PerUserDailyUSD, b.PerUserDailyTokens, b.Hard, b.AppliesTo, b.BYOKBilling})
	if err != nil {
		return out, err
	}
	_, err = c.do(ctx, call{method: http.MethodPut, path: path, body: body, out: &out})
	return out, err
}

// SPDX-License-Identifier: Apache-2.0

package api

import (
	"encoding/json"
	"net/http"
	"slices"
	"time"

	"github.com/keygate/keygate"
)

type budgetJSON struct {
	Tenant        keygate.TenantID `json:"tenant"`
	DailyUSD      *usd             `json:"daily_usd"`
	MonthlyUSD    *usd             `json:"monthly_usd"`
	DailyTokens   *int64           `json:"daily_tokens"`
	MonthlyTokens *int64           `json:"monthly_tokens"`
	// The per-end-user daily limits (null: none).
	PerUserDailyUSD    *usd       `json:"per_user_daily_usd"`
	PerUserDailyTokens *int64     `json:"per_user_daily_tokens"`
	Hard               bool       `json:"hard"`
	AppliesTo          string     `json:"applies_to"`
	BYOKBilling        string     `json:"byok_billing"`
	UpdatedAt          *time.Time `json:"updated_at"`
}

func toBudgetJSON(b keygate.Budget) budgetJSON {
	out := budgetJSON{Tenant: b.Tenant, DailyTokens: b.DailyTokens, MonthlyTokens: b.MonthlyTokens, Hard: b.Hard,
		AppliesTo: b.AppliesTo, BYOKBilling: b.BYOKBilling, UpdatedAt: optTime(b.UpdatedAt), PerUserDailyTokens: b.PerUserDailyTokens}
	if b.PerUserDailyUSDMicros != nil {
		v := usd(*b.PerUserDailyUSDMicros)
		out.PerUserDailyUSD = &v
	}
	if b.DailyUSDMicros != nil {
		v := usd(*b.DailyUSDMicros)
		out.DailyUSD = &v
	}
	if b.MonthlyUSDMicros != nil {
		v := usd(*b.MonthlyUSDMicros)
		out.MonthlyUSD = &v
	}
	return out
}

func (a *API) handleBudgetGet(c *call) (int, any, error) {
	b, err := a.d.Store.GetBudget(c.r.Context(), c.tenant.ID)
	if err != nil {
		return 0, nil, err
	}
	b.Tenant = c.tenant.ID
	return http.StatusOK, toBudgetJSON(b), nil
}

// handleBudgetPut replaces the tenant's budget: any subset of the limits
// (absent = no limit), hard or soft, what it applies to, and whether BYOK
// usage counts toward platform credits.
func (a *API) handleBudgetPut(c *call) (int, any, error) {
	// The limits are read raw and checked one by one, so that a bad value
	// is answered with its field and what is wrong with it, not as
	// malformed JSON.
	var req struct {
		DailyUSD      json.RawMessage `json:"daily_usd"`
		MonthlyUSD    json.RawMessage `json:"monthly_usd"`
		DailyTokens   json.RawMessage `json:"daily_tokens"`
		MonthlyTokens json.RawMessage `json:"monthly_tokens"`
		PerUserUSD    json.RawMessage `json:"per_user_daily_usd"`
		PerUserTokens json.RawMessage `json:"per_user_daily_tokens"`
		Hard          *bool           `json:"hard"`
		AppliesTo     *string         `json:"applies_to"`
		BYOKBilling   *string         `json:"byok_billing"`
	}
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	b := keygate.Budget{Tenant: c.tenant.ID, AppliesTo: keygate.AppliesToPlatform, BYOKBilling: keygate.BillingSkip}
	var err error
	if b.DailyUSDMicros, err = usdField("daily_usd", req.DailyUSD); err != nil {
		return 0, nil, err
	}
	if b.MonthlyUSDMicros, err = usdField("monthly_usd", req.MonthlyUSD); err != nil {
		return 0, nil, err
	}
	if b.DailyTokens, err = tokensField("daily_tokens", req.DailyTokens); err != nil {
		return 0, nil, err
	}
	if b.MonthlyTokens, err = tokensField("monthly_tokens", req.MonthlyTokens); err != nil {
		return 0, nil, err
	}
	if b.PerUserDailyUSDMicros, err = usdField("per_user_daily_usd", req.PerUserUSD); err != nil {
		return 0, nil, err
	}
	if b.PerUserDailyTokens, err = tokensField("per_user_daily_tokens", req.PerUserTokens); err != nil {
		return 0, nil, err
	}
	if req.Hard != nil {
		b.Hard = *req.Hard
	}
	if req.AppliesTo != nil {
		if !slices.Contains([]string{keygate.AppliesToPlatform, keygate.AppliesToAll}, *req.AppliesTo) {
			return 0, nil, keygate.Errorf(keygate.CodeInvalidRequest, "applies_to must be platform or all.")
		}
		b.AppliesTo = *req.AppliesTo
	}
	if req.BYOKBilling != nil {
		if !slices.Contains([]string{keygate.BillingSkip, keygate.BillingMeter}, *req.BYOKBilling) {
			return 0, nil, keygate.Errorf(keygate.CodeInvalidRequest, "byok_billing must be skip or meter.")
		}
		b.BYOKBilling = *req.BYOKBilling
	}
	ev := c.event(c.tenant.ID, keygate.ActionBudgetUpdated)
	detail, _ := json.Marshal(toBudgetJSON(b))
	ev.Detail = string(detail)
	saved, err := a.d.Store.PutBudget(c.r.Context(), b, ev)
	if err != nil {
		return 0, nil, err
	}
	saved.Tenant = c.tenant.ID
	return http.StatusOK, toBudgetJSON(saved), nil
}

type rateLimitJSON struct {
	Provider  string `json:"provider"`
	RPM       int64  `json:"rpm"`
	TPM       int64  `json:"tpm"`
	AppliesTo string `json:"applies_to"`
}

func (a *API) handleLimitsGet(c *call) (int, any, error) {
	ls, err := a.d.Store.GetRateLimits(c.r.Context(), c.tenant.ID)
	if err != nil {
		return 0, nil, err
	}
	out := make([]rateLimitJSON, 0, len(ls))
	for _, l := range ls {
		out = append(out, rateLimitJSON{Provider: l.Provider, RPM: l.RPM, TPM: l.TPM, AppliesTo: l.AppliesTo})
	}
	return http.StatusOK, map[string]any{"tenant": c.tenant.ID, "limits": out}, nil
}

// handleLimitsPut replaces the tenant's rate limits: per provider ("" for
// all providers together), requests and tokens per minute (0 = no cap).
func (a *API) handleLimitsPut(c *call) (int, any, error) {
	var req struct {
		Limits []struct {
			Provider  string  `json:"provider"`
			RPM       int64   `json:"rpm"`
			TPM       int64   `json:"tpm"`
			AppliesTo *string `json:"applies_to"`
		} `json:"limits"`
	}
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	names := a.d.Providers.Names()
	seen := map[string]bool{}
	var ls []keygate.RateLimit
	for _, l := range req.Limits {
		if l.Provider != "" && !slices.Contains(names, l.Provider) {
			return 0, nil, keygate.Errorf(keygate.CodeUnknownProvider, "Unknown provider %s in limits.", a.ref(l.Provider))
		}
		if seen[l.Provider] {
			return 0, nil, keygate.Errorf(keygate.CodeInvalidRequest, "Provider %s is listed twice in limits.", a.ref(l.Provider))
		}
		seen[l.Provider] = true
		if l.RPM < 0 || l.TPM < 0 {
			return 0, nil, keygate.Errorf(keygate.CodeInvalidRequest, "rpm and tpm must not be negative.")
		}
		applies := keygate.AppliesToPlatform
		if l.AppliesTo != nil {
			if !slices.Contains([]string{keygate.AppliesToPlatform, keygate.AppliesToAll}, *l.AppliesTo) {
				return 0, nil, keygate.Errorf(keygate.CodeInvalidRequest, "applies_to must be platform or all.")
			}
			applies = *l.AppliesTo
		}
		ls = append(ls, keygate.RateLimit{Provider: l.Provider, RPM: l.RPM, TPM: l.TPM, AppliesTo: applies})
	}
	ev := c.event(c.tenant.ID, keygate.ActionLimitsUpdated)
	detail, _ := json.Marshal(map[string]any{"limits": req.Limits})
	ev.Detail = string(detail)
	saved, err := a.d.Store.PutRateLimits(c.r.Context(), c.tenant.ID, ls, ev)
	if err != nil {
		return 0, nil, err
	}
	out := make([]rateLimitJSON, 0, len(saved))
	for _, l := range saved {
		out = append(out, rateLimitJSON{Provider: l.Provider, RPM: l.RPM, TPM: l.TPM, AppliesTo: l.AppliesTo})
	}
	return http.StatusOK, map[string]any{"tenant": c.tenant.ID, "limits": out}, nil
}

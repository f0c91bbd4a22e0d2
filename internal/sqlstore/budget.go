// SPDX-License-Identifier: Apache-2.0

package sqlstore

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/keygate/keygate"
)

// defaultBudget is the budget of a tenant that never set one: no limits,
// soft, AppliesTo platform, BYOKBilling skip, zero UpdatedAt.
func defaultBudget(tenant keygate.TenantID) keygate.Budget {
	return keygate.Budget{Tenant: tenant, AppliesTo: keygate.AppliesToPlatform, BYOKBilling: keygate.BillingSkip}
}

// budget selects the tenant's row joined with its budget, so that "no
// tenant" (no row) and "no budget" (a row of NULLs) are told apart
// (scanBudget reads it).
func (d Dialect) budget(tenant keygate.TenantID) Stmt {
	return Stmt{d.render(`SELECT b.daily_usd_micros, b.monthly_usd_micros, b.daily_tokens, b.monthly_tokens,
		b.hard, b.applies_to, b.byok_billing, b.updated_at, b.per_user_daily_usd_micros, b.per_user_daily_tokens
		FROM tenants t LEFT JOIN budgets b ON b.tenant_id = t.id WHERE t.id = ?`), []any{string(tenant)}}
}

// scanBudget reads the row of budget(tenant): the stored budget, or
// defaultBudget when the tenant has none. The caller maps "no row".
func scanBudget(row Row, tenant keygate.TenantID) (keygate.Budget, error) {
	b := keygate.Budget{Tenant: tenant}
	var hard *bool
	var applies, billing *string
	if err := row.Scan(&b.DailyUSDMicros, &b.MonthlyUSDMicros, &b.DailyTokens, &b.MonthlyTokens,
		&hard, &applies, &billing, timeDest{&b.UpdatedAt}, &b.PerUserDailyUSDMicros, &b.PerUserDailyTokens); err != nil {
		return keygate.Budget{}, err
	}
	if applies == nil {
		return defaultBudget(tenant), nil
	}
	b.Hard, b.AppliesTo, b.BYOKBilling = *hard, *applies, *billing
	return b, nil
}

// PutBudget replaces the tenant's budget with b, normalized
// (NormalizeBudget) and stamped.
func (d Dialect) PutBudget(b keygate.Budget) Stmt {
	return Stmt{d.render(`INSERT INTO budgets
		(tenant_id, daily_usd_micros, monthly_usd_micros, daily_tokens, monthly_tokens, hard, applies_to, byok_billing, updated_at,
		per_user_daily_usd_micros, per_user_daily_tokens)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (tenant_id) DO UPDATE SET daily_usd_micros = excluded.daily_usd_micros,
		monthly_usd_micros = excluded.monthly_usd_micros, daily_tokens = excluded.daily_tokens,
		monthly_tokens = excluded.monthly_tokens, hard = excluded.hard, applies_to = excluded.applies_to,
		byok_billing = excluded.byok_billing, updated_at = excluded.updated_at,
		per_user_daily_usd_micros = excluded.per_user_daily_usd_micros, per_user_daily_tokens = excluded.per_user_daily_tokens`),
		[]any{string(b.Tenant), b.DailyUSDMicros, b.MonthlyUSDMicros, b.DailyTokens, b.MonthlyTokens,
			b.Hard, b.AppliesTo, b.BYOKBilling, d.timeArg(b.UpdatedAt), b.PerUserDailyUSDMicros, b.PerUserDailyTokens}}
}

// getRateLimits reads the tenant's rate limits in tx, ordered by provider
// bytewise (the all-providers limit, provider "", first): the tenant row
// joined with its limits, so that "no tenant" (no row) and "no limits" (a
// row of NULLs) are told apart. Returns not_found for an unknown tenant.
func (d Dialect) getRateLimits(ctx context.Context, tx Tx, tenant keygate.TenantID) ([]keygate.RateLimit, error) {
	var out []keygate.RateLimit
	found := false
	err := tx.QueryStmt(ctx, Stmt{d.render(`SELECT l.provider, l.rpm, l.tpm, l.applies_to
		FROM tenants t LEFT JOIN rate_limits l ON l.tenant_id = t.id WHERE t.id = ? ORDER BY ` + d.bytewise("l.provider")),
		[]any{string(tenant)}}, func(rows Rows) error {
		for rows.Next() {
			found = true
			var provider, applies *string
			var rpm, tpm *int64
			if err := rows.Scan(&provider, &rpm, &tpm, &applies); err != nil {
				return err
			}
			if provider != nil {
				out = append(out, keygate.RateLimit{Provider: *provider, RPM: *rpm, TPM: *tpm, AppliesTo: *applies})
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, NoTenant(string(tenant))
	}
	return out, nil
}

// ReplaceRateLimits replaces, in tx, the tenant's rate limits with limits
// (normalized by NormalizeLimits).
func (d Dialect) ReplaceRateLimits(ctx context.Context, tx Tx, tenant keygate.TenantID, limits []keygate.RateLimit) error {
	now := tx.Now()
	if _, err := tx.ExecStmt(ctx, Stmt{d.render(`DELETE FROM rate_limits WHERE tenant_id = ?`), []any{string(tenant)}}); err != nil {
		return fmt.Errorf("delete old rate limits: %w", err)
	}
	for _, l := range limits {
		if _, err := tx.ExecStmt(ctx, Stmt{d.render(`INSERT INTO rate_limits (tenant_id, provider, rpm, tpm, applies_to, updated_at)
			VALUES (?, ?, ?, ?, ?, ?)`), []any{string(tenant), l.Provider, l.RPM, l.TPM, l.AppliesTo, d.timeArg(now)}}); err != nil {
			return fmt.Errorf("insert rate limit for provider %s: %w", Quote(l.Provider), err)
		}
	}
	return nil
}

// NormalizeBudget checks b and fills its defaults. The limits are copied,
// so the stored budget does not change with the caller's pointers.
// Returns invalid_request for no tenant, a negative limit or an unknown
// AppliesTo or BYOKBilling.
func NormalizeBudget(b keygate.Budget) (keygate.Budget, error) {
	if b.Tenant == "" {
		return keygate.Budget{}, keygate.Errorf(keygate.CodeInvalidRequest, "A budget needs a tenant.")
	}
	for _, l := range []struct {
		name string
		p    **int64
	}{
		{"daily_usd_micros", &b.DailyUSDMicros}, {"monthly_usd_micros", &b.MonthlyUSDMicros},
		{"daily_tokens", &b.DailyTokens}, {"monthly_tokens", &b.MonthlyTokens},
		{"per_user_daily_usd_micros", &b.PerUserDailyUSDMicros}, {"per_user_daily_tokens", &b.PerUserDailyTokens},
	} {
		if *l.p == nil {
			continue
		}
		if **l.p < 0 {
			return keygate.Budget{}, keygate.Errorf(keygate.CodeInvalidRequest, "Budget limit %s must not be negative.", l.name)
		}
		v := **l.p
		*l.p = &v
	}
	var err error
	if b.AppliesTo, err = appliesTo(b.AppliesTo); err != nil {
		return keygate.Budget{}, err
	}
	switch b.BYOKBilling {
	case "":
		b.BYOKBilling = keygate.BillingSkip
	case keygate.BillingSkip, keygate.BillingMeter:
	default:
		return keygate.Budget{}, keygate.Errorf(keygate.CodeInvalidRequest, "BYOK billing %s is not valid: want %s or %s.",
			Quote(b.BYOKBilling), keygate.BillingSkip, keygate.BillingMeter)
	}
	return b, nil
}

// NormalizeLimits checks limits, fills their defaults and sorts them by
// provider, in a new slice. Returns invalid_request for no tenant, a
// negative cap, an unknown AppliesTo or two limits for one provider.
func NormalizeLimits(tenant keygate.TenantID, limits []keygate.RateLimit) ([]keygate.RateLimit, error) {
	if tenant == "" {
		return nil, keygate.Errorf(keygate.CodeInvalidRequest, "Rate limits need a tenant.")
	}
	out := slices.Clone(limits)
	for i := range out {
		l := &out[i]
		if l.RPM < 0 || l.TPM < 0 {
			return nil, keygate.Errorf(keygate.CodeInvalidRequest, "Rate limit for provider %s must not be negative.", Quote(l.Provider))
		}
		var err error
		if l.AppliesTo, err = appliesTo(l.AppliesTo); err != nil {
			return nil, err
		}
	}
	slices.SortFunc(out, func(a, b keygate.RateLimit) int { return strings.Compare(a.Provider, b.Provider) })
	for i := 1; i < len(out); i++ {
		if out[i].Provider == out[i-1].Provider {
			return nil, keygate.Errorf(keygate.CodeInvalidRequest, "Two rate limits for provider %s.", Quote(out[i].Provider))
		}
	}
	return out, nil
}

// appliesTo checks an applies-to value and fills its default.
func appliesTo(v string) (string, error) {
	switch v {
	case "":
		return keygate.AppliesToPlatform, nil
	case keygate.AppliesToPlatform, keygate.AppliesToAll:
		return v, nil
	}
	return "", keygate.Errorf(keygate.CodeInvalidRequest, "Applies-to %s is not valid: want %s or %s.",
		Quote(v), keygate.AppliesToPlatform, keygate.AppliesToAll)
}

// PutBudget replaces the tenant's budget with b and appends ev, in one
// transaction, and returns b as stored: empty AppliesTo and BYOKBilling
// become their defaults, UpdatedAt is the store's clock (the caller's is
// ignored). Returns invalid_request for no tenant, a negative limit or an
// unknown AppliesTo or BYOKBilling, and not_found (nothing written) for an
// unknown tenant. Concurrent calls for one tenant serialize on the tenant
// row; the last to commit wins whole.
func (s *Store) PutBudget(ctx context.Context, b keygate.Budget, ev keygate.AuditEvent) (keygate.Budget, error) {
	b, err := NormalizeBudget(b)
	if err != nil {
		return keygate.Budget{}, err
	}
	err = s.r.Write(ctx, "put budget of "+string(b.Tenant), func(tx Tx) error {
		if err := s.d.lockTenant(ctx, tx, b.Tenant, ForNoKeyUpdate); err != nil {
			return err
		}
		b.UpdatedAt = tx.Now()
		if _, err := tx.ExecStmt(ctx, s.d.PutBudget(b)); err != nil {
			return fmt.Errorf("upsert budget: %w", err)
		}
		tx.Announce(keygate.Change{Kind: keygate.ChangeTenant, Owner: b.Tenant})
		return s.appendAudit(ctx, tx, &ev)
	})
	if err != nil {
		return keygate.Budget{}, err
	}
	return b, nil
}

// PutRateLimits replaces the tenant's rate limits with limits and appends
// ev, in one transaction, and returns them as stored: ordered by provider,
// an empty AppliesTo made AppliesToPlatform. Returns invalid_request for a
// negative cap, an unknown AppliesTo or two limits for one provider, and
// not_found (nothing written) for an unknown tenant. Concurrent calls for
// one tenant serialize on the tenant row; the last to commit wins whole.
func (s *Store) PutRateLimits(ctx context.Context, tenant keygate.TenantID, limits []keygate.RateLimit, ev keygate.AuditEvent) ([]keygate.RateLimit, error) {
	limits, err := NormalizeLimits(tenant, limits)
	if err != nil {
		return nil, err
	}
	err = s.r.Write(ctx, "put rate limits of "+string(tenant), func(tx Tx) error {
		if err := s.d.lockTenant(ctx, tx, tenant, ForNoKeyUpdate); err != nil {
			return err
		}
		if err := s.d.ReplaceRateLimits(ctx, tx, tenant, limits); err != nil {
			return err
		}
		tx.Announce(keygate.Change{Kind: keygate.ChangeTenant, Owner: tenant})
		return s.appendAudit(ctx, tx, &ev)
	})
	if err != nil {
		return nil, err
	}
	return limits, nil
}

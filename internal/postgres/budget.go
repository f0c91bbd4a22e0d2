package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/keygate/keygate"
)

// GetBudget returns the tenant's budget. A tenant that never set one gets
// no limits, soft, AppliesTo platform, BYOKBilling skip and a zero
// UpdatedAt. Returns not_found for an unknown tenant.
func (db *DB) GetBudget(ctx context.Context, tenant keygate.TenantID) (keygate.Budget, error) {
	var b keygate.Budget
	err := db.read(ctx, "get budget of "+string(tenant), func(tx *tx) error {
		var hard *bool
		var applies, billing *string
		err := tx.QueryRow(ctx, `SELECT b.daily_usd_micros, b.monthly_usd_micros, b.daily_tokens, b.monthly_tokens,
			b.hard, b.applies_to, b.byok_billing, b.updated_at
			FROM tenants t LEFT JOIN budgets b ON b.tenant_id = t.id WHERE t.id = $1`, string(tenant)).
			Scan(&b.DailyUSDMicros, &b.MonthlyUSDMicros, &b.DailyTokens, &b.MonthlyTokens,
				&hard, &applies, &billing, tsDest{&b.UpdatedAt})
		if errors.Is(err, pgx.ErrNoRows) {
			return keygate.Errorf(keygate.CodeNotFound, "Tenant %s does not exist.", quote(string(tenant)))
		}
		if err != nil {
			return err
		}
		if applies == nil {
			b = defaultBudget(tenant)
			return nil
		}
		b.Tenant, b.Hard, b.AppliesTo, b.BYOKBilling = tenant, *hard, *applies, *billing
		return nil
	})
	return b, err
}

// PutBudget replaces the tenant's budget with b and appends ev, in one
// transaction, and returns b as stored: empty AppliesTo and BYOKBilling
// become their defaults, UpdatedAt is the store's clock (the caller's is
// ignored). Returns invalid_request for no tenant, a negative limit or an
// unknown AppliesTo or BYOKBilling, and not_found (nothing written) for an
// unknown tenant. Concurrent calls for one tenant serialize on the tenant
// row; the last to commit wins whole.
func (db *DB) PutBudget(ctx context.Context, b keygate.Budget, ev keygate.AuditEvent) (keygate.Budget, error) {
	b, err := normalizeBudget(b)
	if err != nil {
		return keygate.Budget{}, err
	}
	err = db.write(ctx, "put budget of "+string(b.Tenant), func(tx *tx) error {
		if err := lockTenant(ctx, tx, b.Tenant); err != nil {
			return err
		}
		b.UpdatedAt = tx.now
		_, err := tx.Exec(ctx, `INSERT INTO budgets
			(tenant_id, daily_usd_micros, monthly_usd_micros, daily_tokens, monthly_tokens, hard, applies_to, byok_billing, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
			ON CONFLICT (tenant_id) DO UPDATE SET daily_usd_micros = excluded.daily_usd_micros,
			monthly_usd_micros = excluded.monthly_usd_micros, daily_tokens = excluded.daily_tokens,
			monthly_tokens = excluded.monthly_tokens, hard = excluded.hard, applies_to = excluded.applies_to,
			byok_billing = excluded.byok_billing, updated_at = excluded.updated_at`,
			string(b.Tenant), b.DailyUSDMicros, b.MonthlyUSDMicros, b.DailyTokens, b.MonthlyTokens,
			b.Hard, b.AppliesTo, b.BYOKBilling, b.UpdatedAt)
		if err != nil {
			return fmt.Errorf("upsert budget: %w", err)
		}
		return db.appendAudit(ctx, tx, &ev)
	})
	if err != nil {
		return keygate.Budget{}, err
	}
	return b, nil
}

// GetRateLimits returns the tenant's rate limits ordered by provider (the
// all-providers limit, provider "", first); none if it never set any.
// Returns not_found for an unknown tenant.
func (db *DB) GetRateLimits(ctx context.Context, tenant keygate.TenantID) ([]keygate.RateLimit, error) {
	var out []keygate.RateLimit
	err := db.read(ctx, "get rate limits of "+string(tenant), func(tx *tx) error {
		rows, err := tx.Query(ctx, `SELECT l.provider, l.rpm, l.tpm, l.applies_to
			FROM tenants t LEFT JOIN rate_limits l ON l.tenant_id = t.id WHERE t.id = $1 ORDER BY l.provider COLLATE "C"`, string(tenant))
		if err != nil {
			return err
		}
		defer rows.Close()
		found := false
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
		if err := rows.Err(); err != nil {
			return err
		}
		if !found {
			return keygate.Errorf(keygate.CodeNotFound, "Tenant %s does not exist.", quote(string(tenant)))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// PutRateLimits replaces the tenant's rate limits with limits and appends
// ev, in one transaction, and returns them as stored: ordered by provider,
// an empty AppliesTo made AppliesToPlatform. Returns invalid_request for a
// negative cap, an unknown AppliesTo or two limits for one provider, and
// not_found (nothing written) for an unknown tenant. Concurrent calls for
// one tenant serialize on the tenant row; the last to commit wins whole.
func (db *DB) PutRateLimits(ctx context.Context, tenant keygate.TenantID, limits []keygate.RateLimit, ev keygate.AuditEvent) ([]keygate.RateLimit, error) {
	limits, err := normalizeLimits(tenant, limits)
	if err != nil {
		return nil, err
	}
	err = db.write(ctx, "put rate limits of "+string(tenant), func(tx *tx) error {
		if err := lockTenant(ctx, tx, tenant); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM rate_limits WHERE tenant_id = $1`, string(tenant)); err != nil {
			return fmt.Errorf("delete old rate limits: %w", err)
		}
		for _, l := range limits {
			if _, err := tx.Exec(ctx, `INSERT INTO rate_limits (tenant_id, provider, rpm, tpm, applies_to, updated_at)
				VALUES ($1, $2, $3, $4, $5, $6)`, string(tenant), l.Provider, l.RPM, l.TPM, l.AppliesTo, tx.now); err != nil {
				return fmt.Errorf("insert rate limit for provider %s: %w", quote(l.Provider), err)
			}
		}
		return db.appendAudit(ctx, tx, &ev)
	})
	if err != nil {
		return nil, err
	}
	return limits, nil
}

// lockTenant locks the tenant row FOR NO KEY UPDATE (see PutPolicy: two
// replacements of one tenant's rows must not interleave, and DeleteTenant
// waits for them), or returns not_found.
func lockTenant(ctx context.Context, tx *tx, tenant keygate.TenantID) error {
	var one int
	err := tx.QueryRow(ctx, `SELECT 1 FROM tenants WHERE id = $1 FOR NO KEY UPDATE`, string(tenant)).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return keygate.Errorf(keygate.CodeNotFound, "Tenant %s does not exist.", quote(string(tenant)))
	}
	if err != nil {
		return fmt.Errorf("lock tenant: %w", err)
	}
	return nil
}

// defaultBudget is the budget of a tenant that never set one.
func defaultBudget(tenant keygate.TenantID) keygate.Budget {
	return keygate.Budget{Tenant: tenant, AppliesTo: keygate.AppliesToPlatform, BYOKBilling: keygate.BillingSkip}
}

// normalizeBudget checks b and fills its defaults. The limits are copied,
// so the stored budget does not change with the caller's pointers.
func normalizeBudget(b keygate.Budget) (keygate.Budget, error) {
	if b.Tenant == "" {
		return keygate.Budget{}, keygate.Errorf(keygate.CodeInvalidRequest, "A budget needs a tenant.")
	}
	for _, l := range []struct {
		name string
		p    **int64
	}{
		{"daily_usd_micros", &b.DailyUSDMicros}, {"monthly_usd_micros", &b.MonthlyUSDMicros},
		{"daily_tokens", &b.DailyTokens}, {"monthly_tokens", &b.MonthlyTokens},
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
			quote(b.BYOKBilling), keygate.BillingSkip, keygate.BillingMeter)
	}
	return b, nil
}

// normalizeLimits checks limits, fills their defaults and sorts them by
// provider, in a new slice.
func normalizeLimits(tenant keygate.TenantID, limits []keygate.RateLimit) ([]keygate.RateLimit, error) {
	if tenant == "" {
		return nil, keygate.Errorf(keygate.CodeInvalidRequest, "Rate limits need a tenant.")
	}
	out := slices.Clone(limits)
	for i := range out {
		l := &out[i]
		if l.RPM < 0 || l.TPM < 0 {
			return nil, keygate.Errorf(keygate.CodeInvalidRequest, "Rate limit for provider %s must not be negative.", quote(l.Provider))
		}
		var err error
		if l.AppliesTo, err = appliesTo(l.AppliesTo); err != nil {
			return nil, err
		}
	}
	slices.SortFunc(out, func(a, b keygate.RateLimit) int { return strings.Compare(a.Provider, b.Provider) })
	for i := 1; i < len(out); i++ {
		if out[i].Provider == out[i-1].Provider {
			return nil, keygate.Errorf(keygate.CodeInvalidRequest, "Two rate limits for provider %s.", quote(out[i].Provider))
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
		quote(v), keygate.AppliesToPlatform, keygate.AppliesToAll)
}

package postgres

import (
	"context"
	"fmt"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/sqlstore"
)

// PutBudget replaces the tenant's budget with b and appends ev, in one
// transaction, and returns b as stored: empty AppliesTo and BYOKBilling
// become their defaults, UpdatedAt is the store's clock (the caller's is
// ignored). Returns invalid_request for no tenant, a negative limit or an
// unknown AppliesTo or BYOKBilling, and not_found (nothing written) for an
// unknown tenant. Concurrent calls for one tenant serialize on the tenant
// row; the last to commit wins whole.
func (db *DB) PutBudget(ctx context.Context, b keygate.Budget, ev keygate.AuditEvent) (keygate.Budget, error) {
	b, err := sqlstore.NormalizeBudget(b)
	if err != nil {
		return keygate.Budget{}, err
	}
	err = db.write(ctx, "put budget of "+string(b.Tenant), func(tx *tx) error {
		if err := lockTenant(ctx, tx, b.Tenant, "FOR NO KEY UPDATE"); err != nil {
			return err
		}
		b.UpdatedAt = tx.now
		if _, err := tx.ExecStmt(ctx, dialect.PutBudget(b)); err != nil {
			return fmt.Errorf("upsert budget: %w", err)
		}
		tx.Announce(keygate.Change{Kind: keygate.ChangeTenant, Owner: b.Tenant})
		return db.appendAudit(ctx, tx, &ev)
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
func (db *DB) PutRateLimits(ctx context.Context, tenant keygate.TenantID, limits []keygate.RateLimit, ev keygate.AuditEvent) ([]keygate.RateLimit, error) {
	limits, err := sqlstore.NormalizeLimits(tenant, limits)
	if err != nil {
		return nil, err
	}
	err = db.write(ctx, "put rate limits of "+string(tenant), func(tx *tx) error {
		if err := lockTenant(ctx, tx, tenant, "FOR NO KEY UPDATE"); err != nil {
			return err
		}
		if err := dialect.ReplaceRateLimits(ctx, tx, tenant, limits); err != nil {
			return err
		}
		tx.Announce(keygate.Change{Kind: keygate.ChangeTenant, Owner: tenant})
		return db.appendAudit(ctx, tx, &ev)
	})
	if err != nil {
		return nil, err
	}
	return limits, nil
}

package sqlite

import (
	"context"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/sqlstore"
)

// PutPolicy replaces the tenant's whole policy with p (the default and
// exactly the overrides in p.Providers) and appends ev, in one transaction,
// and returns p as stored, with UpdatedAt. Returns invalid_request for an
// unknown mode or an empty provider name in p.Providers, not_found (with
// nothing written) for an unknown tenant.
func (db *DB) PutPolicy(ctx context.Context, p keygate.TenantPolicy, ev keygate.AuditEvent) (keygate.TenantPolicy, error) {
	if err := sqlstore.CheckPolicy(p); err != nil {
		return keygate.TenantPolicy{}, err
	}
	var out keygate.TenantPolicy
	err := db.write(ctx, "put policy of "+string(p.Tenant), func(tx *tx) error {
		if err := mustTenant(ctx, tx, p.Tenant); err != nil {
			return err
		}
		var err error
		if out, err = dialect.ReplacePolicy(ctx, tx, p); err != nil {
			return err
		}
		tx.Announce(keygate.Change{Kind: keygate.ChangeTenant, Owner: p.Tenant})
		return db.appendAudit(ctx, tx, &ev)
	})
	if err != nil {
		return keygate.TenantPolicy{}, err
	}
	return out, nil
}

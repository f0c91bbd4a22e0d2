package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/sqlstore"
)

// CreateTenant inserts t with ev; an empty t.KeyAdmins is stored (and
// returned) as keygate.KeyAdminsOwnerAndAdmin. Returns invalid_request if t
// has no id or name or an unknown KeyAdmins, conflict if the id or name is
// taken.
func (db *DB) CreateTenant(ctx context.Context, t keygate.Tenant, ev keygate.AuditEvent) (keygate.Tenant, error) {
	t, err := sqlstore.NewTenant(t)
	if err != nil {
		return keygate.Tenant{}, err
	}
	err = db.write(ctx, "create tenant "+t.Name, func(tx *tx) error {
		t.CreatedAt, t.UpdatedAt = tx.now, tx.now
		_, err := tx.ExecStmt(ctx, dialect.InsertTenant(t))
		switch {
		case isUnique(err, "tenants_name_key"):
			return keygate.Errorf(keygate.CodeConflict, "Tenant %s already exists.", sqlstore.Quote(t.Name))
		case isUnique(err, "tenants_pkey"):
			return keygate.Errorf(keygate.CodeConflict, "Tenant id %s already exists.", sqlstore.Quote(string(t.ID)))
		case err != nil:
			return err
		}
		tx.Announce(keygate.Change{Kind: keygate.ChangeTenant, Owner: t.ID})
		return db.appendAudit(ctx, tx, &ev)
	})
	if err != nil {
		return keygate.Tenant{}, err
	}
	return t, nil
}

// UpdateTenant applies u to the tenant id and appends ev unless ev.Action is
// empty. Returns invalid_request for an unknown u.KeyAdmins, not_found for
// an unknown id.
func (db *DB) UpdateTenant(ctx context.Context, id keygate.TenantID, u keygate.TenantUpdate, ev keygate.AuditEvent) (keygate.Tenant, error) {
	if err := sqlstore.CheckTenantUpdate(u); err != nil {
		return keygate.Tenant{}, err
	}
	var t keygate.Tenant
	err := db.write(ctx, "update tenant "+string(id), func(tx *tx) error {
		old, err := dialect.ReadTenant(ctx, tx, dialect.TenantByID(id).With(" FOR UPDATE"), string(id))
		if err != nil {
			return err
		}
		if t, err = dialect.UpdateTenant(ctx, tx, old, u); err != nil {
			return err
		}
		tx.Announce(keygate.Change{Kind: keygate.ChangeTenant, Owner: id})
		if ev.Action == "" {
			return nil
		}
		return db.appendAudit(ctx, tx, &ev)
	})
	if err != nil {
		return keygate.Tenant{}, err
	}
	return t, nil
}

// DeleteTenant deletes the tenant with its keys (every version), tokens,
// policies, budget and rate limits, and appends ev; audit events and usage
// (billing history) stay. Returns not_found for an
// unknown id.
func (db *DB) DeleteTenant(ctx context.Context, id keygate.TenantID, ev keygate.AuditEvent) error {
	return db.write(ctx, "delete tenant "+string(id), func(tx *tx) error {
		// Lock the tenant first: PutKey holds it FOR SHARE while it adds a
		// key, so no key can slip in between the deletes below.
		if _, err := dialect.ReadTenant(ctx, tx, dialect.TenantByID(id).With(" FOR UPDATE"), string(id)); err != nil {
			return err
		}
		if err := dialect.DeleteTenant(ctx, tx, id); err != nil {
			return err
		}
		tx.Announce(keygate.Change{Kind: keygate.ChangeTenant, Owner: id})
		return db.appendAudit(ctx, tx, &ev)
	})
}

// lockTenant locks the tenant row with lock: FOR NO KEY UPDATE to replace
// rows of the tenant (see PutPolicy: two replacements must not interleave,
// and DeleteTenant waits for them), FOR SHARE to add one (see PutKey). It
// returns not_found for an unknown tenant.
func lockTenant(ctx context.Context, tx *tx, tenant keygate.TenantID, lock string) error {
	var one int
	err := tx.QueryRow(ctx, `SELECT 1 FROM tenants WHERE id = $1 `+lock, string(tenant)).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return sqlstore.NoTenant(string(tenant))
	}
	if err != nil {
		return fmt.Errorf("lock tenant: %w", err)
	}
	return nil
}

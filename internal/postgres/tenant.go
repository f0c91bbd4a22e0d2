package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/keygate/keygate"
)

const tenantColumns = `id, name, byok_enabled, key_admins, created_at, updated_at`

// CreateTenant inserts t with ev; an empty t.KeyAdmins is stored (and
// returned) as keygate.KeyAdminsOwnerAndAdmin. Returns invalid_request if t
// has no id or name or an unknown KeyAdmins, conflict if the id or name is
// taken.
func (db *DB) CreateTenant(ctx context.Context, t keygate.Tenant, ev keygate.AuditEvent) (keygate.Tenant, error) {
	if t.ID == "" || t.Name == "" {
		return keygate.Tenant{}, keygate.Errorf(keygate.CodeInvalidRequest, "A tenant needs an id and a name.")
	}
	ka, err := keygate.ParseKeyAdmins(string(t.KeyAdmins.OrDefault()))
	if err != nil {
		return keygate.Tenant{}, err
	}
	t.KeyAdmins = ka
	err = db.write(ctx, "create tenant "+t.Name, func(tx *tx) error {
		t.CreatedAt, t.UpdatedAt = tx.now, tx.now
		_, err := tx.Exec(ctx, `INSERT INTO tenants (`+tenantColumns+`) VALUES ($1, $2, $3, $4, $5, $6)`,
			string(t.ID), t.Name, t.BYOKEnabled, string(t.KeyAdmins), t.CreatedAt, t.UpdatedAt)
		switch {
		case isUnique(err, "tenants_name_key"):
			return keygate.Errorf(keygate.CodeConflict, "Tenant %s already exists.", quote(t.Name))
		case isUnique(err, "tenants_pkey"):
			return keygate.Errorf(keygate.CodeConflict, "Tenant id %s already exists.", quote(string(t.ID)))
		case err != nil:
			return err
		}
		return db.appendAudit(ctx, tx, &ev)
	})
	if err != nil {
		return keygate.Tenant{}, err
	}
	return t, nil
}

// GetTenant finds a tenant by id or, failing that, by name. Returns
// not_found if neither matches.
func (db *DB) GetTenant(ctx context.Context, ref string) (keygate.Tenant, error) {
	var t keygate.Tenant
	err := db.read(ctx, "get tenant", func(tx *tx) error {
		var err error
		t, err = getTenant(ctx, tx, `id = $1 OR name = $1 ORDER BY id = $1 DESC LIMIT 1`, ref)
		if errors.Is(err, pgx.ErrNoRows) {
			return keygate.Errorf(keygate.CodeNotFound, "Tenant %s does not exist.", quote(ref))
		}
		return err
	})
	return t, err
}

// ListTenants returns all tenants ordered by name (bytewise, as in SQLite).
func (db *DB) ListTenants(ctx context.Context) ([]keygate.Tenant, error) {
	var ts []keygate.Tenant
	err := db.read(ctx, "list tenants", func(tx *tx) error {
		rows, err := tx.Query(ctx, `SELECT `+tenantColumns+` FROM tenants ORDER BY name COLLATE "C"`)
		if err != nil {
			return err
		}
		ts, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (keygate.Tenant, error) { return scanTenant(r) })
		return err
	})
	return ts, err
}

// UpdateTenant applies u to the tenant id and appends ev unless ev.Action is
// empty. Returns invalid_request for an unknown u.KeyAdmins, not_found for
// an unknown id.
func (db *DB) UpdateTenant(ctx context.Context, id keygate.TenantID, u keygate.TenantUpdate, ev keygate.AuditEvent) (keygate.Tenant, error) {
	if u.KeyAdmins != nil {
		if _, err := keygate.ParseKeyAdmins(string(*u.KeyAdmins)); err != nil {
			return keygate.Tenant{}, err
		}
	}
	var t keygate.Tenant
	err := db.write(ctx, "update tenant "+string(id), func(tx *tx) error {
		var err error
		t, err = getTenant(ctx, tx, `id = $1 FOR UPDATE`, string(id))
		if errors.Is(err, pgx.ErrNoRows) {
			return keygate.Errorf(keygate.CodeNotFound, "Tenant %s does not exist.", quote(string(id)))
		}
		if err != nil {
			return err
		}
		if u.BYOKEnabled != nil {
			t.BYOKEnabled = *u.BYOKEnabled
			t.UpdatedAt = tx.now
			if _, err := tx.Exec(ctx, `UPDATE tenants SET byok_enabled = $1, updated_at = $2 WHERE id = $3`,
				t.BYOKEnabled, t.UpdatedAt, string(id)); err != nil {
				return err
			}
		}
		if u.KeyAdmins != nil {
			t.KeyAdmins = *u.KeyAdmins
			t.UpdatedAt = tx.now
			if _, err := tx.Exec(ctx, `UPDATE tenants SET key_admins = $1, updated_at = $2 WHERE id = $3`,
				string(t.KeyAdmins), t.UpdatedAt, string(id)); err != nil {
				return err
			}
		}
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
		if _, err := getTenant(ctx, tx, `id = $1 FOR UPDATE`, string(id)); errors.Is(err, pgx.ErrNoRows) {
			return keygate.Errorf(keygate.CodeNotFound, "Tenant %s does not exist.", quote(string(id)))
		} else if err != nil {
			return err
		}
		// Explicit rather than left to ON DELETE CASCADE: provider_keys has
		// no foreign key (its owner may be "platform"), and spelling the
		// rest out keeps the deletion visible in one place.
		for _, q := range []string{
			`DELETE FROM provider_key_versions WHERE key_id IN (SELECT id FROM provider_keys WHERE owner = $1)`,
			`DELETE FROM provider_keys WHERE owner = $1`,
			`DELETE FROM admin_tokens WHERE tenant_id = $1`,
			`DELETE FROM gateway_tokens WHERE tenant_id = $1`,
			`DELETE FROM policies WHERE tenant_id = $1`,
			`DELETE FROM budgets WHERE tenant_id = $1`,
			`DELETE FROM rate_limits WHERE tenant_id = $1`,
			`DELETE FROM tenants WHERE id = $1`,
		} {
			if _, err := tx.Exec(ctx, q, string(id)); err != nil {
				return fmt.Errorf("%s: %w", q, err)
			}
		}
		return db.appendAudit(ctx, tx, &ev)
	})
}

func getTenant(ctx context.Context, tx *tx, where string, args ...any) (keygate.Tenant, error) {
	return scanTenant(tx.QueryRow(ctx, `SELECT `+tenantColumns+` FROM tenants WHERE `+where, args...))
}

func scanTenant(row pgx.Row) (keygate.Tenant, error) {
	var t keygate.Tenant
	var id, keyAdmins string
	err := row.Scan(&id, &t.Name, &t.BYOKEnabled, &keyAdmins, tsDest{&t.CreatedAt}, tsDest{&t.UpdatedAt})
	t.ID, t.KeyAdmins = keygate.TenantID(id), keygate.KeyAdmins(keyAdmins)
	return t, err
}

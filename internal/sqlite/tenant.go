package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

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
		_, err := tx.ExecContext(ctx, `INSERT INTO tenants (`+tenantColumns+`) VALUES (?, ?, ?, ?, ?, ?)`,
			string(t.ID), t.Name, t.BYOKEnabled, string(t.KeyAdmins), micros(t.CreatedAt), micros(t.UpdatedAt))
		switch {
		case isUnique(err, "tenants.name"):
			return keygate.Errorf(keygate.CodeConflict, "Tenant %s already exists.", quote(t.Name))
		case isUnique(err, "tenants.id"):
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
		t, err = getTenant(ctx, tx, `id = ? OR name = ? ORDER BY id = ? DESC LIMIT 1`, ref, ref, ref)
		if errors.Is(err, sql.ErrNoRows) {
			return keygate.Errorf(keygate.CodeNotFound, "Tenant %s does not exist.", quote(ref))
		}
		return err
	})
	return t, err
}

// ListTenants returns all tenants ordered by name.
func (db *DB) ListTenants(ctx context.Context) ([]keygate.Tenant, error) {
	var ts []keygate.Tenant
	err := db.read(ctx, "list tenants", func(tx *tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+tenantColumns+` FROM tenants ORDER BY name`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			t, err := scanTenant(rows)
			if err != nil {
				return err
			}
			ts = append(ts, t)
		}
		return rows.Err()
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
		t, err = getTenant(ctx, tx, `id = ?`, string(id))
		if errors.Is(err, sql.ErrNoRows) {
			return keygate.Errorf(keygate.CodeNotFound, "Tenant %s does not exist.", quote(string(id)))
		}
		if err != nil {
			return err
		}
		if u.BYOKEnabled != nil {
			t.BYOKEnabled = *u.BYOKEnabled
			t.UpdatedAt = tx.now
			if _, err := tx.ExecContext(ctx, `UPDATE tenants SET byok_enabled = ?, updated_at = ? WHERE id = ?`,
				t.BYOKEnabled, micros(t.UpdatedAt), string(id)); err != nil {
				return err
			}
		}
		if u.KeyAdmins != nil {
			t.KeyAdmins = *u.KeyAdmins
			t.UpdatedAt = tx.now
			if _, err := tx.ExecContext(ctx, `UPDATE tenants SET key_admins = ?, updated_at = ? WHERE id = ?`,
				string(t.KeyAdmins), micros(t.UpdatedAt), string(id)); err != nil {
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
		if _, err := getTenant(ctx, tx, `id = ?`, string(id)); errors.Is(err, sql.ErrNoRows) {
			return keygate.Errorf(keygate.CodeNotFound, "Tenant %s does not exist.", quote(string(id)))
		} else if err != nil {
			return err
		}
		// Explicit rather than left to ON DELETE CASCADE: provider_keys has
		// no foreign key (its owner may be "platform"), and spelling the
		// rest out keeps the deletion visible in one place.
		for _, q := range []string{
			`DELETE FROM provider_key_versions WHERE key_id IN (SELECT id FROM provider_keys WHERE owner = ?)`,
			`DELETE FROM provider_keys WHERE owner = ?`,
			`DELETE FROM admin_tokens WHERE tenant_id = ?`,
			`DELETE FROM gateway_tokens WHERE tenant_id = ?`,
			`DELETE FROM policies WHERE tenant_id = ?`,
			`DELETE FROM budgets WHERE tenant_id = ?`,
			`DELETE FROM rate_limits WHERE tenant_id = ?`,
			`DELETE FROM tenants WHERE id = ?`,
		} {
			if _, err := tx.ExecContext(ctx, q, string(id)); err != nil {
				return fmt.Errorf("%s: %w", q, err)
			}
		}
		return db.appendAudit(ctx, tx, &ev)
	})
}

// tenantExists reports whether the tenant id exists.
func tenantExists(ctx context.Context, tx *tx, id keygate.TenantID) (bool, error) {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT count(*) FROM tenants WHERE id = ?`, string(id)).Scan(&n)
	return n > 0, err
}

func getTenant(ctx context.Context, tx *tx, where string, args ...any) (keygate.Tenant, error) {
	return scanTenant(tx.QueryRowContext(ctx, `SELECT `+tenantColumns+` FROM tenants WHERE `+where, args...))
}

func scanTenant(s scanner) (keygate.Tenant, error) {
	var t keygate.Tenant
	var id, keyAdmins string
	err := s.Scan(&id, &t.Name, &t.BYOKEnabled, &keyAdmins, microTime{&t.CreatedAt}, microTime{&t.UpdatedAt})
	t.ID, t.KeyAdmins = keygate.TenantID(id), keygate.KeyAdmins(keyAdmins)
	return t, err
}

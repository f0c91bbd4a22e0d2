// SPDX-License-Identifier: Apache-2.0

package sqlstore

import (
	"context"
	"fmt"

	"github.com/keygate/keygate"
)

const tenantColumns = `id, name, byok_enabled, key_admins, created_at, updated_at`

// NoTenant is the not_found error of a tenant that does not exist.
func NoTenant(ref string) error {
	return keygate.Errorf(keygate.CodeNotFound, "Tenant %s does not exist.", Quote(ref))
}

// NewTenant checks t for CreateTenant and fills its defaults: an empty
// KeyAdmins becomes keygate.KeyAdminsOwnerAndAdmin. Returns invalid_request
// without an id or name, or for an unknown KeyAdmins.
func NewTenant(t keygate.Tenant) (keygate.Tenant, error) {
	if t.ID == "" || t.Name == "" {
		return keygate.Tenant{}, keygate.Errorf(keygate.CodeInvalidRequest, "A tenant needs an id and a name.")
	}
	ka, err := keygate.ParseKeyAdmins(string(t.KeyAdmins.OrDefault()))
	if err != nil {
		return keygate.Tenant{}, err
	}
	t.KeyAdmins = ka
	return t, nil
}

// CheckTenantUpdate checks u for UpdateTenant: invalid_request for an
// unknown KeyAdmins.
func CheckTenantUpdate(u keygate.TenantUpdate) error {
	if u.KeyAdmins != nil {
		if _, err := keygate.ParseKeyAdmins(string(*u.KeyAdmins)); err != nil {
			return err
		}
	}
	return nil
}

// InsertTenant inserts t as it is.
func (d Dialect) InsertTenant(t keygate.Tenant) Stmt {
	return Stmt{d.render(`INSERT INTO tenants (` + tenantColumns + `) VALUES (?, ?, ?, ?, ?, ?)`),
		[]any{string(t.ID), t.Name, t.BYOKEnabled, string(t.KeyAdmins), d.timeArg(t.CreatedAt), d.timeArg(t.UpdatedAt)}}
}

// tenantByRef selects the tenant whose id is ref or, failing that, whose
// name is ref (scanTenant reads it).
func (d Dialect) tenantByRef(ref string) Stmt {
	return Stmt{d.render(`SELECT ` + tenantColumns + ` FROM tenants WHERE id = ? OR name = ? ORDER BY id = ? DESC LIMIT 1`),
		[]any{ref, ref, ref}}
}

// TenantByID selects the tenant id (scanTenant reads it).
func (d Dialect) TenantByID(id keygate.TenantID) Stmt {
	return Stmt{d.render(`SELECT ` + tenantColumns + ` FROM tenants WHERE id = ?`), []any{string(id)}}
}

// listTenants selects every tenant, ordered by name bytewise.
func (d Dialect) listTenants() Stmt {
	return Stmt{SQL: `SELECT ` + tenantColumns + ` FROM tenants ORDER BY ` + d.bytewise("name")}
}

// UpdateTenant applies u to t, the stored tenant, in tx, one UPDATE per
// field u sets, and returns the updated tenant.
func (d Dialect) UpdateTenant(ctx context.Context, tx Tx, t keygate.Tenant, u keygate.TenantUpdate) (keygate.Tenant, error) {
	now := tx.Now()
	if u.BYOKEnabled != nil {
		t.BYOKEnabled, t.UpdatedAt = *u.BYOKEnabled, now
		if _, err := tx.ExecStmt(ctx, Stmt{d.render(`UPDATE tenants SET byok_enabled = ?, updated_at = ? WHERE id = ?`),
			[]any{t.BYOKEnabled, d.timeArg(now), string(t.ID)}}); err != nil {
			return keygate.Tenant{}, err
		}
	}
	if u.KeyAdmins != nil {
		t.KeyAdmins, t.UpdatedAt = *u.KeyAdmins, now
		if _, err := tx.ExecStmt(ctx, Stmt{d.render(`UPDATE tenants SET key_admins = ?, updated_at = ? WHERE id = ?`),
			[]any{string(t.KeyAdmins), d.timeArg(now), string(t.ID)}}); err != nil {
			return keygate.Tenant{}, err
		}
	}
	return t, nil
}

// DeleteTenant deletes, in tx, the tenant id with its keys (every
// version), tokens, policies, budget and rate limits; audit events and
// usage stay. Explicit rather than left to ON DELETE CASCADE: provider_keys
// has no foreign key (its owner may be "platform"), and spelling the rest
// out keeps the deletion visible in one place.
func (d Dialect) DeleteTenant(ctx context.Context, tx Tx, id keygate.TenantID) error {
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
		q = d.render(q)
		if _, err := tx.ExecStmt(ctx, Stmt{q, []any{string(id)}}); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return nil
}

// ReadTenant reads the tenant s (tenantByRef, TenantByID) selects in tx;
// not_found, naming ref, if none.
func (d Dialect) ReadTenant(ctx context.Context, tx Tx, s Stmt, ref string) (keygate.Tenant, error) {
	t, err := scanTenant(tx.QueryRowStmt(ctx, s))
	if tx.NoRows(err) {
		return keygate.Tenant{}, NoTenant(ref)
	}
	return t, err
}

// scanTenant reads a row of the tenant statements.
func scanTenant(row Row) (keygate.Tenant, error) {
	var t keygate.Tenant
	var id, keyAdmins string
	err := row.Scan(&id, &t.Name, &t.BYOKEnabled, &keyAdmins, timeDest{&t.CreatedAt}, timeDest{&t.UpdatedAt})
	t.ID, t.KeyAdmins = keygate.TenantID(id), keygate.KeyAdmins(keyAdmins)
	return t, err
}

// CreateTenant inserts t with ev; an empty t.KeyAdmins is stored (and
// returned) as keygate.KeyAdminsOwnerAndAdmin. Returns invalid_request if t
// has no id or name or an unknown KeyAdmins, conflict if the id or name is
// taken.
func (s *Store) CreateTenant(ctx context.Context, t keygate.Tenant, ev keygate.AuditEvent) (keygate.Tenant, error) {
	t, err := NewTenant(t)
	if err != nil {
		return keygate.Tenant{}, err
	}
	err = s.r.Write(ctx, "create tenant "+t.Name, func(tx Tx) error {
		t.CreatedAt, t.UpdatedAt = tx.Now(), tx.Now()
		_, err := tx.ExecStmt(ctx, s.d.InsertTenant(t))
		switch {
		case tx.Unique(err, s.d.constraint(tenantsName)):
			return keygate.Errorf(keygate.CodeConflict, "Tenant %s already exists.", Quote(t.Name))
		case tx.Unique(err, s.d.constraint(tenantsPkey)):
			return keygate.Errorf(keygate.CodeConflict, "Tenant id %s already exists.", Quote(string(t.ID)))
		case err != nil:
			return err
		}
		tx.Announce(keygate.Change{Kind: keygate.ChangeTenant, Owner: t.ID})
		return s.appendAudit(ctx, tx, &ev)
	})
	if err != nil {
		return keygate.Tenant{}, err
	}
	return t, nil
}

// UpdateTenant applies u to the tenant id and appends ev unless ev.Action is
// empty. Returns invalid_request for an unknown u.KeyAdmins, not_found for
// an unknown id.
func (s *Store) UpdateTenant(ctx context.Context, id keygate.TenantID, u keygate.TenantUpdate, ev keygate.AuditEvent) (keygate.Tenant, error) {
	if err := CheckTenantUpdate(u); err != nil {
		return keygate.Tenant{}, err
	}
	var t keygate.Tenant
	err := s.r.Write(ctx, "update tenant "+string(id), func(tx Tx) error {
		old, err := s.d.ReadTenant(ctx, tx, s.d.TenantByID(id).With(s.d.lock(ForUpdate)), string(id))
		if err != nil {
			return err
		}
		if t, err = s.d.UpdateTenant(ctx, tx, old, u); err != nil {
			return err
		}
		tx.Announce(keygate.Change{Kind: keygate.ChangeTenant, Owner: id})
		if ev.Action == "" {
			return nil
		}
		return s.appendAudit(ctx, tx, &ev)
	})
	if err != nil {
		return keygate.Tenant{}, err
	}
	return t, nil
}

// DeleteTenant deletes the tenant with its keys (every version), tokens,
// policies, budget and rate limits, and appends ev; audit events and usage
// (billing history) stay. Returns not_found for an unknown id.
func (s *Store) DeleteTenant(ctx context.Context, id keygate.TenantID, ev keygate.AuditEvent) error {
	return s.r.Write(ctx, "delete tenant "+string(id), func(tx Tx) error {
		// Lock the tenant first: PutKey holds it FOR SHARE while it adds a
		// key, so no key can slip in between the deletes below.
		if _, err := s.d.ReadTenant(ctx, tx, s.d.TenantByID(id).With(s.d.lock(ForUpdate)), string(id)); err != nil {
			return err
		}
		if err := s.d.DeleteTenant(ctx, tx, id); err != nil {
			return err
		}
		tx.Announce(keygate.Change{Kind: keygate.ChangeTenant, Owner: id})
		return s.appendAudit(ctx, tx, &ev)
	})
}

// lockTenant locks the tenant row with l: ForNoKeyUpdate to replace rows
// of the tenant (see PutPolicy: two replacements must not interleave, and
// DeleteTenant waits for them), ForShare to add one (see PutKey). It
// returns not_found for an unknown tenant.
func (d Dialect) lockTenant(ctx context.Context, tx Tx, tenant keygate.TenantID, l Lock) error {
	var one int
	err := tx.QueryRowStmt(ctx, Stmt{d.render(`SELECT 1 FROM tenants WHERE id = ?` + d.lock(l)), []any{string(tenant)}}).Scan(&one)
	if tx.NoRows(err) {
		return NoTenant(string(tenant))
	}
	if err != nil {
		return fmt.Errorf("lock tenant: %w", err)
	}
	return nil
}

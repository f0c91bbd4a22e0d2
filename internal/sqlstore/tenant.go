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

package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/keygate/keygate"
)

const adminTokenColumns = `id, name, role, tenant_id, hash, created_by, created_at, revoked_at`

// CheckAdminToken checks t for CreateAdminToken: invalid_request without
// an id or hash, or with an unknown role.
func CheckAdminToken(t keygate.AdminToken) error {
	if t.ID == "" || len(t.Hash) == 0 {
		return keygate.Errorf(keygate.CodeInvalidRequest, "An admin token needs an id and a hash.")
	}
	if !t.Role.Valid() {
		return keygate.Errorf(keygate.CodeInvalidRequest, "Role %s is not valid.", Quote(string(t.Role)))
	}
	return nil
}

// InsertAdminToken inserts t, not revoked; an empty t.Tenant is NULL (a
// platform-wide token).
func (d Dialect) InsertAdminToken(t keygate.AdminToken) Stmt {
	var tenant any
	if t.Tenant != "" {
		tenant = string(t.Tenant)
	}
	return Stmt{d.render(`INSERT INTO admin_tokens (` + adminTokenColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, NULL)`),
		[]any{t.ID, t.Name, string(t.Role), tenant, t.Hash, t.CreatedBy, d.timeArg(t.CreatedAt)}}
}

// adminTokenByHash selects the admin token with that hash, revoked or not
// (scanAdminToken reads it).
func (d Dialect) adminTokenByHash(hash []byte) Stmt {
	return Stmt{d.render(`SELECT ` + adminTokenColumns + ` FROM admin_tokens WHERE hash = ?`), []any{hash}}
}

// listAdminTokens selects the admin tokens of tenant, or all of them for an
// empty tenant, newest first.
func (d Dialect) listAdminTokens(tenant keygate.TenantID) Stmt {
	q := `SELECT ` + adminTokenColumns + ` FROM admin_tokens`
	var args []any
	if tenant != "" {
		q += ` WHERE tenant_id = ?`
		args = append(args, string(tenant))
	}
	return Stmt{d.render(q + ` ORDER BY created_at DESC, ` + d.bytewise("id") + ` DESC`), args}
}

// RevokeAdminToken marks the token id revoked at now, unless it already
// is; no row affected means there was nothing to revoke.
func (d Dialect) RevokeAdminToken(id string, now time.Time) Stmt {
	return Stmt{d.render(`UPDATE admin_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`), []any{d.timeArg(now), id}}
}

// scanAdminToken reads a row of the admin token statements.
func scanAdminToken(row Row) (keygate.AdminToken, error) {
	var t keygate.AdminToken
	var role string
	var tenant *string
	err := row.Scan(&t.ID, &t.Name, &role, &tenant, &t.Hash, &t.CreatedBy, timeDest{&t.CreatedAt}, timeDest{&t.RevokedAt})
	t.Role = keygate.Role(role)
	if tenant != nil {
		t.Tenant = keygate.TenantID(*tenant)
	}
	return t, err
}

// NotRevokedAdminToken is the not_found error of revoking an admin token
// that does not exist or is already revoked.
func NotRevokedAdminToken(id string) error {
	return keygate.Errorf(keygate.CodeNotFound, "Admin token %s does not exist or is already revoked.", Quote(id))
}

// AnnounceAdminToken announces, in tx, the change of admin token id: it
// reads the token's tenant (none for a platform token), which the caller
// need not know.
func (d Dialect) AnnounceAdminToken(ctx context.Context, tx Tx, id string) error {
	var tenant *string
	if err := tx.QueryRowStmt(ctx, Stmt{d.render(`SELECT tenant_id FROM admin_tokens WHERE id = ?`), []any{id}}).Scan(&tenant); err != nil {
		return fmt.Errorf("read tenant of admin token %s: %w", Quote(id), err)
	}
	c := keygate.Change{Kind: keygate.ChangeAdminToken, ID: id}
	if tenant != nil {
		c.Owner = keygate.TenantID(*tenant)
	}
	tx.Announce(c)
	return nil
}

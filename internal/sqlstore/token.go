// SPDX-License-Identifier: Apache-2.0

package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/keygate/keygate"
)

const adminTokenColumns = `id, name, role, tenant_id, hash, created_by, created_at, revoked_at, expires_at, last_used_at`

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

// InsertAdminToken inserts t, not revoked and never used; an empty t.Tenant
// is NULL (a platform-wide token), a zero t.ExpiresAt NULL (no expiry).
func (d Dialect) InsertAdminToken(t keygate.AdminToken) Stmt {
	var tenant any
	if t.Tenant != "" {
		tenant = string(t.Tenant)
	}
	return Stmt{d.render(`INSERT INTO admin_tokens (` + adminTokenColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?, NULL)`),
		[]any{t.ID, t.Name, string(t.Role), tenant, t.Hash, t.CreatedBy, d.timeArg(t.CreatedAt), d.timeArg(t.ExpiresAt)}}
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
	err := row.Scan(&t.ID, &t.Name, &role, &tenant, &t.Hash, &t.CreatedBy, timeDest{&t.CreatedAt}, timeDest{&t.RevokedAt},
		timeDest{&t.ExpiresAt}, timeDest{&t.LastUsedAt})
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

// CreateAdminToken inserts t (ID and Hash set by the caller) with ev and
// returns it with CreatedAt. Returns invalid_request without an id or hash
// or with an unknown role, not_found if t.Tenant does not exist, conflict if
// the id or hash is taken.
func (s *Store) CreateAdminToken(ctx context.Context, t keygate.AdminToken, ev keygate.AuditEvent) (keygate.AdminToken, error) {
	if err := CheckAdminToken(t); err != nil {
		return keygate.AdminToken{}, err
	}
	err := s.r.Write(ctx, "create admin token "+t.ID, func(tx Tx) error {
		t.CreatedAt, t.RevokedAt, t.LastUsedAt = tx.Now(), time.Time{}, time.Time{}
		t.ExpiresAt = t.ExpiresAt.UTC().Truncate(time.Microsecond) // as stored
		_, err := tx.ExecStmt(ctx, s.d.InsertAdminToken(t))
		switch {
		case tx.ForeignKey(err):
			return NoTenant(string(t.Tenant))
		case tx.Unique(err, s.d.constraint(adminTokensPkey)):
			return keygate.Errorf(keygate.CodeConflict, "Admin token %s already exists.", Quote(t.ID))
		case tx.Unique(err, s.d.constraint(adminTokensHash)):
			return keygate.Errorf(keygate.CodeConflict, "An admin token with this hash already exists.")
		case err != nil:
			return err
		}
		tx.Announce(keygate.Change{Kind: keygate.ChangeAdminToken, Owner: t.Tenant, ID: t.ID})
		return s.appendAudit(ctx, tx, &ev)
	})
	if err != nil {
		return keygate.AdminToken{}, err
	}
	return t, nil
}

// RevokeAdminToken marks the token id revoked and appends ev; not_found if
// it does not exist or is already revoked.
func (s *Store) RevokeAdminToken(ctx context.Context, id string, ev keygate.AuditEvent) error {
	return s.r.Write(ctx, "revoke admin token "+id, func(tx Tx) error {
		n, err := tx.ExecStmt(ctx, s.d.RevokeAdminToken(id, tx.Now()))
		if err != nil {
			return err
		}
		if n == 0 {
			return NotRevokedAdminToken(id)
		}
		if err := s.d.AnnounceAdminToken(ctx, tx, id); err != nil {
			return err
		}
		return s.appendAudit(ctx, tx, &ev)
	})
}

// touchToken sets the last use of the token id of kind (its table) to at,
// unless a later one is recorded.
func (d Dialect) touchToken(kind keygate.TokenKind, id string, at time.Time) (Stmt, error) {
	var table string
	switch kind {
	case keygate.TokenAdmin:
		table = "admin_tokens"
	case keygate.TokenGateway:
		table = "gateway_tokens"
	default:
		return Stmt{}, keygate.Errorf(keygate.CodeInvalidRequest, "Token kind %s is not valid.", Quote(string(kind)))
	}
	return Stmt{d.render(`UPDATE ` + table + ` SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)`),
		[]any{d.timeArg(at), id, d.timeArg(at)}}, nil
}

// TouchTokens records the last use of each token in uses, in one
// transaction; see keygate.Store. It announces nothing (on PostgreSQL the
// change feed's trigger ignores last_used_at too): the last use is
// information for people, and no cache holds it.
func (s *Store) TouchTokens(ctx context.Context, uses []keygate.TokenUse) error {
	stmts := make([]Stmt, 0, len(uses))
	for _, u := range uses {
		st, err := s.d.touchToken(u.Kind, u.ID, u.At)
		if err != nil {
			return err
		}
		stmts = append(stmts, st)
	}
	if len(stmts) == 0 {
		return nil
	}
	return s.r.Write(ctx, fmt.Sprintf("record the last use of %d tokens", len(stmts)), func(tx Tx) error {
		for _, st := range stmts {
			if _, err := tx.ExecStmt(ctx, st); err != nil {
				return err
			}
		}
		return nil
	})
}

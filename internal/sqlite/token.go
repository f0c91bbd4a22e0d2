package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/keygate/keygate"
)

const adminTokenColumns = `id, name, role, tenant_id, hash, created_by, created_at, revoked_at`

// CreateAdminToken inserts t (ID and Hash set by the caller) with ev and
// returns it with CreatedAt. Returns invalid_request without an id or hash
// or with an unknown role, not_found if t.Tenant does not exist, conflict if
// the id or hash is taken.
func (db *DB) CreateAdminToken(ctx context.Context, t keygate.AdminToken, ev keygate.AuditEvent) (keygate.AdminToken, error) {
	if t.ID == "" || len(t.Hash) == 0 {
		return keygate.AdminToken{}, keygate.Errorf(keygate.CodeInvalidRequest, "An admin token needs an id and a hash.")
	}
	if !t.Role.Valid() {
		return keygate.AdminToken{}, keygate.Errorf(keygate.CodeInvalidRequest, "Role %s is not valid.", quote(string(t.Role)))
	}
	err := db.write(ctx, "create admin token "+t.ID, func(tx *tx) error {
		t.CreatedAt, t.RevokedAt = tx.now, time.Time{}
		var tenant any
		if t.Tenant != "" {
			tenant = string(t.Tenant)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO admin_tokens (`+adminTokenColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, NULL)`,
			t.ID, t.Name, string(t.Role), tenant, t.Hash, t.CreatedBy, micros(t.CreatedAt))
		switch {
		case isForeignKey(err):
			return keygate.Errorf(keygate.CodeNotFound, "Tenant %s does not exist.", quote(string(t.Tenant)))
		case isUnique(err, "admin_tokens.id"):
			return keygate.Errorf(keygate.CodeConflict, "Admin token %s already exists.", quote(t.ID))
		case isUnique(err, "admin_tokens.hash"):
			return keygate.Errorf(keygate.CodeConflict, "An admin token with this hash already exists.")
		case err != nil:
			return err
		}
		return db.appendAudit(ctx, tx, &ev)
	})
	if err != nil {
		return keygate.AdminToken{}, err
	}
	return t, nil
}

// AdminTokenByHash returns the token with that hash, revoked or not;
// not_found if none.
func (db *DB) AdminTokenByHash(ctx context.Context, hash []byte) (keygate.AdminToken, error) {
	var t keygate.AdminToken
	err := db.read(ctx, "find admin token", func(tx *tx) error {
		var err error
		t, err = scanAdminToken(tx.QueryRowContext(ctx, `SELECT `+adminTokenColumns+` FROM admin_tokens WHERE hash = ?`, hash))
		if errors.Is(err, sql.ErrNoRows) {
			return keygate.Errorf(keygate.CodeNotFound, "No admin token matches.")
		}
		return err
	})
	return t, err
}

// ListAdminTokens returns the admin tokens of tenant, or all of them for an
// empty tenant, newest first.
func (db *DB) ListAdminTokens(ctx context.Context, tenant keygate.TenantID) ([]keygate.AdminToken, error) {
	q := `SELECT ` + adminTokenColumns + ` FROM admin_tokens`
	var args []any
	if tenant != "" {
		q += ` WHERE tenant_id = ?`
		args = append(args, string(tenant))
	}
	q += ` ORDER BY created_at DESC, id DESC`
	var ts []keygate.AdminToken
	err := db.read(ctx, "list admin tokens", func(tx *tx) error {
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			t, err := scanAdminToken(rows)
			if err != nil {
				return err
			}
			ts = append(ts, t)
		}
		return rows.Err()
	})
	return ts, err
}

// RevokeAdminToken marks the token id revoked and appends ev; not_found if
// it does not exist or is already revoked.
func (db *DB) RevokeAdminToken(ctx context.Context, id string, ev keygate.AuditEvent) error {
	return db.write(ctx, "revoke admin token "+id, func(tx *tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE admin_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`,
			micros(tx.now), id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return keygate.Errorf(keygate.CodeNotFound, "Admin token %s does not exist or is already revoked.", quote(id))
		}
		return db.appendAudit(ctx, tx, &ev)
	})
}

// CountAdminTokens returns how many admin tokens exist, revoked or not.
func (db *DB) CountAdminTokens(ctx context.Context) (int, error) {
	var n int
	err := db.read(ctx, "count admin tokens", func(tx *tx) error {
		return tx.QueryRowContext(ctx, `SELECT count(*) FROM admin_tokens`).Scan(&n)
	})
	return n, err
}

func scanAdminToken(s scanner) (keygate.AdminToken, error) {
	var t keygate.AdminToken
	var role string
	var tenant sql.NullString
	err := s.Scan(&t.ID, &t.Name, &role, &tenant, &t.Hash, &t.CreatedBy, microTime{&t.CreatedAt}, microTime{&t.RevokedAt})
	t.Role, t.Tenant = keygate.Role(role), keygate.TenantID(tenant.String)
	return t, err
}

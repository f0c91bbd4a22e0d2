package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
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
		_, err := tx.Exec(ctx, `INSERT INTO admin_tokens (`+adminTokenColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, NULL)`,
			t.ID, t.Name, string(t.Role), tenant, t.Hash, t.CreatedBy, t.CreatedAt)
		switch {
		case isForeignKey(err):
			return keygate.Errorf(keygate.CodeNotFound, "Tenant %s does not exist.", quote(string(t.Tenant)))
		case isUnique(err, "admin_tokens_pkey"):
			return keygate.Errorf(keygate.CodeConflict, "Admin token %s already exists.", quote(t.ID))
		case isUnique(err, "admin_tokens_hash_key"):
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
		t, err = scanAdminToken(tx.QueryRow(ctx, `SELECT `+adminTokenColumns+` FROM admin_tokens WHERE hash = $1`, hash))
		if errors.Is(err, pgx.ErrNoRows) {
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
		q += ` WHERE tenant_id = $1`
		args = append(args, string(tenant))
	}
	q += ` ORDER BY created_at DESC, id COLLATE "C" DESC`
	var ts []keygate.AdminToken
	err := db.read(ctx, "list admin tokens", func(tx *tx) error {
		rows, err := tx.Query(ctx, q, args...)
		if err != nil {
			return err
		}
		ts, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (keygate.AdminToken, error) { return scanAdminToken(r) })
		return err
	})
	return ts, err
}

// RevokeAdminToken marks the token id revoked and appends ev; not_found if
// it does not exist or is already revoked.
func (db *DB) RevokeAdminToken(ctx context.Context, id string, ev keygate.AuditEvent) error {
	return db.write(ctx, "revoke admin token "+id, func(tx *tx) error {
		tag, err := tx.Exec(ctx, `UPDATE admin_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL`, tx.now, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return keygate.Errorf(keygate.CodeNotFound, "Admin token %s does not exist or is already revoked.", quote(id))
		}
		return db.appendAudit(ctx, tx, &ev)
	})
}

// CountAdminTokens returns how many admin tokens exist, revoked or not.
func (db *DB) CountAdminTokens(ctx context.Context) (int, error) {
	var n int
	err := db.read(ctx, "count admin tokens", func(tx *tx) error {
		return tx.QueryRow(ctx, `SELECT count(*) FROM admin_tokens`).Scan(&n)
	})
	return n, err
}

func scanAdminToken(row pgx.Row) (keygate.AdminToken, error) {
	var t keygate.AdminToken
	var role string
	var tenant *string
	err := row.Scan(&t.ID, &t.Name, &role, &tenant, &t.Hash, &t.CreatedBy, tsDest{&t.CreatedAt}, tsDest{&t.RevokedAt})
	t.Role = keygate.Role(role)
	if tenant != nil {
		t.Tenant = keygate.TenantID(*tenant)
	}
	return t, err
}

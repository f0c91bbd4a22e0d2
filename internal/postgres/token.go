package postgres

import (
	"context"
	"time"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/sqlstore"
)

// CreateAdminToken inserts t (ID and Hash set by the caller) with ev and
// returns it with CreatedAt. Returns invalid_request without an id or hash
// or with an unknown role, not_found if t.Tenant does not exist, conflict if
// the id or hash is taken.
func (db *DB) CreateAdminToken(ctx context.Context, t keygate.AdminToken, ev keygate.AuditEvent) (keygate.AdminToken, error) {
	if err := sqlstore.CheckAdminToken(t); err != nil {
		return keygate.AdminToken{}, err
	}
	err := db.write(ctx, "create admin token "+t.ID, func(tx *tx) error {
		t.CreatedAt, t.RevokedAt = tx.now, time.Time{}
		_, err := tx.ExecStmt(ctx, dialect.InsertAdminToken(t))
		switch {
		case isForeignKey(err):
			return sqlstore.NoTenant(string(t.Tenant))
		case isUnique(err, "admin_tokens_pkey"):
			return keygate.Errorf(keygate.CodeConflict, "Admin token %s already exists.", sqlstore.Quote(t.ID))
		case isUnique(err, "admin_tokens_hash_key"):
			return keygate.Errorf(keygate.CodeConflict, "An admin token with this hash already exists.")
		case err != nil:
			return err
		}
		tx.Announce(keygate.Change{Kind: keygate.ChangeAdminToken, Owner: t.Tenant, ID: t.ID})
		return db.appendAudit(ctx, tx, &ev)
	})
	if err != nil {
		return keygate.AdminToken{}, err
	}
	return t, nil
}

// RevokeAdminToken marks the token id revoked and appends ev; not_found if
// it does not exist or is already revoked.
func (db *DB) RevokeAdminToken(ctx context.Context, id string, ev keygate.AuditEvent) error {
	return db.write(ctx, "revoke admin token "+id, func(tx *tx) error {
		n, err := tx.ExecStmt(ctx, dialect.RevokeAdminToken(id, tx.now))
		if err != nil {
			return err
		}
		if n == 0 {
			return sqlstore.NotRevokedAdminToken(id)
		}
		if err := dialect.AnnounceAdminToken(ctx, tx, id); err != nil {
			return err
		}
		return db.appendAudit(ctx, tx, &ev)
	})
}

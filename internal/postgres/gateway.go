package postgres

import (
	"context"
	"time"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/sqlstore"
)

// CreateGatewayToken inserts t (ID, Hash and Prefix set by the caller) with
// ev and returns it with CreatedAt. Returns invalid_request without an id,
// hash or tenant, not_found if t.Tenant does not exist, conflict if the id or
// hash is taken.
func (db *DB) CreateGatewayToken(ctx context.Context, t keygate.GatewayToken, ev keygate.AuditEvent) (keygate.GatewayToken, error) {
	if err := sqlstore.CheckGatewayToken(t); err != nil {
		return keygate.GatewayToken{}, err
	}
	err := db.write(ctx, "create gateway token "+t.ID, func(tx *tx) error {
		t.CreatedAt, t.RevokedAt = tx.now, time.Time{}
		// The foreign key check takes a share lock on the tenant row, so a
		// concurrent DeleteTenant either waits for this token (and deletes
		// it) or has already won (and this insert fails as not_found).
		_, err := tx.ExecStmt(ctx, dialect.InsertGatewayToken(t))
		switch {
		case isForeignKey(err):
			return sqlstore.NoTenant(string(t.Tenant))
		case isUnique(err, "gateway_tokens_pkey"):
			return keygate.Errorf(keygate.CodeConflict, "Gateway token %s already exists.", sqlstore.Quote(t.ID))
		case isUnique(err, "gateway_tokens_hash_key"):
			return keygate.Errorf(keygate.CodeConflict, "A gateway token with this hash already exists.")
		case err != nil:
			return err
		}
		tx.Announce(keygate.Change{Kind: keygate.ChangeToken, Owner: t.Tenant, ID: t.ID})
		return db.appendAudit(ctx, tx, &ev)
	})
	if err != nil {
		return keygate.GatewayToken{}, err
	}
	return t, nil
}

// RevokeGatewayToken marks the tenant's token id revoked and appends ev;
// not_found if the tenant has no such token or it is already revoked (a
// token of another tenant is "no such token", so its existence does not
// leak).
func (db *DB) RevokeGatewayToken(ctx context.Context, tenant keygate.TenantID, id string, ev keygate.AuditEvent) error {
	return db.write(ctx, "revoke gateway token "+id, func(tx *tx) error {
		n, err := tx.ExecStmt(ctx, dialect.RevokeGatewayToken(tenant, id, tx.now))
		if err != nil {
			return err
		}
		if n == 0 {
			return sqlstore.NotRevokedGatewayToken(id)
		}
		tx.Announce(keygate.Change{Kind: keygate.ChangeToken, Owner: tenant, ID: id})
		return db.appendAudit(ctx, tx, &ev)
	})
}

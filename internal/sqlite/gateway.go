package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/keygate/keygate"
)

const gatewayTokenColumns = `id, name, tenant_id, hash, prefix, created_by, created_at, revoked_at`

// CreateGatewayToken inserts t (ID, Hash and Prefix set by the caller) with
// ev and returns it with CreatedAt. Returns invalid_request without an id,
// hash or tenant, not_found if t.Tenant does not exist, conflict if the id or
// hash is taken.
func (db *DB) CreateGatewayToken(ctx context.Context, t keygate.GatewayToken, ev keygate.AuditEvent) (keygate.GatewayToken, error) {
	if t.ID == "" || len(t.Hash) == 0 || t.Tenant == "" {
		return keygate.GatewayToken{}, keygate.Errorf(keygate.CodeInvalidRequest, "A gateway token needs an id, a hash and a tenant.")
	}
	err := db.write(ctx, "create gateway token "+t.ID, func(tx *tx) error {
		t.CreatedAt, t.RevokedAt = tx.now, time.Time{}
		_, err := tx.ExecContext(ctx, `INSERT INTO gateway_tokens (`+gatewayTokenColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, NULL)`,
			t.ID, t.Name, string(t.Tenant), t.Hash, t.Prefix, t.CreatedBy, micros(t.CreatedAt))
		switch {
		case isForeignKey(err):
			return keygate.Errorf(keygate.CodeNotFound, "Tenant %s does not exist.", quote(string(t.Tenant)))
		case isUnique(err, "gateway_tokens.id"):
			return keygate.Errorf(keygate.CodeConflict, "Gateway token %s already exists.", quote(t.ID))
		case isUnique(err, "gateway_tokens.hash"):
			return keygate.Errorf(keygate.CodeConflict, "A gateway token with this hash already exists.")
		case err != nil:
			return err
		}
		return db.appendAudit(ctx, tx, &ev)
	})
	if err != nil {
		return keygate.GatewayToken{}, err
	}
	return t, nil
}

// GatewayTokenByHash returns the token with that hash, revoked or not;
// not_found if none.
func (db *DB) GatewayTokenByHash(ctx context.Context, hash []byte) (keygate.GatewayToken, error) {
	var t keygate.GatewayToken
	err := db.read(ctx, "find gateway token", func(tx *tx) error {
		var err error
		t, err = scanGatewayToken(tx.QueryRowContext(ctx, `SELECT `+gatewayTokenColumns+` FROM gateway_tokens WHERE hash = ?`, hash))
		if errors.Is(err, sql.ErrNoRows) {
			return keygate.Errorf(keygate.CodeNotFound, "No gateway token matches.")
		}
		return err
	})
	return t, err
}

// ListGatewayTokens returns the tenant's gateway tokens, revoked ones
// included, newest first; none for a tenant that does not exist.
func (db *DB) ListGatewayTokens(ctx context.Context, tenant keygate.TenantID) ([]keygate.GatewayToken, error) {
	var ts []keygate.GatewayToken
	err := db.read(ctx, "list gateway tokens of "+string(tenant), func(tx *tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+gatewayTokenColumns+` FROM gateway_tokens
			WHERE tenant_id = ? ORDER BY created_at DESC, id DESC`, string(tenant))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			t, err := scanGatewayToken(rows)
			if err != nil {
				return err
			}
			ts = append(ts, t)
		}
		return rows.Err()
	})
	return ts, err
}

// RevokeGatewayToken marks the tenant's token id revoked and appends ev;
// not_found if the tenant has no such token or it is already revoked (a
// token of another tenant is "no such token", so its existence does not
// leak).
func (db *DB) RevokeGatewayToken(ctx context.Context, tenant keygate.TenantID, id string, ev keygate.AuditEvent) error {
	return db.write(ctx, "revoke gateway token "+id, func(tx *tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE gateway_tokens SET revoked_at = ?
			WHERE id = ? AND tenant_id = ? AND revoked_at IS NULL`, micros(tx.now), id, string(tenant))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return keygate.Errorf(keygate.CodeNotFound, "Gateway token %s does not exist or is already revoked.", quote(id))
		}
		return db.appendAudit(ctx, tx, &ev)
	})
}

func scanGatewayToken(s scanner) (keygate.GatewayToken, error) {
	var t keygate.GatewayToken
	var tenant string
	err := s.Scan(&t.ID, &t.Name, &tenant, &t.Hash, &t.Prefix, &t.CreatedBy, microTime{&t.CreatedAt}, microTime{&t.RevokedAt})
	t.Tenant = keygate.TenantID(tenant)
	return t, err
}

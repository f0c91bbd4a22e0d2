// SPDX-License-Identifier: Apache-2.0

package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/keygate/keygate"
)

const gatewayTokenColumns = `id, name, tenant_id, hash, prefix, created_by, created_at, revoked_at, expires_at, last_used_at, scope`

// CheckGatewayToken checks t for CreateGatewayToken: invalid_request
// without an id, hash or tenant.
func CheckGatewayToken(t keygate.GatewayToken) error {
	if t.ID == "" || len(t.Hash) == 0 || t.Tenant == "" {
		return keygate.Errorf(keygate.CodeInvalidRequest, "A gateway token needs an id, a hash and a tenant.")
	}
	return t.Scope.Validate()
}

// EncodeScope is the stored form of a token scope: its JSON, or "" for the
// zero scope.
func EncodeScope(s keygate.TokenScope) string {
	if s.IsZero() {
		return ""
	}
	b, _ := json.Marshal(s) // a struct of strings and integers always marshals
	return string(b)
}

// DecodeScope reads a stored token scope ("" is the zero scope).
func DecodeScope(v string) (keygate.TokenScope, error) {
	var s keygate.TokenScope
	if v == "" {
		return s, nil
	}
	if err := json.Unmarshal([]byte(v), &s); err != nil {
		return s, fmt.Errorf("decode token scope: %w", err)
	}
	return s, nil
}

// InsertGatewayToken inserts t, not revoked and never used; a zero
// t.ExpiresAt is NULL (no expiry).
func (d Dialect) InsertGatewayToken(t keygate.GatewayToken) Stmt {
	return Stmt{d.render(`INSERT INTO gateway_tokens (` + gatewayTokenColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?, NULL, ?)`),
		[]any{t.ID, t.Name, string(t.Tenant), t.Hash, t.Prefix, t.CreatedBy, d.timeArg(t.CreatedAt), d.timeArg(t.ExpiresAt), EncodeScope(t.Scope)}}
}

// gatewayTokenByHash selects the gateway token with that hash, revoked or
// not (scanGatewayToken reads it).
func (d Dialect) gatewayTokenByHash(hash []byte) Stmt {
	return Stmt{d.render(`SELECT ` + gatewayTokenColumns + ` FROM gateway_tokens WHERE hash = ?`), []any{hash}}
}

// listGatewayTokens selects the tenant's gateway tokens, revoked ones
// included, newest first.
func (d Dialect) listGatewayTokens(tenant keygate.TenantID) Stmt {
	return Stmt{d.render(`SELECT ` + gatewayTokenColumns + ` FROM gateway_tokens
		WHERE tenant_id = ? ORDER BY created_at DESC, ` + d.bytewise("id") + ` DESC`), []any{string(tenant)}}
}

// RevokeGatewayToken marks the tenant's token id revoked at now, unless it
// already is; no row affected means there was nothing to revoke (a token
// of another tenant included, so that its existence does not leak).
func (d Dialect) RevokeGatewayToken(tenant keygate.TenantID, id string, now time.Time) Stmt {
	return Stmt{d.render(`UPDATE gateway_tokens SET revoked_at = ?
		WHERE id = ? AND tenant_id = ? AND revoked_at IS NULL`), []any{d.timeArg(now), id, string(tenant)}}
}

// scanGatewayToken reads a row of the gateway token statements.
func scanGatewayToken(row Row) (keygate.GatewayToken, error) {
	var t keygate.GatewayToken
	var tenant, scope string
	err := row.Scan(&t.ID, &t.Name, &tenant, &t.Hash, &t.Prefix, &t.CreatedBy, timeDest{&t.CreatedAt}, timeDest{&t.RevokedAt},
		timeDest{&t.ExpiresAt}, timeDest{&t.LastUsedAt}, &scope)
	t.Tenant = keygate.TenantID(tenant)
	if err == nil {
		t.Scope, err = DecodeScope(scope)
	}
	return t, err
}

// SetGatewayTokenScope sets the scope of the tenant's token id, unless it
// is revoked; no row affected means there is no such token to scope.
func (d Dialect) SetGatewayTokenScope(tenant keygate.TenantID, id string, scope keygate.TokenScope) Stmt {
	return Stmt{d.render(`UPDATE gateway_tokens SET scope = ?
		WHERE id = ? AND tenant_id = ? AND revoked_at IS NULL`), []any{EncodeScope(scope), id, string(tenant)}}
}

// gatewayTokenByID selects the tenant's gateway token id.
func (d Dialect) gatewayTokenByID(tenant keygate.TenantID, id string) Stmt {
	return Stmt{d.render(`SELECT ` + gatewayTokenColumns + ` FROM gateway_tokens WHERE id = ? AND tenant_id = ?`), []any{id, string(tenant)}}
}

// NotRevokedGatewayToken is the not_found error of revoking a gateway
// token that the tenant does not have or that is already revoked.
func NotRevokedGatewayToken(id string) error {
	return keygate.Errorf(keygate.CodeNotFound, "Gateway token %s does not exist or is already revoked.", Quote(id))
}

// CreateGatewayToken inserts t (ID, Hash and Prefix set by the caller) with
// ev and returns it with CreatedAt. Returns invalid_request without an id,
// hash or tenant, not_found if t.Tenant does not exist, conflict if the id or
// hash is taken.
func (s *Store) CreateGatewayToken(ctx context.Context, t keygate.GatewayToken, ev keygate.AuditEvent) (keygate.GatewayToken, error) {
	if err := CheckGatewayToken(t); err != nil {
		return keygate.GatewayToken{}, err
	}
	err := s.r.Write(ctx, "create gateway token "+t.ID, func(tx Tx) error {
		t.CreatedAt, t.RevokedAt, t.LastUsedAt = tx.Now(), time.Time{}, time.Time{}
		t.ExpiresAt = t.ExpiresAt.UTC().Truncate(time.Microsecond) // as stored
		// On PostgreSQL the foreign key check takes a share lock on the
		// tenant row, so a concurrent DeleteTenant either waits for this
		// token (and deletes it) or has already won (and this insert fails
		// as not_found).
		_, err := tx.ExecStmt(ctx, s.d.InsertGatewayToken(t))
		switch {
		case tx.ForeignKey(err):
			return NoTenant(string(t.Tenant))
		case tx.Unique(err, s.d.constraint(gatewayTokensPkey)):
			return keygate.Errorf(keygate.CodeConflict, "Gateway token %s already exists.", Quote(t.ID))
		case tx.Unique(err, s.d.constraint(gatewayTokensHash)):
			return keygate.Errorf(keygate.CodeConflict, "A gateway token with this hash already exists.")
		case err != nil:
			return err
		}
		tx.Announce(keygate.Change{Kind: keygate.ChangeToken, Owner: t.Tenant, ID: t.ID})
		return s.appendAudit(ctx, tx, &ev)
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
func (s *Store) RevokeGatewayToken(ctx context.Context, tenant keygate.TenantID, id string, ev keygate.AuditEvent) error {
	return s.r.Write(ctx, "revoke gateway token "+id, func(tx Tx) error {
		n, err := tx.ExecStmt(ctx, s.d.RevokeGatewayToken(tenant, id, tx.Now()))
		if err != nil {
			return err
		}
		if n == 0 {
			return NotRevokedGatewayToken(id)
		}
		tx.Announce(keygate.Change{Kind: keygate.ChangeToken, Owner: tenant, ID: id})
		return s.appendAudit(ctx, tx, &ev)
	})
}

// SetGatewayTokenScope replaces the scope of the tenant's token id with
// scope, appends ev and announces the token's change, so that every
// gateway serves the token's next call under its new scope. Returns
// invalid_request for a scope that does not validate, not_found if the
// tenant has no such token or it is revoked.
func (s *Store) SetGatewayTokenScope(ctx context.Context, tenant keygate.TenantID, id string, scope keygate.TokenScope, ev keygate.AuditEvent) (keygate.GatewayToken, error) {
	if err := scope.Validate(); err != nil {
		return keygate.GatewayToken{}, err
	}
	var t keygate.GatewayToken
	err := s.r.Write(ctx, "set the scope of gateway token "+id, func(tx Tx) error {
		n, err := tx.ExecStmt(ctx, s.d.SetGatewayTokenScope(tenant, id, scope))
		if err != nil {
			return err
		}
		if n == 0 {
			return keygate.Errorf(keygate.CodeNotFound, "Gateway token %s does not exist or is revoked.", Quote(id))
		}
		if t, err = scanGatewayToken(tx.QueryRowStmt(ctx, s.d.gatewayTokenByID(tenant, id))); err != nil {
			return fmt.Errorf("read gateway token %s: %w", Quote(id), err)
		}
		tx.Announce(keygate.Change{Kind: keygate.ChangeToken, Owner: tenant, ID: id})
		return s.appendAudit(ctx, tx, &ev)
	})
	if err != nil {
		return keygate.GatewayToken{}, err
	}
	return t, nil
}

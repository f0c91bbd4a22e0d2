// SPDX-License-Identifier: Apache-2.0

package sqlstore

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/keygate/keygate"
)

// Store implements keygate.Store, written once for both SQL engines, but
// for what only an engine knows: InsertUsage (each engine's fastest way to
// write a batch, over WriteUsage), Ping and Close. A backend embeds it,
// gives it its dialect and transactions, and adds those.
//
// Its writes take row locks, always in one order (tenant row, then key
// row, then key versions, then the audit head), so that concurrent
// writers on PostgreSQL serialize where they must (two rotations of one
// key, any two audit appends) and never deadlock. On SQLite the lock
// clauses render as nothing: its one writer at a time holds the whole
// database.
type Store struct {
	Changes
	d   Dialect
	r   Runner
	ids IDs
	// sealer seals appended audit events (SealAuditWith); nil: plain
	// SHA-256.
	sealer atomic.Pointer[sealerBox]
}

// New returns the store of a backend of dialect d whose transactions r
// runs, minting ids with ids.
func New(d Dialect, r Runner, ids IDs) *Store {
	return &Store{d: d, r: r, ids: ids}
}

// list runs s as a read and scans its rows with scan.
func list[T any](ctx context.Context, s *Store, what string, st Stmt, scan func(Row) (T, error)) ([]T, error) {
	var out []T
	err := s.r.Read(ctx, what, func(tx Tx) (err error) {
		out, err = Collect(ctx, tx, st, scan)
		return err
	})
	return out, err
}

// GetTenant finds a tenant by id or, failing that, by name. Returns
// not_found if neither matches.
func (s *Store) GetTenant(ctx context.Context, ref string) (keygate.Tenant, error) {
	var t keygate.Tenant
	err := s.r.Read(ctx, "get tenant", func(tx Tx) (err error) {
		t, err = s.d.ReadTenant(ctx, tx, s.d.tenantByRef(ref), ref)
		return err
	})
	return t, err
}

// ListTenants returns all tenants ordered by name (bytewise).
func (s *Store) ListTenants(ctx context.Context) ([]keygate.Tenant, error) {
	return list(ctx, s, "list tenants", s.d.listTenants(), scanTenant)
}

// GetKey returns the current version of the owner's key for provider, with
// its sealed material. Returns not_found if there is none.
func (s *Store) GetKey(ctx context.Context, owner keygate.TenantID, provider string) (keygate.ProviderKey, error) {
	var k keygate.ProviderKey
	err := s.r.Read(ctx, fmt.Sprintf("get %s key of %s", provider, owner), func(tx Tx) (err error) {
		k, err = s.d.ReadKey(ctx, tx, owner, provider)
		return err
	})
	return k, err
}

// ListKeys returns the current version of each of the owner's keys,
// ordered by provider (bytewise).
func (s *Store) ListKeys(ctx context.Context, owner keygate.TenantID) ([]keygate.ProviderKey, error) {
	return list(ctx, s, "list keys of "+string(owner), s.d.listKeys(owner), scanKey)
}

// ListAllKeys returns the current version of every stored key of every
// owner, ordered by owner and provider (bytewise), without sealed material.
func (s *Store) ListAllKeys(ctx context.Context) ([]keygate.ProviderKey, error) {
	return list(ctx, s, "list all keys", s.d.listAllKeys(), scanKey)
}

// ListKeyVersions returns every version of the owner's key for provider,
// destroyed ones included, newest first, without key material. Returns
// not_found if there is no key.
func (s *Store) ListKeyVersions(ctx context.Context, owner keygate.TenantID, provider string) ([]keygate.KeyVersion, error) {
	vs, err := list(ctx, s, fmt.Sprintf("list versions of %s key of %s", provider, owner),
		s.d.listKeyVersions(owner, provider), scanKeyVersion)
	if err == nil && len(vs) == 0 {
		return nil, NoKey(owner, provider)
	}
	return vs, err
}

// GetSetting returns the sealed server setting name; not_found if absent.
func (s *Store) GetSetting(ctx context.Context, name string) (keygate.Sealed, error) {
	var out keygate.Sealed
	err := s.r.Read(ctx, "get setting "+name, func(tx Tx) (err error) {
		out, err = s.d.readSetting(ctx, tx, name)
		return err
	})
	return out, err
}

// InitSetting stores sealed under name unless a setting with that name
// exists, and returns the one stored: sealed, or the existing setting
// unchanged. Two writers initializing at once get the same answer (the
// loser's INSERT ... ON CONFLICT DO NOTHING waits for the winner). Returns
// invalid_request for an empty name.
func (s *Store) InitSetting(ctx context.Context, name string, sealed keygate.Sealed) (keygate.Sealed, error) {
	if name == "" {
		return keygate.Sealed{}, keygate.Errorf(keygate.CodeInvalidRequest, "A setting needs a name.")
	}
	var out keygate.Sealed
	err := s.r.Write(ctx, "init setting "+name, func(tx Tx) (err error) {
		n, err := tx.ExecStmt(ctx, s.d.initSetting(name, sealed, tx.Now()))
		if err != nil {
			return err
		}
		if n == 1 {
			// Announced only when stored: finding the setting there
			// changes nothing.
			tx.Announce(keygate.Change{Kind: keygate.ChangeSetting, ID: name})
		}
		out, err = s.d.readSetting(ctx, tx, name)
		return err
	})
	return out, err
}

// ListWrapped returns up to limit (default 100, maximum 1000) wrapped data
// keys, of provider key versions and then of settings, whose master key is
// not notKEKID, in a stable order (key id and version, then setting name).
// Destroyed key versions have nothing left to re-wrap and are skipped.
func (s *Store) ListWrapped(ctx context.Context, notKEKID string, limit int) ([]keygate.WrappedRef, error) {
	return list(ctx, s, "list wrapped data keys", s.d.listWrapped(notKEKID, limit), scanWrapped)
}

// Rewrap sets the wrapped data key of ref to wrapped under newKEKID if the
// row still holds ref.WrappedDEK under ref.KEKID, and reports whether it
// did. A row that is gone, destroyed or was changed meanwhile is left
// alone (false, nil). Returns invalid_request for an unknown ref.Kind.
func (s *Store) Rewrap(ctx context.Context, ref keygate.WrappedRef, wrapped []byte, newKEKID string) (bool, error) {
	st, err := s.d.rewrap(ref, wrapped, newKEKID)
	if err != nil {
		return false, err
	}
	var n int64
	err = s.r.Write(ctx, fmt.Sprintf("rewrap %s %s%s", ref.Kind, ref.KeyID, ref.Name), func(tx Tx) (err error) {
		if n, err = tx.ExecStmt(ctx, st); err != nil || n != 1 {
			return err
		}
		return s.d.announceRewrap(ctx, tx, ref)
	})
	return n == 1, err
}

// ListAudit returns the events matching f, newest first, at most f.Limit
// (default 100, maximum 1000).
func (s *Store) ListAudit(ctx context.Context, f keygate.AuditFilter) ([]keygate.AuditEvent, error) {
	return list(ctx, s, "list audit events", s.d.listAudit(f), scanAuditEvent)
}

// ListSettings returns the settings whose name starts with prefix, oldest
// first (then by name).
func (s *Store) ListSettings(ctx context.Context, prefix string) ([]keygate.Setting, error) {
	return list(ctx, s, "list settings "+prefix, s.d.listSettings(prefix), scanSetting)
}

// ScanAudit returns up to limit events (default 1000, maximum 10000) with
// Seq > afterSeq, oldest first.
func (s *Store) ScanAudit(ctx context.Context, afterSeq int64, limit int) ([]keygate.AuditEvent, error) {
	return list(ctx, s, "scan audit events", s.d.scanAuditAfter(afterSeq, limit), scanAuditEvent)
}

// AuditHead returns the recorded head of the chain: 0 and "" when empty.
func (s *Store) AuditHead(ctx context.Context) (seq int64, hash string, err error) {
	err = s.r.Read(ctx, "read audit head", func(tx Tx) error {
		return tx.QueryRowStmt(ctx, s.d.AuditHead()).Scan(&seq, &hash)
	})
	return seq, hash, err
}

// GetBudget returns the tenant's budget. A tenant that never set one gets
// no limits, soft, AppliesTo platform, BYOKBilling skip and a zero
// UpdatedAt. Returns not_found for an unknown tenant.
func (s *Store) GetBudget(ctx context.Context, tenant keygate.TenantID) (keygate.Budget, error) {
	var b keygate.Budget
	err := s.r.Read(ctx, "get budget of "+string(tenant), func(tx Tx) (err error) {
		b, err = scanBudget(tx.QueryRowStmt(ctx, s.d.budget(tenant)), tenant)
		if tx.NoRows(err) {
			return NoTenant(string(tenant))
		}
		return err
	})
	return b, err
}

// GetRateLimits returns the tenant's rate limits ordered by provider (the
// all-providers limit, provider "", first); none if it never set any.
// Returns not_found for an unknown tenant.
func (s *Store) GetRateLimits(ctx context.Context, tenant keygate.TenantID) ([]keygate.RateLimit, error) {
	var out []keygate.RateLimit
	err := s.r.Read(ctx, "get rate limits of "+string(tenant), func(tx Tx) (err error) {
		out, err = s.d.getRateLimits(ctx, tx, tenant)
		return err
	})
	return out, err
}

// GetPolicy returns the tenant's policy: its default and its per-provider
// overrides, with UpdatedAt the time of the last PutPolicy. A tenant that
// never set one gets keygate.DefaultPolicy, no overrides (an empty, non-nil
// map) and a zero UpdatedAt. Returns not_found for an unknown tenant.
func (s *Store) GetPolicy(ctx context.Context, tenant keygate.TenantID) (keygate.TenantPolicy, error) {
	var p keygate.TenantPolicy
	err := s.r.Read(ctx, "get policy of "+string(tenant), func(tx Tx) (err error) {
		p, err = s.d.getPolicy(ctx, tx, tenant)
		return err
	})
	return p, err
}

// QueryUsage aggregates usage for q: one row per combination of the
// q.GroupBy dimensions that has usage, ordered by those dimensions in the
// order given (strings in byte order), or a single total row (zeros when
// nothing matches) when q.GroupBy is empty. Repeated dimensions count once.
// Returns invalid_request for an unknown dimension.
//
// It reads the rollups, not the raw events, wherever they answer exactly
// (see Dialect.PlanUsage), so the cost of a query hardly depends on its
// span or on how many calls it covers.
func (s *Store) QueryUsage(ctx context.Context, q keygate.UsageQuery) ([]keygate.UsageRow, error) {
	plan, err := s.d.PlanUsage(q)
	if err != nil {
		return nil, err
	}
	if rows, ok := plan.Empty(); ok {
		return rows, nil
	}
	var out []keygate.UsageRow
	err = s.r.Read(ctx, "query usage", func(tx Tx) (err error) {
		out, err = plan.Query(ctx, tx)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// AdminTokenByHash returns the admin token with that hash, revoked or not;
// not_found if none.
func (s *Store) AdminTokenByHash(ctx context.Context, hash []byte) (keygate.AdminToken, error) {
	var t keygate.AdminToken
	err := s.r.Read(ctx, "find admin token", func(tx Tx) (err error) {
		t, err = scanAdminToken(tx.QueryRowStmt(ctx, s.d.adminTokenByHash(hash)))
		if tx.NoRows(err) {
			return keygate.Errorf(keygate.CodeNotFound, "No admin token matches.")
		}
		return err
	})
	return t, err
}

// ListAdminTokens returns the admin tokens of tenant, or all of them for
// an empty tenant, newest first.
func (s *Store) ListAdminTokens(ctx context.Context, tenant keygate.TenantID) ([]keygate.AdminToken, error) {
	return list(ctx, s, "list admin tokens", s.d.listAdminTokens(tenant), scanAdminToken)
}

// CountAdminTokens returns how many admin tokens exist, revoked or not.
func (s *Store) CountAdminTokens(ctx context.Context) (int, error) {
	var n int
	err := s.r.Read(ctx, "count admin tokens", func(tx Tx) error {
		return tx.QueryRowStmt(ctx, Stmt{SQL: `SELECT count(*) FROM admin_tokens`}).Scan(&n)
	})
	return n, err
}

// GatewayTokenByHash returns the gateway token with that hash, revoked or
// not; not_found if none.
func (s *Store) GatewayTokenByHash(ctx context.Context, hash []byte) (keygate.GatewayToken, error) {
	var t keygate.GatewayToken
	err := s.r.Read(ctx, "find gateway token", func(tx Tx) (err error) {
		t, err = scanGatewayToken(tx.QueryRowStmt(ctx, s.d.gatewayTokenByHash(hash)))
		if tx.NoRows(err) {
			return keygate.Errorf(keygate.CodeNotFound, "No gateway token matches.")
		}
		return err
	})
	return t, err
}

// ListGatewayTokens returns the tenant's gateway tokens, revoked ones
// included, newest first; none for a tenant that does not exist.
func (s *Store) ListGatewayTokens(ctx context.Context, tenant keygate.TenantID) ([]keygate.GatewayToken, error) {
	return list(ctx, s, "list gateway tokens of "+string(tenant), s.d.listGatewayTokens(tenant), scanGatewayToken)
}

// SPDX-License-Identifier: Apache-2.0

package sqlstore

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/keygate/keygate"
)

// defaultProvider is the policies.provider of a tenant's default policy.
const defaultProvider = ""

// CheckPolicy checks what the schema cannot: a tenant, known modes, and no
// override under the default's empty provider name. Returns
// invalid_request otherwise.
func CheckPolicy(p keygate.TenantPolicy) error {
	if p.Tenant == "" {
		return keygate.Errorf(keygate.CodeInvalidRequest, "A policy needs a tenant.")
	}
	if !p.Default.Mode.Valid() {
		return keygate.Errorf(keygate.CodeInvalidRequest, "Policy mode %s is not valid.", Quote(string(p.Default.Mode)))
	}
	for _, provider := range slices.Sorted(maps.Keys(p.Providers)) {
		if provider == defaultProvider {
			return keygate.Errorf(keygate.CodeInvalidRequest, "A provider override needs a provider name.")
		}
		if m := p.Providers[provider].Mode; !m.Valid() {
			return keygate.Errorf(keygate.CodeInvalidRequest, "Policy mode %s for provider %s is not valid.", Quote(string(m)), Bare(provider))
		}
	}
	return nil
}

// ReplacePolicy replaces, in tx, the tenant's whole policy with p:
// its default (provider "") and exactly its overrides, inserted sorted by
// provider so that writes (and any error) are deterministic. It returns p
// as stored, with UpdatedAt and a non-nil copy of the overrides.
func (d Dialect) ReplacePolicy(ctx context.Context, tx Tx, p keygate.TenantPolicy) (keygate.TenantPolicy, error) {
	now := tx.Now()
	if _, err := tx.ExecStmt(ctx, Stmt{d.render(`DELETE FROM policies WHERE tenant_id = ?`), []any{string(p.Tenant)}}); err != nil {
		return keygate.TenantPolicy{}, fmt.Errorf("delete old policy: %w", err)
	}
	insert := func(provider string, q keygate.Policy) error {
		_, err := tx.ExecStmt(ctx, Stmt{d.render(`INSERT INTO policies
			(tenant_id, provider, mode, allow_request_keys, fallback_on_error, updated_at) VALUES (?, ?, ?, ?, ?, ?)`),
			[]any{string(p.Tenant), provider, string(q.Mode), q.AllowRequestKeys, q.FallbackOnError, d.timeArg(now)}})
		if err != nil {
			return fmt.Errorf("insert policy for provider %s: %w", Quote(provider), err)
		}
		return nil
	}
	if err := insert(defaultProvider, p.Default); err != nil {
		return keygate.TenantPolicy{}, err
	}
	for _, provider := range slices.Sorted(maps.Keys(p.Providers)) {
		if err := insert(provider, p.Providers[provider]); err != nil {
			return keygate.TenantPolicy{}, err
		}
	}
	out := keygate.TenantPolicy{Tenant: p.Tenant, Default: p.Default, Providers: maps.Clone(p.Providers), UpdatedAt: now}
	if out.Providers == nil {
		out.Providers = map[string]keygate.Policy{}
	}
	return out, nil
}

// getPolicy reads the tenant's policy in tx, in one statement: the tenant
// row joined with its policy rows, so that "no tenant" (no row) and "no
// policy" (one row of NULLs) are told apart. A tenant that never set one
// gets keygate.DefaultPolicy, no overrides (an empty, non-nil map) and a
// zero UpdatedAt. Returns not_found for an unknown tenant.
func (d Dialect) getPolicy(ctx context.Context, tx Tx, tenant keygate.TenantID) (keygate.TenantPolicy, error) {
	var p keygate.TenantPolicy
	err := tx.QueryStmt(ctx, Stmt{d.render(`SELECT p.provider, p.mode, p.allow_request_keys, p.fallback_on_error, p.updated_at
		FROM tenants t LEFT JOIN policies p ON p.tenant_id = t.id WHERE t.id = ?`), []any{string(tenant)}},
		func(rows Rows) (err error) {
			p, err = scanPolicy(rows, tenant)
			return err
		})
	return p, err
}

// scanPolicy reads the rows of GetPolicy: UpdatedAt is the newest row's.
// Returns not_found when there is no row, and an error for a mode this
// binary does not know: failing closed, rather than reading it as some
// other mode.
func scanPolicy(rows Rows, tenant keygate.TenantID) (keygate.TenantPolicy, error) {
	p := keygate.TenantPolicy{Tenant: tenant, Default: keygate.DefaultPolicy(), Providers: map[string]keygate.Policy{}}
	found := false
	for rows.Next() {
		found = true
		var provider, mode *string
		var allow, fallback *bool
		var updated time.Time
		if err := rows.Scan(&provider, &mode, &allow, &fallback, timeDest{&updated}); err != nil {
			return keygate.TenantPolicy{}, err
		}
		if provider == nil {
			continue // the tenant has no policy rows
		}
		q := keygate.Policy{Mode: keygate.PolicyMode(*mode), AllowRequestKeys: *allow, FallbackOnError: *fallback}
		if !q.Mode.Valid() {
			return keygate.TenantPolicy{}, fmt.Errorf("policy of provider %s has unknown mode %s", Quote(*provider), Quote(*mode))
		}
		if *provider == defaultProvider {
			p.Default = q
		} else {
			p.Providers[*provider] = q
		}
		if updated.After(p.UpdatedAt) {
			p.UpdatedAt = updated
		}
	}
	if err := rows.Err(); err != nil {
		return keygate.TenantPolicy{}, err
	}
	if !found {
		return keygate.TenantPolicy{}, NoTenant(string(tenant))
	}
	return p, nil
}

// PutPolicy replaces the tenant's whole policy with p (the default and
// exactly the overrides in p.Providers) and appends ev, in one transaction,
// and returns p as stored, with UpdatedAt. Returns invalid_request for an
// unknown mode or an empty provider name in p.Providers, not_found (with
// nothing written) for an unknown tenant. Concurrent calls for one tenant
// serialize on the tenant row; the last to commit wins whole.
func (s *Store) PutPolicy(ctx context.Context, p keygate.TenantPolicy, ev keygate.AuditEvent) (keygate.TenantPolicy, error) {
	if err := CheckPolicy(p); err != nil {
		return keygate.TenantPolicy{}, err
	}
	var out keygate.TenantPolicy
	err := s.r.Write(ctx, "put policy of "+string(p.Tenant), func(tx Tx) error {
		// FOR NO KEY UPDATE, not FOR SHARE: two PutPolicy calls must not
		// both delete and then both insert, which would mix their rows (or
		// collide on the primary key). It also makes a concurrent
		// DeleteTenant (FOR UPDATE) wait for this policy, then delete it,
		// while gateway token inserts (whose foreign key check takes FOR
		// KEY SHARE) need not wait.
		if err := s.d.lockTenant(ctx, tx, p.Tenant, ForNoKeyUpdate); err != nil {
			return err
		}
		var err error
		if out, err = s.d.ReplacePolicy(ctx, tx, p); err != nil {
			return err
		}
		tx.Announce(keygate.Change{Kind: keygate.ChangeTenant, Owner: p.Tenant})
		return s.appendAudit(ctx, tx, &ev)
	})
	if err != nil {
		return keygate.TenantPolicy{}, err
	}
	return out, nil
}

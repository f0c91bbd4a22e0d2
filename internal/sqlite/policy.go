package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/keygate/keygate"
)

// defaultProvider is the policies.provider of a tenant's default policy.
const defaultProvider = ""

// GetPolicy returns the tenant's policy: its default and its per-provider
// overrides, with UpdatedAt the time of the last PutPolicy. A tenant that
// never set one gets keygate.DefaultPolicy, no overrides (an empty, non-nil
// map) and a zero UpdatedAt. Returns not_found for an unknown tenant.
func (db *DB) GetPolicy(ctx context.Context, tenant keygate.TenantID) (keygate.TenantPolicy, error) {
	var p keygate.TenantPolicy
	err := db.read(ctx, "get policy of "+string(tenant), func(tx *tx) error {
		var err error
		p, err = getPolicy(ctx, tx, tenant)
		return err
	})
	return p, err
}

// PutPolicy replaces the tenant's whole policy with p (the default and
// exactly the overrides in p.Providers) and appends ev, in one transaction,
// and returns p as stored, with UpdatedAt. Returns invalid_request for an
// unknown mode or an empty provider name in p.Providers, not_found (with
// nothing written) for an unknown tenant.
func (db *DB) PutPolicy(ctx context.Context, p keygate.TenantPolicy, ev keygate.AuditEvent) (keygate.TenantPolicy, error) {
	if err := validatePolicy(p); err != nil {
		return keygate.TenantPolicy{}, err
	}
	out := keygate.TenantPolicy{Tenant: p.Tenant, Default: p.Default, Providers: maps.Clone(p.Providers)}
	if out.Providers == nil {
		out.Providers = map[string]keygate.Policy{}
	}
	err := db.write(ctx, "put policy of "+string(p.Tenant), func(tx *tx) error {
		ok, err := tenantExists(ctx, tx, p.Tenant)
		if err != nil {
			return err
		}
		if !ok {
			return keygate.Errorf(keygate.CodeNotFound, "Tenant %s does not exist.", quote(string(p.Tenant)))
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM policies WHERE tenant_id = ?`, string(p.Tenant)); err != nil {
			return fmt.Errorf("delete old policy: %w", err)
		}
		out.UpdatedAt = tx.now
		insert := func(provider string, q keygate.Policy) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO policies
				(tenant_id, provider, mode, allow_request_keys, fallback_on_error, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
				string(p.Tenant), provider, string(q.Mode), q.AllowRequestKeys, q.FallbackOnError, micros(tx.now))
			if err != nil {
				return fmt.Errorf("insert policy for provider %s: %w", quote(provider), err)
			}
			return nil
		}
		if err := insert(defaultProvider, p.Default); err != nil {
			return err
		}
		for _, provider := range slices.Sorted(maps.Keys(p.Providers)) {
			if err := insert(provider, p.Providers[provider]); err != nil {
				return err
			}
		}
		return db.appendAudit(ctx, tx, &ev)
	})
	if err != nil {
		return keygate.TenantPolicy{}, err
	}
	return out, nil
}

// getPolicy reads the tenant's policy in one statement: the tenant row
// joined with its policy rows, so that "no tenant" (no row) and "no policy"
// (one row of NULLs) are told apart.
func getPolicy(ctx context.Context, tx *tx, tenant keygate.TenantID) (keygate.TenantPolicy, error) {
	rows, err := tx.QueryContext(ctx, `SELECT p.provider, p.mode, p.allow_request_keys, p.fallback_on_error, p.updated_at
		FROM tenants t LEFT JOIN policies p ON p.tenant_id = t.id WHERE t.id = ?`, string(tenant))
	if err != nil {
		return keygate.TenantPolicy{}, err
	}
	defer rows.Close()
	p := keygate.TenantPolicy{Tenant: tenant, Default: keygate.DefaultPolicy(), Providers: map[string]keygate.Policy{}}
	found := false
	for rows.Next() {
		found = true
		var provider, mode sql.NullString
		var allow, fallback sql.NullBool
		var updated time.Time
		if err := rows.Scan(&provider, &mode, &allow, &fallback, microTime{&updated}); err != nil {
			return keygate.TenantPolicy{}, err
		}
		if !provider.Valid {
			continue // the tenant has no policy rows
		}
		q := keygate.Policy{Mode: keygate.PolicyMode(mode.String), AllowRequestKeys: allow.Bool, FallbackOnError: fallback.Bool}
		if !q.Mode.Valid() {
			// Fail closed: a mode this binary does not know must not be
			// read as some other mode.
			return keygate.TenantPolicy{}, fmt.Errorf("policy of provider %s has unknown mode %s", quote(provider.String), quote(mode.String))
		}
		if provider.String == defaultProvider {
			p.Default = q
		} else {
			p.Providers[provider.String] = q
		}
		if updated.After(p.UpdatedAt) {
			p.UpdatedAt = updated
		}
	}
	if err := rows.Err(); err != nil {
		return keygate.TenantPolicy{}, err
	}
	if !found {
		return keygate.TenantPolicy{}, keygate.Errorf(keygate.CodeNotFound, "Tenant %s does not exist.", quote(string(tenant)))
	}
	return p, nil
}

// validatePolicy checks what the schema cannot: known modes, and no
// override under the default's empty provider name.
func validatePolicy(p keygate.TenantPolicy) error {
	if p.Tenant == "" {
		return keygate.Errorf(keygate.CodeInvalidRequest, "A policy needs a tenant.")
	}
	if !p.Default.Mode.Valid() {
		return keygate.Errorf(keygate.CodeInvalidRequest, "Policy mode %s is not valid.", quote(string(p.Default.Mode)))
	}
	for _, provider := range slices.Sorted(maps.Keys(p.Providers)) {
		if provider == defaultProvider {
			return keygate.Errorf(keygate.CodeInvalidRequest, "A provider override needs a provider name.")
		}
		if m := p.Providers[provider].Mode; !m.Valid() {
			return keygate.Errorf(keygate.CodeInvalidRequest, "Policy mode %s for provider %s is not valid.", quote(string(m)), bare(provider))
		}
	}
	return nil
}

// SPDX-License-Identifier: Apache-2.0

package keygate

import "context"

// KeyStatusUpdate records the outcome of a check of one key version (a live
// call or an active test).
type KeyStatusUpdate struct {
	Owner    TenantID
	Provider string
	// KeyID and Version name the version that was checked; the update
	// applies only while it is still the current version, so a late answer
	// about an old version never marks its successor.
	KeyID     string
	Version   int
	Status    KeyStatus
	LastError string // never contains the key
}

// GatewayStore is the part of the Store contract that the gateway adds:
// gateway tokens, policies and key health.
type GatewayStore interface {
	// CreateGatewayToken inserts t (ID, Hash, Prefix set by the caller) with
	// ev. Returns not_found if the tenant does not exist.
	CreateGatewayToken(ctx context.Context, t GatewayToken, ev AuditEvent) (GatewayToken, error)
	// GatewayTokenByHash returns the token with that hash, revoked or not;
	// not_found if none.
	GatewayTokenByHash(ctx context.Context, hash []byte) (GatewayToken, error)
	// ListGatewayTokens returns the tenant's gateway tokens, newest first.
	ListGatewayTokens(ctx context.Context, tenant TenantID) ([]GatewayToken, error)
	// RevokeGatewayToken marks the tenant's token id revoked with ev;
	// not_found if it does not exist for that tenant or is already revoked.
	RevokeGatewayToken(ctx context.Context, tenant TenantID, id string, ev AuditEvent) error
	// SetGatewayTokenScope replaces the scope of the tenant's token id (not
	// revoked) with ev and returns the token; not_found if the tenant has
	// no such token or it is revoked, invalid_request for a scope that
	// does not validate.
	SetGatewayTokenScope(ctx context.Context, tenant TenantID, id string, scope TokenScope, ev AuditEvent) (GatewayToken, error)

	// GetPolicy returns the tenant's policy; a tenant that never set one
	// gets DefaultPolicy with a zero UpdatedAt. Returns not_found for an
	// unknown tenant.
	GetPolicy(ctx context.Context, tenant TenantID) (TenantPolicy, error)
	// PutPolicy replaces the tenant's whole policy with p, with ev.
	PutPolicy(ctx context.Context, p TenantPolicy, ev AuditEvent) (TenantPolicy, error)

	// SetKeyStatus records u and sets last_checked_at to the store's clock,
	// if u names the current version. When the status changes and
	// ev.Action is not empty, ev is appended in the same transaction (the
	// store fills KeyID, Version, Hint and Fingerprint). It reports whether
	// the status changed. Returns not_found if the owner has no key for
	// the provider.
	SetKeyStatus(ctx context.Context, u KeyStatusUpdate, ev AuditEvent) (bool, error)
}

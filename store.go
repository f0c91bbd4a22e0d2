// SPDX-License-Identifier: Apache-2.0

package keygate

import "context"

// Store is the persistence contract. Two backends implement it (embedded
// SQLite and PostgreSQL) and both pass the conformance suite in
// internal/storetest.
//
// Every method is one transaction. A change that must be audited takes its
// AuditEvent and appends it in the same transaction, so if the audit write
// fails the change does not happen. The store fills the event's Seq, Time,
// PrevHash and Hash (and, where noted, Action, KeyID and Version); timestamps
// come from the store's injected clock.
//
// Errors: *Error with CodeNotFound for a missing tenant, key or token,
// CodeConflict for a taken unique name; anything else is an internal error
// wrapped with what failed.
type Store interface {
	GatewayStore
	LifecycleStore
	GovernanceStore
	ChangeSubscriber

	// CreateTenant inserts t (ID, Name, BYOKEnabled set by the caller) and
	// returns it with its timestamps. Returns conflict if the name or id is
	// taken.
	CreateTenant(ctx context.Context, t Tenant, ev AuditEvent) (Tenant, error)
	// GetTenant finds a tenant by id ("tn_...") or by name.
	GetTenant(ctx context.Context, ref string) (Tenant, error)
	// ListTenants returns all tenants ordered by name.
	ListTenants(ctx context.Context) ([]Tenant, error)
	// UpdateTenant applies u and appends ev (unless ev.Action is empty,
	// meaning nothing audited changed). Returns not_found for an unknown id.
	UpdateTenant(ctx context.Context, id TenantID, u TenantUpdate, ev AuditEvent) (Tenant, error)
	// DeleteTenant deletes the tenant, its keys (every version) and its
	// tokens; its audit events stay.
	DeleteTenant(ctx context.Context, id TenantID, ev AuditEvent) error

	// PutKey stores a new version of the owner's key for p.Provider and makes
	// it current, atomically with ev. Concurrent calls are serialized:
	// versions strictly increase. The store sets ev.Action to ActionKeySet
	// for the first version of a key and ActionKeyRotated after, and
	// ev.KeyID and ev.Version. Returns not_found if the owner is a tenant
	// that does not exist.
	PutKey(ctx context.Context, p PutKeyParams, ev AuditEvent) (ProviderKey, error)
	// GetKey returns the current version of the owner's key for provider,
	// with its sealed material.
	GetKey(ctx context.Context, owner TenantID, provider string) (ProviderKey, error)
	// ListKeys returns the current version of each of the owner's keys,
	// ordered by provider.
	ListKeys(ctx context.Context, owner TenantID) ([]ProviderKey, error)
	// DeleteKey erases every version of the owner's key for provider and
	// appends ev (the store fills KeyID, Version, Hint and Fingerprint from
	// the deleted key). Returns not_found if there is none.
	DeleteKey(ctx context.Context, owner TenantID, provider string, ev AuditEvent) error

	// ListWrapped returns up to limit wrapped data keys (provider key
	// versions and sealed settings) whose master key is not kekID.
	ListWrapped(ctx context.Context, notKEKID string, limit int) ([]WrappedRef, error)
	// Rewrap replaces the wrapped data key of ref with wrapped under
	// newKEKID, only if it is still wrapped as ref says (compare-and-swap).
	// It reports whether the row was changed.
	Rewrap(ctx context.Context, ref WrappedRef, wrapped []byte, newKEKID string) (bool, error)

	// GetSetting returns a sealed server setting; not_found if absent.
	GetSetting(ctx context.Context, name string) (Sealed, error)
	// InitSetting stores a sealed server setting unless one with that name
	// exists, and returns the one stored (the new one or the existing).
	InitSetting(ctx context.Context, name string, s Sealed) (Sealed, error)
	// ListSettings returns the sealed settings whose name starts with
	// prefix, oldest first (then by name).
	ListSettings(ctx context.Context, prefix string) ([]Setting, error)

	// CreateAdminToken inserts t (ID and Hash set by the caller) with ev.
	CreateAdminToken(ctx context.Context, t AdminToken, ev AuditEvent) (AdminToken, error)
	// AdminTokenByHash returns the token with that hash; not_found if none
	// (revoked tokens are returned with RevokedAt set).
	AdminTokenByHash(ctx context.Context, hash []byte) (AdminToken, error)
	// ListAdminTokens returns the admin tokens, all or of one tenant (empty
	// tenant: all), newest first.
	ListAdminTokens(ctx context.Context, tenant TenantID) ([]AdminToken, error)
	// RevokeAdminToken marks the token revoked with ev; not_found if absent
	// or already revoked.
	RevokeAdminToken(ctx context.Context, id string, ev AuditEvent) error
	// TouchTokens records when tokens were last used: each token's
	// LastUsedAt becomes its use's At unless it is already later. Unknown
	// ids are skipped. It announces no change: no cache holds the last use,
	// and announcing would evict every used token from every replica's
	// cache. Returns invalid_request for an unknown kind.
	TouchTokens(ctx context.Context, uses []TokenUse) error
	// CountAdminTokens returns how many admin tokens exist (revoked or not),
	// used to bootstrap the first one.
	CountAdminTokens(ctx context.Context) (int, error)

	// AppendAudit appends ev on its own.
	AppendAudit(ctx context.Context, ev AuditEvent) (AuditEvent, error)
	// ListAudit returns events matching f, newest first.
	ListAudit(ctx context.Context, f AuditFilter) ([]AuditEvent, error)
	// ScanAudit returns up to limit events with Seq > afterSeq, oldest first,
	// for chain verification and export.
	ScanAudit(ctx context.Context, afterSeq int64, limit int) ([]AuditEvent, error)
	// AuditHead returns the sequence number and hash of the last event (0
	// and "" when there is none), as recorded apart from the rows, so that a
	// deleted last row is detectable.
	AuditHead(ctx context.Context) (seq int64, hash string, err error)

	// Ping reports whether the storage is reachable.
	Ping(ctx context.Context) error
	// Close releases the store's resources.
	Close() error
}

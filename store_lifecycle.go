// SPDX-License-Identifier: Apache-2.0

package keygate

import (
	"context"
	"time"
)

// KeyVersion is one version of a stored key, for display and rollback. It
// carries no key material.
type KeyVersion struct {
	KeyID       string
	Version     int
	Hint        string
	Fingerprint string
	CreatedBy   string
	CreatedAt   time.Time
	// Current reports whether this is the version the gateway uses.
	Current bool
	// SupersededAt is when this version stopped being current (zero while
	// it is current or was never current after a newer one).
	SupersededAt time.Time
	// DestroyedAt is when its ciphertext was erased (zero while it can
	// still be restored).
	DestroyedAt time.Time
}

// LifecycleStore is the part of the Store contract for versioned rotation:
// listing versions, rolling back, and destroying superseded versions after
// the grace period.
type LifecycleStore interface {
	// ListKeyVersions returns every version of the owner's key for
	// provider, newest first; not_found if there is no key.
	ListKeyVersions(ctx context.Context, owner TenantID, provider string) ([]KeyVersion, error)
	// RollbackKey makes the newest version below the current one that is
	// not destroyed and was superseded at or after notBefore the current
	// version again, with ev (the store sets Action to ActionKeyRolledBack
	// and fills KeyID, Version, Hint, Fingerprint; Detail is the caller's).
	// The version that was current is marked superseded now. Returns
	// not_found if there is no key, and conflict if no version can be
	// restored (none older, destroyed, or superseded before notBefore).
	RollbackKey(ctx context.Context, owner TenantID, provider string, notBefore time.Time, ev AuditEvent) (ProviderKey, error)
	// DestroySuperseded erases the ciphertext and wrapped data key of every
	// version that is not current and was superseded before olderThan, sets
	// its DestroyedAt, and returns how many it destroyed. Metadata (hint,
	// fingerprint, dates) stays for the audit trail.
	DestroySuperseded(ctx context.Context, olderThan time.Time) (int, error)
	// ListAllKeys returns the current version of every stored key of every
	// owner (without sealed material), ordered by owner and provider.
	ListAllKeys(ctx context.Context) ([]ProviderKey, error)
}

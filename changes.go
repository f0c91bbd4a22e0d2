package keygate

import "context"

// ChangeKind says what changed, for cache invalidation across replicas.
type ChangeKind string

// Change kinds.
const (
	ChangeTenant ChangeKind = "tenant" // a tenant, its policy, budget or limits
	ChangeKey    ChangeKind = "key"    // a provider key of Owner for Provider
	ChangeToken  ChangeKind = "token"  // gateway token ID of Owner
)

// Change is one committed change that replicas must drop from their caches.
type Change struct {
	Kind     ChangeKind
	Owner    TenantID // the tenant (or PlatformScope for platform keys)
	Provider string   // for ChangeKey
	ID       string   // for ChangeToken
}

// ChangeFeed delivers committed changes made by any replica. Stores shared
// by several replicas implement it (PostgreSQL: LISTEN/NOTIFY).
type ChangeFeed interface {
	// Listen calls f for every change until ctx ends, reconnecting on
	// failure; it calls resync after every (re)connection, since changes
	// may have been missed while disconnected. It returns when ctx ends.
	Listen(ctx context.Context, f func(Change), resync func()) error
}

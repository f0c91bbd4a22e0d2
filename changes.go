// SPDX-License-Identifier: Apache-2.0

package keygate

import "context"

// ChangeKind says what a committed write changed. The cache of the hot path
// acts on tenant, key and token changes; the other kinds exist so that
// every write the Store commits is announced (a listener that cares about
// audit appends or usage, such as a webhook sender, hears them too).
type ChangeKind string

// Change kinds.
const (
	// ChangeTenant: a tenant (created, updated, deleted), its policy, budget
	// or rate limits. Owner is the tenant. Deleting a tenant deletes its
	// keys and tokens too and announces only this change: a listener drops
	// everything of Owner.
	ChangeTenant ChangeKind = "tenant"
	// ChangeKey: a provider key of Owner (a tenant or PlatformScope) for
	// Provider: a new version, a rollback, a deletion, destroyed
	// superseded versions (one change per key) or a re-wrapped data key.
	ChangeKey ChangeKind = "key"
	// ChangeKeyStatus: a recorded check of the current version of a
	// provider key of Owner for Provider (SetKeyStatus, whether or not the
	// status changed; not for a stale check, which writes nothing). The
	// key itself did not change: ID is its key id and Status the status
	// now recorded, so a cache can keep the opened key and update its
	// status in place.
	ChangeKeyStatus ChangeKind = "key_status"
	// ChangeToken: gateway token ID of tenant Owner, created or revoked.
	ChangeToken ChangeKind = "token"
	// ChangeAdminToken: admin token ID (of tenant Owner, empty for a
	// platform admin token), created or revoked.
	ChangeAdminToken ChangeKind = "admin_token"
	// ChangeSetting: the sealed server setting ID, stored (InitSetting,
	// only when it stored a new one) or re-wrapped.
	ChangeSetting ChangeKind = "setting"
	// ChangeAudit: an event appended on its own (AppendAudit). Owner is
	// the event's tenant, ID the event's id. Events appended with another
	// change are announced by that change.
	ChangeAudit ChangeKind = "audit"
	// ChangeUsage: usage events inserted. Owner is empty: a batch holds
	// many tenants.
	ChangeUsage ChangeKind = "usage"
	// ChangePrices: a price list imported (ImportPrices). Owner is empty;
	// ID is its version. The proxy's price table reloads.
	ChangePrices ChangeKind = "prices"
)

// Change is one committed change.
type Change struct {
	Kind     ChangeKind
	Owner    TenantID  // the tenant (or PlatformScope for platform keys)
	Provider string    // for ChangeKey and ChangeKeyStatus
	ID       string    // for ChangeKeyStatus, ChangeToken, ChangeAdminToken, ChangeSetting, ChangeAudit
	Status   KeyStatus // for ChangeKeyStatus
}

// ChangeSubscriber is how a Store announces the changes it commits in this
// process.
type ChangeSubscriber interface {
	// Subscribe registers f. After every committed write, before the
	// write method returns, the store calls each registered f with each
	// change the write made, in the writer's goroutine and in order. f
	// must be quick and must not call back into the store. A write that
	// fails, or that succeeds without changing anything (a Rewrap that lost
	// its compare-and-swap, an InitSetting that found the setting, an empty
	// InsertUsage), announces nothing. The returned function removes f.
	Subscribe(f func(Change)) (unsubscribe func())
}

// ChangeFeed delivers committed changes made by any replica. Stores shared
// by several replicas implement it (PostgreSQL: LISTEN/NOTIFY).
type ChangeFeed interface {
	// Listen calls f for every change until ctx ends, reconnecting on
	// failure; it calls resync after every (re)connection, since changes
	// may have been missed while disconnected. It returns when ctx ends.
	Listen(ctx context.Context, f func(Change), resync func()) error
}

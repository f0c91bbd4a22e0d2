// SPDX-License-Identifier: Apache-2.0

package resolver

import (
	"bytes"
	"sync"
	"time"

	"github.com/keygate/keygate"
)

// cache holds what the hot path reads of storage: gateway tokens by hash,
// tenant snapshots and opened provider keys. It has one invalidation
// scheme for all three.
//
// Every change the store announces bumps seq and records, under the scope
// it touched (a token, a tenant, a key), the seq of its last change. A load
// notes seq before it reads the store and caches its answer only if no
// change of its own scopes came since: a token revoked (a tenant changed, a
// key rotated) while it was being read is not cached in its old state.
// A change to another token, tenant or key does not stop the fill: a
// gateway that could not cache would fail every call while its storage is
// down. A resync (the change feed reconnected, changes may have been
// missed) stops every load in flight.
type cache struct {
	ttl    time.Duration
	forget func(keygate.Sealed)

	mu       sync.RWMutex
	tokens   map[string]tokenEntry // by SHA-256 of the token
	tenants  map[keygate.TenantID]tenantEntry
	keys     map[keyRef]keyEntry
	seq      uint64
	changed  map[scope]uint64 // scope → seq of its last change
	resynced uint64           // seq of the last resync
}

// scope is what one change touched: a token (name is its id), a tenant
// (owner) or a key (owner and provider). Changes of a tenant reach its
// tokens and keys too.
type scope struct {
	kind  keygate.ChangeKind
	owner keygate.TenantID
	name  string
}

type keyRef struct {
	owner    keygate.TenantID
	provider string
}

type tokenEntry struct {
	caller  Caller
	ok      bool      // false: revoked
	expires time.Time // of the cache entry
	// validUntil is the token's own expiry (zero: none), checked against
	// the clock on every call, cached or not.
	validUntil time.Time
	// lastUsed is the token's last use as storage had it (auth.Uses).
	lastUsed time.Time
}

type tenantEntry struct {
	snap    *Snapshot // shared by every call of the tenant; never modified
	expires time.Time
}

type keyEntry struct {
	absent bool // no key is stored
	key    keygate.Secret
	meta   keygate.ProviderKey // without sealed material
	// dek names the version's data key (wrapped, no ciphertext), so that
	// the keyring's cache can forget it when this entry goes.
	dek     keygate.Sealed
	expires time.Time
}

func newCache(ttl time.Duration, forget func(keygate.Sealed)) cache {
	return cache{
		ttl:     ttl,
		forget:  forget,
		tokens:  map[string]tokenEntry{},
		tenants: map[keygate.TenantID]tenantEntry{},
		keys:    map[keyRef]keyEntry{},
		changed: map[scope]uint64{},
	}
}

// gen returns the change count a load notes before it reads the store.
func (c *cache) gen() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.seq
}

// staleSince reports whether a or b (zero: none) changed, or a resync
// happened, after gen. The caller holds mu.
func (c *cache) staleSince(gen uint64, a, b scope) bool {
	return c.resynced > gen || c.changed[a] > gen || (b != scope{} && c.changed[b] > gen)
}

func tokenScope(id string) scope            { return scope{kind: keygate.ChangeToken, name: id} }
func tenantScope(id keygate.TenantID) scope { return scope{kind: keygate.ChangeTenant, owner: id} }
func keyScope(r keyRef) scope {
	return scope{kind: keygate.ChangeKey, owner: r.owner, name: r.provider}
}
func fresh(expires, now time.Time) bool         { return now.Before(expires) }
func (c *cache) expiry(now time.Time) time.Time { return now.Add(c.ttl) }

func (c *cache) token(hash []byte, now time.Time) (tokenEntry, bool) {
	c.mu.RLock()
	e, ok := c.tokens[string(hash)]
	c.mu.RUnlock()
	return e, ok && fresh(e.expires, now)
}

func (c *cache) putToken(gen uint64, hash []byte, e tokenEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.staleSince(gen, tokenScope(e.caller.TokenID), tenantScope(e.caller.Tenant)) {
		c.tokens[string(hash)] = e
	}
}

func (c *cache) tenant(id keygate.TenantID, now time.Time) (*Snapshot, bool) {
	c.mu.RLock()
	e, ok := c.tenants[id]
	c.mu.RUnlock()
	return e.snap, ok && fresh(e.expires, now)
}

func (c *cache) putTenant(gen uint64, snap *Snapshot, now time.Time) {
	id := snap.Tenant.ID
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.staleSince(gen, tenantScope(id), scope{}) {
		c.tenants[id] = tenantEntry{snap: snap, expires: c.expiry(now)}
	}
}

func (c *cache) key(r keyRef, now time.Time) (keyEntry, bool) {
	c.mu.RLock()
	e, ok := c.keys[r]
	c.mu.RUnlock()
	return e, ok && fresh(e.expires, now)
}

func (c *cache) putKey(gen uint64, r keyRef, e keyEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.staleSince(gen, keyScope(r), tenantScope(r.owner)) {
		return
	}
	if old, ok := c.keys[r]; ok && !bytes.Equal(old.dek.WrappedDEK, e.dek.WrappedDEK) {
		c.drop(old) // a newer version, read after the entry expired
	}
	c.keys[r] = e
}

// drop lets the keyring forget the data key of a key entry that goes. The
// caller holds mu.
func (c *cache) drop(e keyEntry) {
	if len(e.dek.WrappedDEK) > 0 {
		c.forget(e.dek)
	}
}

// apply drops what a committed change makes stale and records it, so that
// loads in flight that read the store before it do not cache their answer.
// Kinds the cache holds nothing of are ignored.
func (c *cache) apply(ch keygate.Change) {
	switch ch.Kind {
	case keygate.ChangeToken, keygate.ChangeTenant, keygate.ChangeKey:
	case keygate.ChangeKeyStatus:
		c.setStatus(ch)
		return
	default:
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	switch ch.Kind {
	case keygate.ChangeToken:
		c.changed[tokenScope(ch.ID)] = c.seq
		for h, e := range c.tokens {
			if e.caller.TokenID == ch.ID {
				delete(c.tokens, h)
			}
		}
	case keygate.ChangeTenant:
		// A tenant's settings, its entitlement or its very existence:
		// its snapshot goes, and with it its tokens and keys (a deleted
		// tenant's tokens and keys died with it; their plaintext must not
		// linger in memory).
		c.changed[tenantScope(ch.Owner)] = c.seq
		delete(c.tenants, ch.Owner)
		for h, e := range c.tokens {
			if e.caller.Tenant == ch.Owner {
				delete(c.tokens, h)
			}
		}
		for r, e := range c.keys {
			if r.owner == ch.Owner {
				c.drop(e)
				delete(c.keys, r)
			}
		}
	case keygate.ChangeKey:
		r := keyRef{ch.Owner, ch.Provider}
		c.changed[keyScope(r)] = c.seq
		if e, ok := c.keys[r]; ok {
			c.drop(e)
			delete(c.keys, r)
		}
	}
}

// setStatus records a key's new health status (a ChangeKeyStatus) in its
// cached entry, if the entry holds that key: the key itself did not
// change, so it stays opened and cached. The cached status lets the proxy
// write only changes of health; a load in flight that read the old status
// may still cache it, and then the next answer of the provider is written
// once more, which is harmless.
func (c *cache) setStatus(ch keygate.Change) {
	r := keyRef{ch.Owner, ch.Provider}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.keys[r]; ok && !e.absent && e.meta.ID == ch.ID {
		e.meta.Status = ch.Status
		c.keys[r] = e
	}
}

// resync drops everything: changes may have been missed.
func (c *cache) resync() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.tokens)
	clear(c.tenants)
	for _, e := range c.keys {
		c.drop(e)
	}
	clear(c.keys)
	// Every load that started before now is stale by resynced alone, so
	// the per-scope records can go (they would only grow).
	clear(c.changed)
	c.seq++
	c.resynced = c.seq
}

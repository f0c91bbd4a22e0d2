// SPDX-License-Identifier: Apache-2.0

// Package resolver answers the hot path's questions in one decision per
// call: who is calling (a gateway token → its tenant), what the gateway
// knows of that tenant (policy, budget, rate limits, billing), and which
// credential pays for the call (the request's key, the tenant's or the
// platform's, by the tenant's policy).
//
// Its cache is the gateway's only one: gateway tokens, tenant snapshots and
// opened provider keys, kept warm so that a warm call costs no storage round
// trip and no allocation. The cache learns of changes from the store alone
// (keygate.ChangeSubscriber in this process, keygate.ChangeFeed from other
// replicas); nothing else invalidates it.
package resolver

import (
	"context"
	"time"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/auth"
)

// Store is the storage the resolver reads, and whose changes it hears.
type Store interface {
	GatewayTokenByHash(ctx context.Context, hash []byte) (keygate.GatewayToken, error)
	GetTenant(ctx context.Context, ref string) (keygate.Tenant, error)
	GetPolicy(ctx context.Context, tenant keygate.TenantID) (keygate.TenantPolicy, error)
	GetBudget(ctx context.Context, tenant keygate.TenantID) (keygate.Budget, error)
	GetRateLimits(ctx context.Context, tenant keygate.TenantID) ([]keygate.RateLimit, error)
	keygate.ChangeSubscriber
}

// Keys opens stored provider keys (the key vault, keyvault.Service).
type Keys interface {
	// Open returns the plaintext and metadata of owner's current key for
	// provider, or ok=false when none is stored. meta.Sealed carries the
	// version's wrapped data key and no ciphertext, so that Forget can name
	// it later.
	Open(ctx context.Context, owner keygate.TenantID, provider string) (key keygate.Secret, meta keygate.ProviderKey, ok bool, err error)
	// Forget is told the wrapped data key of an opened key the cache let
	// go (replaced, changed or expired), so that the keyring does not keep
	// data keys that no cached key uses.
	Forget(dataKey keygate.Sealed)
}

// FeedObserver counts what the change feed delivers (metrics.Metrics is
// one).
type FeedObserver interface {
	// ObserveChange is called once the cached entries of a change from
	// the feed are dropped.
	ObserveChange(kind string)
	// ObserveResync is called once everything is dropped after the feed
	// (re)connected.
	ObserveResync()
}

// Options are the optional settings of a Service.
type Options struct {
	// TTL bounds how long a cached token, tenant snapshot or key (or the
	// knowledge that there is none) is served without asking storage.
	// Changes reach the cache at once, from the store; the TTL is the
	// safety net behind them, and how long cached calls keep working while
	// storage is unreachable. Default 30s.
	TTL time.Duration
	// CacheObserver returns what a cache ("token", "tenant", "key") calls
	// on each lookup, hit or miss (metrics.Metrics.CacheObserver). Default:
	// nothing is counted.
	CacheObserver func(cache string) func(hit bool)
	// Feed, if set, counts the changes Listen applies.
	Feed FeedObserver
	// Clock reads the time for expiry (of cache entries and of tokens);
	// default time.Now.
	Clock keygate.Clock
	// Uses, if set, records the last use of each gateway token that
	// authenticates, at most once per interval and off the call's path.
	Uses *auth.Uses
}

func (o Options) withDefaults() Options {
	if o.TTL <= 0 {
		o.TTL = 30 * time.Second
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.CacheObserver == nil {
		o.CacheObserver = func(string) func(bool) { return func(bool) {} }
	}
	return o
}

// Service authenticates callers and decides calls. It is safe for
// concurrent use.
type Service struct {
	store Store
	keys  Keys
	opt   Options

	tokenLookup, tenantLookup, keyLookup func(hit bool)

	cache       cache
	unsubscribe func()
}

// New returns a Service whose cache listens to store's changes from now
// on. Call Close to stop listening.
func New(store Store, keys Keys, opt Options) *Service {
	opt = opt.withDefaults()
	s := &Service{
		store:        store,
		keys:         keys,
		opt:          opt,
		tokenLookup:  opt.CacheObserver("token"),
		tenantLookup: opt.CacheObserver("tenant"),
		keyLookup:    opt.CacheObserver("key"),
		cache:        newCache(opt.TTL, keys.Forget),
	}
	s.unsubscribe = store.Subscribe(s.cache.apply)
	return s
}

// Close stops listening to the store's changes. The Service keeps
// answering, from a cache that no longer learns of changes.
func (s *Service) Close() { s.unsubscribe() }

// Listen applies the changes of other replicas from feed until ctx ends
// (see keygate.ChangeFeed): each drops its cached entries, and a
// (re)connection drops everything, since changes may have been missed
// meanwhile. Each is counted (Options.Feed) only once its entries are
// dropped, so that the count never runs ahead of the cache (a reader of
// /metrics may rely on what it says having happened). It returns what
// feed.Listen returns.
func (s *Service) Listen(ctx context.Context, feed keygate.ChangeFeed) error {
	return feed.Listen(ctx, func(c keygate.Change) {
		s.cache.apply(c)
		if s.opt.Feed != nil {
			s.opt.Feed.ObserveChange(string(c.Kind))
		}
	}, func() {
		s.cache.resync()
		if s.opt.Feed != nil {
			s.opt.Feed.ObserveResync()
		}
	})
}

// Package resolver answers the hot path's two questions: who is calling (a
// gateway token → its tenant) and which credential pays for this call (the
// request's key, the tenant's or the platform's, by the tenant's policy).
// Both answers are cached so that a warm call costs no storage round trip
// and no allocation.
package resolver

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/auth"
)

// Store is the storage the resolver reads.
type Store interface {
	GatewayTokenByHash(ctx context.Context, hash []byte) (keygate.GatewayToken, error)
	GetTenant(ctx context.Context, ref string) (keygate.Tenant, error)
	GetPolicy(ctx context.Context, tenant keygate.TenantID) (keygate.TenantPolicy, error)
	GetBudget(ctx context.Context, tenant keygate.TenantID) (keygate.Budget, error)
	GetRateLimits(ctx context.Context, tenant keygate.TenantID) ([]keygate.RateLimit, error)
}

// Keys opens stored provider keys (the key vault).
type Keys interface {
	Lookup(ctx context.Context, owner keygate.TenantID, provider string) (keygate.Secret, keygate.ProviderKey, bool, error)
}

// Options are the optional settings of a Service.
type Options struct {
	// TokenTTL bounds how long a gateway token's answer is cached. Revoking
	// through this process takes effect at once. Default 30s.
	TokenTTL time.Duration
	// TenantTTL bounds how long a tenant's entitlement and policy are
	// cached. Default 5s.
	TenantTTL time.Duration
	// CacheObserver returns what a cache ("token", "tenant") calls on
	// each lookup, hit or miss (metrics.Metrics.CacheObserver). Default:
	// nothing is counted.
	CacheObserver func(cache string) func(hit bool)
	Now           func() time.Time
	Logger        *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.TokenTTL <= 0 {
		o.TokenTTL = 30 * time.Second
	}
	if o.TenantTTL <= 0 {
		o.TenantTTL = 5 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.CacheObserver == nil {
		o.CacheObserver = func(string) func(bool) { return func(bool) {} }
	}
	return o
}

// Service resolves callers and credentials. It is safe for concurrent use.
type Service struct {
	store Store
	keys  Keys
	opt   Options

	tokenLookup, tenantLookup func(hit bool)

	mu      sync.RWMutex
	tokens  map[string]tokenEntry // by SHA-256 of the token
	tenants map[keygate.TenantID]tenantEntry
	// seq numbers invalidations. A load remembers seq before it reads the
	// store and caches its answer only if nothing that concerns it was
	// invalidated since: a token revoked (or a tenant changed) while it
	// was being read is not cached in its old state, and a change to
	// another token or tenant does not stop the fill (a gateway that could
	// not cache would fail every call while its storage is down).
	seq        uint64
	tokenInv   map[string]uint64           // token id → seq of its last invalidation
	tenantInv  map[keygate.TenantID]uint64 // tenant id → seq of its last invalidation
	allInvalid uint64                      // seq of the last InvalidateAll
}

type tokenEntry struct {
	caller  Caller
	ok      bool // false: unknown or revoked
	expires time.Time
}

type tenantEntry struct {
	tenant  keygate.Tenant
	policy  keygate.TenantPolicy
	budget  keygate.Budget
	limits  []keygate.RateLimit
	expires time.Time
}

// New returns a Service.
func New(store Store, keys Keys, opt Options) *Service {
	opt = opt.withDefaults()
	return &Service{
		store:        store,
		keys:         keys,
		opt:          opt,
		tokenLookup:  opt.CacheObserver("token"),
		tenantLookup: opt.CacheObserver("tenant"),
		tokens:       map[string]tokenEntry{},
		tenants:      map[keygate.TenantID]tenantEntry{},
		tokenInv:     map[string]uint64{},
		tenantInv:    map[keygate.TenantID]uint64{},
	}
}

// staleSince reports whether the token id (if any) or the tenant was
// invalidated after seq. The caller holds mu.
func (s *Service) staleSince(seq uint64, tokenID string, tenant keygate.TenantID) bool {
	return s.allInvalid > seq || s.tenantInv[tenant] > seq || (tokenID != "" && s.tokenInv[tokenID] > seq)
}

// Caller is an authenticated gateway caller.
type Caller struct {
	TokenID string
	Tenant  keygate.TenantID
}

// Authenticate returns the caller of a gateway token. Returns unauthorized
// for a missing, malformed, unknown or revoked token.
func (s *Service) Authenticate(ctx context.Context, tok keygate.Secret) (Caller, error) {
	b := tok.RevealBytes()
	if len(b) == 0 {
		return Caller{}, keygate.Errorf(keygate.CodeUnauthorized, "A keygate gateway token is required (kg_...), sent as the API key.")
	}
	if len(b) < 3 || string(b[:3]) != auth.GatewayTokenPrefix {
		return Caller{}, keygate.Errorf(keygate.CodeUnauthorized, "The API key is not a keygate gateway token (kg_...). Provider keys are stored in keygate, not sent by apps.")
	}
	h := sha256.Sum256(b)
	now := s.opt.Now()
	s.mu.RLock()
	e, ok := s.tokens[string(h[:])]
	s.mu.RUnlock()
	hit := ok && !now.After(e.expires)
	s.tokenLookup(hit)
	if !hit {
		// A copy, so that only this cold path allocates: h itself must
		// not escape to the heap.
		hash := append([]byte(nil), h[:]...)
		s.mu.RLock()
		seq := s.seq
		s.mu.RUnlock()
		var err error
		if e, err = s.loadToken(ctx, hash, now, seq); err != nil {
			return Caller{}, err
		}
	}
	if !e.ok {
		return Caller{}, keygate.Errorf(keygate.CodeUnauthorized, "The gateway token is not valid.")
	}
	return e.caller, nil
}

func (s *Service) loadToken(ctx context.Context, h []byte, now time.Time, seq uint64) (tokenEntry, error) {
	t, err := s.store.GatewayTokenByHash(ctx, h)
	e := tokenEntry{expires: now.Add(s.opt.TokenTTL)}
	switch {
	case keygate.IsCode(err, keygate.CodeNotFound):
		// Not cached: caching unknown tokens would let anyone grow the
		// cache without bound by sending random ones.
		return e, nil
	case err != nil:
		return tokenEntry{}, keygate.Unavailable("look up gateway token", err)
	default:
		e.ok = t.RevokedAt.IsZero() && subtle.ConstantTimeCompare(h, t.Hash) == 1
		e.caller = Caller{TokenID: t.ID, Tenant: t.Tenant}
	}
	s.mu.Lock()
	if !s.staleSince(seq, e.caller.TokenID, e.caller.Tenant) {
		s.tokens[string(h)] = e
	}
	s.mu.Unlock()
	return e, nil
}

// InvalidateToken drops the cached answer for the gateway token id.
func (s *Service) InvalidateToken(id string) {
	s.mu.Lock()
	for k, e := range s.tokens {
		if e.caller.TokenID == id {
			delete(s.tokens, k)
		}
	}
	s.seq++
	s.tokenInv[id] = s.seq
	s.mu.Unlock()
}

// InvalidateTenant drops the cached entitlement and policy of a tenant, and
// its tokens when the tenant was deleted.
func (s *Service) InvalidateTenant(id keygate.TenantID) {
	s.mu.Lock()
	delete(s.tenants, id)
	for k, e := range s.tokens {
		if e.caller.Tenant == id {
			delete(s.tokens, k)
		}
	}
	s.seq++
	s.tenantInv[id] = s.seq
	s.mu.Unlock()
}

// Tenant returns the tenant and its policy, from the cache when fresh.
// Returns unauthorized if the tenant no longer exists (its tokens died with
// it).
func (s *Service) Tenant(ctx context.Context, id keygate.TenantID) (keygate.Tenant, keygate.TenantPolicy, error) {
	e, err := s.tenant(ctx, id)
	return e.tenant, e.policy, err
}

// Governance returns the tenant's budget and rate limits, from the same
// cache as Tenant.
func (s *Service) Governance(ctx context.Context, id keygate.TenantID) (keygate.Budget, []keygate.RateLimit, error) {
	e, err := s.tenant(ctx, id)
	return e.budget, e.limits, err
}

func (s *Service) tenant(ctx context.Context, id keygate.TenantID) (tenantEntry, error) {
	now := s.opt.Now()
	s.mu.RLock()
	e, ok := s.tenants[id]
	seq := s.seq
	s.mu.RUnlock()
	hit := ok && now.Before(e.expires)
	s.tenantLookup(hit)
	if hit {
		return e, nil
	}
	t, err := s.store.GetTenant(ctx, string(id))
	if keygate.IsCode(err, keygate.CodeNotFound) {
		return tenantEntry{}, keygate.Errorf(keygate.CodeUnauthorized, "The gateway token's tenant no longer exists.")
	}
	if err != nil {
		return tenantEntry{}, keygate.Unavailable(fmt.Sprintf("load tenant %s", id), err)
	}
	e = tenantEntry{tenant: t, expires: now.Add(s.opt.TenantTTL)}
	if e.policy, err = s.store.GetPolicy(ctx, id); err != nil {
		return tenantEntry{}, fmt.Errorf("load policy of %s: %w", id, err)
	}
	if e.budget, err = s.store.GetBudget(ctx, id); err != nil {
		return tenantEntry{}, fmt.Errorf("load budget of %s: %w", id, err)
	}
	if e.limits, err = s.store.GetRateLimits(ctx, id); err != nil {
		return tenantEntry{}, fmt.Errorf("load rate limits of %s: %w", id, err)
	}
	s.mu.Lock()
	if !s.staleSince(seq, "", id) {
		s.tenants[id] = e
	}
	s.mu.Unlock()
	return e, nil
}

// Credential is the key that pays for one call.
type Credential struct {
	Key    keygate.Secret
	Source keygate.KeySource
	// Meta describes a stored key (zero for request keys): owner, id,
	// version and health status.
	Meta keygate.ProviderKey
}

// Decision is the credential of a call and, when the tenant's policy
// allows a retry on the platform key, that fallback.
type Decision struct {
	Primary     Credential
	Fallback    Credential
	HasFallback bool
}

// Resolve picks the credential for a call of tenant to provider, given the
// key the request carried (zero if none), by the tenant's entitlement and
// policy (keygate.Policy.Choose). It never returns a credential of another
// provider or another tenant. Errors: forbidden (request key not allowed),
// provider_key_missing, unauthorized (tenant gone); others are internal.
func (s *Service) Resolve(ctx context.Context, tenant keygate.TenantID, provider string, requestKey keygate.Secret) (Decision, error) {
	t, pol, err := s.Tenant(ctx, tenant)
	if err != nil {
		return Decision{}, err
	}
	p := pol.For(provider)
	a := keygate.Availability{BYOKEnabled: t.BYOKEnabled, RequestKey: !requestKey.IsZero()}
	var tk, pk Credential
	if !a.RequestKey {
		key, meta, ok, err := s.keys.Lookup(ctx, tenant, provider)
		if err != nil {
			return Decision{}, keygate.Unavailable("look up the tenant's key", err)
		}
		a.TenantKey, tk = ok, Credential{Key: key, Source: keygate.SourceTenant, Meta: meta}
		key, meta, ok, err = s.keys.Lookup(ctx, keygate.PlatformScope, provider)
		if err != nil {
			return Decision{}, keygate.Unavailable("look up the platform's key", err)
		}
		a.PlatformKey, pk = ok, Credential{Key: key, Source: keygate.SourcePlatform, Meta: meta}
	}
	src, fallback, err := p.Choose(a)
	if err != nil {
		return Decision{}, err
	}
	var d Decision
	switch src {
	case keygate.SourceRequest:
		d.Primary = Credential{Key: requestKey, Source: keygate.SourceRequest}
	case keygate.SourceTenant:
		d.Primary = tk
	case keygate.SourcePlatform:
		d.Primary = pk
	}
	if fallback == keygate.SourcePlatform {
		d.Fallback, d.HasFallback = pk, true
	}
	return d, nil
}

// InvalidateAll drops every cached token, tenant, policy, budget and limit.
func (s *Service) InvalidateAll() {
	s.mu.Lock()
	clear(s.tokens)
	clear(s.tenants)
	// Every load that started before now is stale by allInvalid alone,
	// so the per-id records can go (they would only grow).
	clear(s.tokenInv)
	clear(s.tenantInv)
	s.seq++
	s.allInvalid = s.seq
	s.mu.Unlock()
}

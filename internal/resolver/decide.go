// SPDX-License-Identifier: Apache-2.0

package resolver

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"time"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/auth"
)

// Caller is an authenticated gateway caller.
type Caller struct {
	TokenID string
	Tenant  keygate.TenantID
	// Scope is the token's scope, nil when it has none. Shared by every
	// call of the token until the token changes: never modify it.
	Scope *keygate.TokenScope
}

// Snapshot is what the hot path reads of a tenant, read and cached
// together: the tenant (its BYOK entitlement and key admins), its policy,
// its budget (with its BYOK billing) and its rate limits. A Snapshot is
// shared by every call of the tenant until it changes: never modify one.
type Snapshot struct {
	Tenant keygate.Tenant
	Policy keygate.TenantPolicy
	Budget keygate.Budget
	Limits []keygate.RateLimit
}

// Credential is the key that pays for one call.
type Credential struct {
	Key    keygate.Secret
	Source keygate.KeySource
	// Meta describes a stored key (zero for request keys): owner, id,
	// version and health status; never sealed material.
	Meta keygate.ProviderKey
}

// Decision is everything one call needs, decided once: who calls, what the
// gateway knows of the tenant (admission and the usage ledger read its
// budget, limits and billing from here), and the credential to use. When
// the tenant's policy allows a retry on the platform key, Fallback opens
// that key, only if the retry happens.
type Decision struct {
	Caller     Caller
	Tenant     *Snapshot
	Credential Credential

	// fallback: the policy allows a retry on the platform key of provider,
	// which s opens when asked.
	fallback bool
	provider string
	s        *Service
}

// HasFallback reports whether the tenant's policy allows a retry on the
// platform key after the tenant's key fails (fallback_on_error). Whether
// the platform has a key for the provider is known only once Fallback is
// called.
func (d Decision) HasFallback() bool { return d.fallback }

// Fallback returns the platform's credential for a retry, opened now (from
// the cache when warm). ok is false when the decision has no fallback or
// the platform has no key for the provider. Errors: key_unreadable (the
// stored key cannot be decrypted), unavailable (it could not be read).
func (d Decision) Fallback(ctx context.Context) (c Credential, ok bool, err error) {
	if !d.fallback {
		return Credential{}, false, nil
	}
	c, ok, err = d.s.key(ctx, keygate.PlatformScope, d.provider, keygate.SourcePlatform)
	if err != nil {
		return Credential{}, false, keyError("look up the platform's key", err)
	}
	return c, ok, nil
}

// Billing returns the tenant's BYOK billing policy (keygate.BillingSkip or
// keygate.BillingMeter) as it stood when the call was decided; "" for the
// zero Decision.
func (d Decision) Billing() string {
	if d.Tenant == nil {
		return ""
	}
	return d.Tenant.Budget.BYOKBilling
}

// Authenticate returns the caller of a gateway token. Returns unauthorized
// for a missing, malformed, unknown or revoked token, token_expired for a
// token past its expiry (checked against the clock on every call, cached or
// not), unavailable when the token is not cached and storage cannot be
// read. A token that authenticates is told to Options.Uses.
func (s *Service) Authenticate(ctx context.Context, tok keygate.Secret) (Caller, error) {
	b := tok.RevealBytes()
	if len(b) == 0 {
		return Caller{}, keygate.Errorf(keygate.CodeUnauthorized, "A keygate gateway token is required (kg_...), sent as the API key.")
	}
	if len(b) < 3 || string(b[:3]) != auth.GatewayTokenPrefix {
		return Caller{}, keygate.Errorf(keygate.CodeUnauthorized, "The API key is not a keygate gateway token (kg_...). Provider keys are stored in keygate, not sent by apps.")
	}
	h := sha256.Sum256(b)
	now := s.opt.Clock()
	e, hit := s.cache.token(h[:], now)
	s.tokenLookup(hit)
	if !hit {
		// A copy, so that only this cold path allocates: h itself must
		// not escape to the heap.
		hash := append([]byte(nil), h[:]...)
		var err error
		if e, err = s.loadToken(ctx, hash, now); err != nil {
			return Caller{}, err
		}
	}
	if !e.ok {
		return Caller{}, keygate.Errorf(keygate.CodeUnauthorized, "The gateway token is not valid.")
	}
	if keygate.Expired(e.validUntil, now) {
		return Caller{}, keygate.Errorf(keygate.CodeTokenExpired, "The gateway token has expired; ask the tenant's owner for a new one.")
	}
	s.opt.Uses.Seen(keygate.TokenGateway, e.caller.TokenID, e.lastUsed, now)
	return e.caller, nil
}

func (s *Service) loadToken(ctx context.Context, h []byte, now time.Time) (tokenEntry, error) {
	gen := s.cache.gen()
	t, err := s.store.GatewayTokenByHash(ctx, h)
	switch {
	case keygate.IsCode(err, keygate.CodeNotFound):
		// Not cached: caching unknown tokens would let anyone grow the
		// cache without bound by sending random ones.
		return tokenEntry{}, nil
	case err != nil:
		return tokenEntry{}, keygate.Unavailable("look up gateway token", err)
	}
	caller := Caller{TokenID: t.ID, Tenant: t.Tenant}
	if !t.Scope.IsZero() {
		caller.Scope = &t.Scope
	}
	e := tokenEntry{
		caller:     caller,
		ok:         t.RevokedAt.IsZero() && subtle.ConstantTimeCompare(h, t.Hash) == 1,
		expires:    s.cache.expiry(now),
		validUntil: t.ExpiresAt,
		lastUsed:   t.LastUsedAt,
	}
	s.cache.putToken(gen, h, e)
	return e, nil
}

// Resolve decides a call of caller to provider, given the key the request
// carried (zero if none), by the tenant's entitlement and policy
// (keygate.Policy.Choose). Only the keys the policy may pick are looked
// up; the platform key, when it could only be the fallback, is looked up
// when the fallback is used, so that a platform key that cannot be read
// fails only the calls that need it. It never returns a credential of
// another provider or another tenant. Errors: forbidden (request key not
// allowed), provider_key_missing, unauthorized (tenant gone),
// key_unreadable (a key the call needs cannot be decrypted: this call
// fails, calls that do not need that key do not), unavailable (storage or
// the master key unreachable); others are internal.
func (s *Service) Resolve(ctx context.Context, caller Caller, provider string, requestKey keygate.Secret) (Decision, error) {
	t, err := s.tenant(ctx, caller.Tenant)
	if err != nil {
		return Decision{}, err
	}
	p := t.Policy.For(provider)
	a := keygate.Availability{BYOKEnabled: t.Tenant.BYOKEnabled, RequestKey: !requestKey.IsZero()}
	tenantWanted, platformWanted := p.Wants(a)
	var tk, pk Credential
	if tenantWanted {
		if tk, a.TenantKey, err = s.key(ctx, caller.Tenant, provider, keygate.SourceTenant); err != nil {
			return Decision{}, keyError("look up the tenant's key", err)
		}
	}
	switch {
	case platformWanted && !a.TenantKey:
		// The platform key would pay for the call: read it now.
		if pk, a.PlatformKey, err = s.key(ctx, keygate.PlatformScope, provider, keygate.SourcePlatform); err != nil {
			return Decision{}, keyError("look up the platform's key", err)
		}
	case platformWanted:
		// The tenant's key pays; the platform key can only be the
		// fallback. Choose is told it exists; Fallback finds out.
		a.PlatformKey = true
	}
	src, fallback, err := p.Choose(a)
	if err != nil {
		return Decision{}, err
	}
	d := Decision{Caller: caller, Tenant: t}
	switch src {
	case keygate.SourceRequest:
		d.Credential = Credential{Key: requestKey, Source: keygate.SourceRequest}
	case keygate.SourceTenant:
		d.Credential = tk
	case keygate.SourcePlatform:
		d.Credential = pk
	}
	if fallback == keygate.SourcePlatform {
		d.fallback, d.provider, d.s = true, provider, s
	}
	return d, nil
}

// keyError is the error of a key lookup that failed: key_unreadable as it
// is (the stored key itself is the problem, and retrying will not help),
// anything else as unavailable.
func keyError(what string, err error) error {
	if keygate.IsCode(err, keygate.CodeKeyUnreadable) {
		return fmt.Errorf("%s: %w", what, err)
	}
	return keygate.Unavailable(what, err)
}

// tenant returns the tenant's snapshot, from the cache when fresh. Returns
// unauthorized if the tenant no longer exists (its tokens died with it).
func (s *Service) tenant(ctx context.Context, id keygate.TenantID) (*Snapshot, error) {
	now := s.opt.Clock()
	snap, hit := s.cache.tenant(id, now)
	s.tenantLookup(hit)
	if hit {
		return snap, nil
	}
	gen := s.cache.gen()
	t, err := s.store.GetTenant(ctx, string(id))
	if keygate.IsCode(err, keygate.CodeNotFound) {
		return nil, keygate.Errorf(keygate.CodeUnauthorized, "The gateway token's tenant no longer exists.")
	}
	if err != nil {
		return nil, keygate.Unavailable(fmt.Sprintf("load tenant %s", id), err)
	}
	snap = &Snapshot{Tenant: t}
	if snap.Policy, err = s.store.GetPolicy(ctx, id); err != nil {
		return nil, fmt.Errorf("load policy of %s: %w", id, err)
	}
	if snap.Budget, err = s.store.GetBudget(ctx, id); err != nil {
		return nil, fmt.Errorf("load budget of %s: %w", id, err)
	}
	if snap.Limits, err = s.store.GetRateLimits(ctx, id); err != nil {
		return nil, fmt.Errorf("load rate limits of %s: %w", id, err)
	}
	s.cache.putTenant(gen, snap, now)
	return snap, nil
}

// key returns owner's opened key for provider as a credential of source
// src, or ok=false when none is stored; both answers are cached, so that a
// tenant without a key costs no storage round trip (and no allocation)
// per call.
func (s *Service) key(ctx context.Context, owner keygate.TenantID, provider string, src keygate.KeySource) (Credential, bool, error) {
	r := keyRef{owner, provider}
	now := s.opt.Clock()
	e, hit := s.cache.key(r, now)
	s.keyLookup(hit)
	if !hit {
		gen := s.cache.gen()
		key, meta, ok, err := s.keys.Open(ctx, owner, provider)
		if err != nil {
			return Credential{}, false, fmt.Errorf("open %s key of %s: %w", provider, owner, err)
		}
		e = keyEntry{absent: !ok, key: key, meta: meta, dek: meta.Sealed, expires: s.cache.expiry(now)}
		e.meta.Sealed = keygate.Sealed{}
		s.cache.putKey(gen, r, e)
	}
	if e.absent {
		return Credential{}, false, nil
	}
	return Credential{Key: e.key, Source: src, Meta: e.meta}, true, nil
}

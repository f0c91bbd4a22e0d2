package keyvault

import (
	"bytes"
	"context"
	"fmt"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/envelope"
)

// Resolve returns the plaintext of owner's current key for provider and its
// metadata, from the cache when it is warm. Returns not_found if no key is
// stored. The caller must not retain the Secret beyond the call it serves.
func (s *Service) Resolve(ctx context.Context, owner keygate.TenantID, provider string) (keygate.Secret, keygate.ProviderKey, error) {
	key, meta, ok, err := s.Lookup(ctx, owner, provider)
	if err != nil {
		return keygate.Secret{}, keygate.ProviderKey{}, err
	}
	if !ok {
		return keygate.Secret{}, keygate.ProviderKey{}, keygate.Errorf(keygate.CodeNotFound, "No %s key is stored for %s.", provider, owner)
	}
	return key, meta, nil
}

// Lookup is Resolve for the hot path: it reports a missing key as ok=false
// instead of an error, and caches that answer too, so that a tenant without
// a key costs no storage round trip (and no allocation) per call. Cached
// entries live at most CacheTTL, a safety net behind the invalidations.
func (s *Service) Lookup(ctx context.Context, owner keygate.TenantID, provider string) (keygate.Secret, keygate.ProviderKey, bool, error) {
	ck := cacheKey{owner, provider}
	now := s.opt.Now()
	s.mu.RLock()
	c, ok := s.cache[ck]
	gen := fillGen{key: s.gen[ck], all: s.epoch}
	s.mu.RUnlock()
	hit := ok && now.Sub(c.loaded) < s.opt.CacheTTL
	s.lookup(hit)
	if hit {
		return c.key, c.meta, !c.absent, nil
	}
	k, err := s.store.GetKey(ctx, owner, provider)
	if keygate.IsCode(err, keygate.CodeNotFound) {
		s.fill(ck, gen, cached{absent: true, loaded: now})
		return keygate.Secret{}, keygate.ProviderKey{}, false, nil
	}
	if err != nil {
		return keygate.Secret{}, keygate.ProviderKey{}, false, fmt.Errorf("load %s key of %s: %w", provider, owner, err)
	}
	key, err := s.keyring.Open(ctx, k.Sealed, envelope.AD{Owner: owner, Provider: provider, KeyID: k.ID, Version: k.Version})
	if err != nil {
		return keygate.Secret{}, keygate.ProviderKey{}, false, fmt.Errorf("open %s key %s v%d: %w", provider, k.ID, k.Version, err)
	}
	dek := keygate.Sealed{WrappedDEK: k.Sealed.WrappedDEK, KEKID: k.Sealed.KEKID}
	k.Sealed = keygate.Sealed{}
	s.fill(ck, gen, cached{key: key, meta: k, dek: dek, loaded: now})
	return key, k, true, nil
}

// fillGen is what a load saw of the invalidation counters before it read
// the store: its entry's own and the one bumped by the invalidations that
// reach entries not in the cache (an owner deleted, a missed change feed).
type fillGen struct{ key, all uint64 }

// fill caches c unless the entry was invalidated while it was loading: a
// load that read the store before a change and finishes after its
// invalidation would otherwise cache the old key until CacheTTL.
func (s *Service) fill(ck cacheKey, gen fillGen, c cached) {
	s.mu.Lock()
	if s.gen[ck] == gen.key && s.epoch == gen.all {
		if old, ok := s.cache[ck]; ok && !bytes.Equal(old.dek.WrappedDEK, c.dek.WrappedDEK) {
			s.forget(old) // a newer version, seen after the cache expired
		}
		s.cache[ck] = c
	}
	s.mu.Unlock()
}

// forget drops the keyring's cached data key of an entry that is gone.
func (s *Service) forget(c cached) {
	if len(c.dek.WrappedDEK) > 0 {
		s.keyring.Forget(c.dek)
	}
}

// Invalidate drops the cached key of owner for provider. Other replicas are
// told through the store's change notifications.
func (s *Service) Invalidate(owner keygate.TenantID, provider string) {
	ck := cacheKey{owner, provider}
	s.mu.Lock()
	if c, ok := s.cache[ck]; ok {
		s.forget(c)
		delete(s.cache, ck)
	}
	s.gen[ck]++
	s.mu.Unlock()
}

// InvalidateOwner drops every cached key of owner (a deleted tenant).
func (s *Service) InvalidateOwner(owner keygate.TenantID) {
	s.mu.Lock()
	for ck, c := range s.cache {
		if ck.owner == owner {
			s.forget(c)
			delete(s.cache, ck)
		}
	}
	s.epoch++ // also stops loads in flight of keys not cached yet
	s.mu.Unlock()
}

// InvalidateAll drops every cached key (after a change feed reconnects,
// when changes may have been missed).
func (s *Service) InvalidateAll() {
	s.mu.Lock()
	for _, c := range s.cache {
		s.forget(c)
	}
	clear(s.cache)
	s.epoch++ // also stops loads in flight of keys not cached yet
	s.mu.Unlock()
}

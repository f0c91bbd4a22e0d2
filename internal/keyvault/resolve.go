package keyvault

import (
	"context"
	"fmt"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/envelope"
)

// Resolve returns the plaintext of owner's current key for provider and its
// metadata, from the cache when it is warm. Returns not_found if no key is
// stored. The caller must not retain the Secret beyond the call it serves.
func (s *Service) Resolve(ctx context.Context, owner keygate.TenantID, provider string) (keygate.Secret, keygate.ProviderKey, error) {
	ck := cacheKey{owner, provider}
	s.mu.RLock()
	c, ok := s.cache[ck]
	gen := s.gen[ck]
	s.mu.RUnlock()
	if ok {
		return c.key, c.meta, nil
	}
	k, err := s.store.GetKey(ctx, owner, provider)
	if err != nil {
		return keygate.Secret{}, keygate.ProviderKey{}, err
	}
	key, err := s.keyring.Open(ctx, k.Sealed, envelope.AD{Owner: owner, Provider: provider, KeyID: k.ID, Version: k.Version})
	if err != nil {
		return keygate.Secret{}, keygate.ProviderKey{}, fmt.Errorf("open %s key %s v%d: %w", provider, k.ID, k.Version, err)
	}
	k.Sealed = keygate.Sealed{}
	s.mu.Lock()
	// Only fill if nothing invalidated the entry while it was loading.
	if s.gen[ck] == gen {
		s.cache[ck] = cached{key: key, meta: k, loaded: s.opt.Now()}
	}
	s.mu.Unlock()
	return key, k, nil
}

// Invalidate drops the cached key of owner for provider. Other replicas are
// told through the store's change notifications.
func (s *Service) Invalidate(owner keygate.TenantID, provider string) {
	ck := cacheKey{owner, provider}
	s.mu.Lock()
	delete(s.cache, ck)
	s.gen[ck]++
	s.mu.Unlock()
}

// InvalidateOwner drops every cached key of owner (a deleted tenant).
func (s *Service) InvalidateOwner(owner keygate.TenantID) {
	s.mu.Lock()
	for ck := range s.cache {
		if ck.owner == owner {
			delete(s.cache, ck)
			s.gen[ck]++
		}
	}
	s.mu.Unlock()
}

// SPDX-License-Identifier: Apache-2.0

package keyvault

import (
	"context"
	"fmt"

	"github.com/keygate/keygate"
)

// Versions lists every version of owner's key for provider, newest first;
// not_found if there is none.
func (s *Service) Versions(ctx context.Context, owner keygate.TenantID, provider string) ([]keygate.KeyVersion, error) {
	return s.store.ListKeyVersions(ctx, owner, provider)
}

// Rollback makes the previous version of owner's key for provider current
// again, if it was superseded within the grace period (Options.Grace), with
// a key.rolled_back audit event (the store's announcement of it drops
// cached copies). Calls already in
// flight finish with the key they started with. Errors: not_found (no key),
// conflict (nothing to restore: no older version, or destroyed, or
// superseded before the grace period).
func (s *Service) Rollback(ctx context.Context, c Change, owner keygate.TenantID, provider string) (keygate.ProviderKey, error) {
	notBefore := s.opt.Clock().Add(-s.opt.Grace)
	k, err := s.store.RollbackKey(ctx, owner, provider, notBefore, c.event(owner, provider, keygate.ActionKeyRolledBack))
	if err != nil {
		return keygate.ProviderKey{}, fmt.Errorf("roll back %s key of %s: %w", provider, owner, err)
	}
	k.Sealed = keygate.Sealed{}
	return k, nil
}

// DestroyExpired erases the ciphertext of every version superseded longer
// ago than the grace period, and returns how many it destroyed. Run it
// periodically.
func (s *Service) DestroyExpired(ctx context.Context) (int, error) {
	n, err := s.store.DestroySuperseded(ctx, s.opt.Clock().Add(-s.opt.Grace))
	if err != nil {
		return 0, fmt.Errorf("destroy superseded key versions: %w", err)
	}
	return n, nil
}

// AllKeys returns the metadata of the current version of every stored key.
func (s *Service) AllKeys(ctx context.Context) ([]keygate.ProviderKey, error) {
	return s.store.ListAllKeys(ctx)
}

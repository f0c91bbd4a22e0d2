// SPDX-License-Identifier: Apache-2.0

package keyvault

import (
	"context"
	"fmt"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/envelope"
)

// Resolve returns the plaintext of owner's current key for provider and its
// metadata (without sealed material), read from storage and opened now.
// Returns not_found if no key is stored. The caller must not retain the
// Secret beyond the work it serves. The gateway's hot path does not come
// here but to the resolver, whose cache calls Open.
func (s *Service) Resolve(ctx context.Context, owner keygate.TenantID, provider string) (keygate.Secret, keygate.ProviderKey, error) {
	key, meta, ok, err := s.Open(ctx, owner, provider)
	if err != nil {
		return keygate.Secret{}, keygate.ProviderKey{}, err
	}
	if !ok {
		return keygate.Secret{}, keygate.ProviderKey{}, keygate.Errorf(keygate.CodeNotFound, "No %s key is stored for %s.", provider, owner)
	}
	meta.Sealed = keygate.Sealed{}
	return key, meta, nil
}

// unreadable is the key_unreadable error of owner's stored key for
// provider: it names the key's provider and owner, never its material.
func unreadable(owner keygate.TenantID, provider string) *keygate.Error {
	whose := "tenant " + string(owner)
	if owner.IsPlatform() {
		whose = "the platform"
	}
	return keygate.Errorf(keygate.CodeKeyUnreadable, "The stored %s key of %s cannot be decrypted with the master keys keygate holds; an administrator must set the key again or restore the master key that sealed it.", provider, whose)
}

// Open reads owner's current key for provider and opens it. It reports a
// missing key as ok=false, not as an error, so that a cache can remember
// that answer too. meta.Sealed keeps the version's wrapped data key and
// master-key id (no ciphertext) so that a cache that lets the key go can
// name its data key to Forget. Errors: key_unreadable for a stored key
// that cannot be opened with the keys at hand (corrupt or tampered
// ciphertext or wrapped data key, or a master key the keyring does not
// hold: envelope.Unreadable), with the cause wrapped; otherwise storage or
// master-key failures (a KMS that cannot be reached), wrapped as they came.
func (s *Service) Open(ctx context.Context, owner keygate.TenantID, provider string) (keygate.Secret, keygate.ProviderKey, bool, error) {
	k, err := s.store.GetKey(ctx, owner, provider)
	if keygate.IsCode(err, keygate.CodeNotFound) {
		return keygate.Secret{}, keygate.ProviderKey{}, false, nil
	}
	if err != nil {
		return keygate.Secret{}, keygate.ProviderKey{}, false, fmt.Errorf("load %s key of %s: %w", provider, owner, err)
	}
	key, err := s.keyring.Open(ctx, k.Sealed, envelope.AD{Owner: owner, Provider: provider, KeyID: k.ID, Version: k.Version})
	if err != nil {
		if envelope.Unreadable(err) {
			// The cause stays in the chain for the server's log; the
			// caller is told which key, never anything of its material.
			err = fmt.Errorf("%w: %w", unreadable(owner, provider), err)
		}
		return keygate.Secret{}, keygate.ProviderKey{}, false, fmt.Errorf("open %s key %s v%d: %w", provider, k.ID, k.Version, err)
	}
	k.Sealed = keygate.Sealed{WrappedDEK: k.Sealed.WrappedDEK, KEKID: k.Sealed.KEKID}
	return key, k, true, nil
}

// Forget drops the keyring's cached copy of a data key (as Open returned it
// in meta.Sealed) that no cached key uses any more: its version was
// superseded or changed, and is read again, if ever, only after a
// rollback, which unwraps it anew.
func (s *Service) Forget(dataKey keygate.Sealed) {
	if len(dataKey.WrappedDEK) > 0 {
		s.keyring.Forget(dataKey)
	}
}

// SPDX-License-Identifier: Apache-2.0

package keyvault

import (
	"context"
	"fmt"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/envelope"
)

// Change describes who makes a change and in which request, for the audit
// trail.
type Change struct {
	Actor     keygate.Actor
	RequestID string
}

func (c Change) event(owner keygate.TenantID, provider, action string) keygate.AuditEvent {
	ev := keygate.AuditEvent{
		ActorID:   c.Actor.ID,
		ActorName: c.Actor.Name,
		Provider:  provider,
		Action:    action,
		RequestID: c.RequestID,
	}
	ev.Tenant = owner
	return ev
}

// Put checks key's format, seals it and stores it as the new current version
// of owner's key for provider, with its audit event (key.set or key.rotated)
// in the same transaction (the store's announcement of it drops cached
// copies). It returns the stored key's metadata, never the key.
//
// Errors: unknown_provider, invalid_key_format, not_found (no such tenant);
// anything else is internal.
func (s *Service) Put(ctx context.Context, c Change, owner keygate.TenantID, provider string, key keygate.Secret) (keygate.ProviderKey, error) {
	return s.PutChecked(ctx, c, owner, provider, key, keygate.KeyStatusUnknown)
}

// PutChecked is Put for a key whose health is already known (tested just
// before saving): the new version starts with that status.
func (s *Service) PutChecked(ctx context.Context, c Change, owner keygate.TenantID, provider string, key keygate.Secret, status keygate.KeyStatus) (keygate.ProviderKey, error) {
	if err := s.catalog.CheckKeyFormat(provider, key); err != nil {
		return keygate.ProviderKey{}, err
	}
	// Wrapping the data key may be a KMS call: do it before the store opens
	// its transaction.
	dk, err := s.keyring.NewDataKey(ctx)
	if err != nil {
		return keygate.ProviderKey{}, fmt.Errorf("new data key: %w", err)
	}
	defer dk.Destroy()
	p := keygate.PutKeyParams{
		Owner:       owner,
		Provider:    provider,
		Hint:        key.Hint(),
		Fingerprint: s.Fingerprint(key),
		CreatedBy:   c.Actor.ID,
		Status:      status,
		Seal: func(keyID string, version int) (keygate.Sealed, error) {
			return dk.Seal(key, envelope.AD{Owner: owner, Provider: provider, KeyID: keyID, Version: version})
		},
	}
	k, err := s.store.PutKey(ctx, p, c.event(owner, provider, keygate.ActionKeySet))
	if err != nil {
		return keygate.ProviderKey{}, fmt.Errorf("store %s key of %s: %w", provider, owner, err)
	}
	k.Sealed = keygate.Sealed{}
	return k, nil
}

// Delete erases every version of owner's key for provider, with a
// key.cleared audit event. Returns not_found if there is none.
func (s *Service) Delete(ctx context.Context, c Change, owner keygate.TenantID, provider string) error {
	err := s.store.DeleteKey(ctx, owner, provider, c.event(owner, provider, keygate.ActionKeyCleared))
	if err != nil {
		return fmt.Errorf("delete %s key of %s: %w", provider, owner, err)
	}
	return nil
}

// List returns the metadata of owner's current keys (never key material).
func (s *Service) List(ctx context.Context, owner keygate.TenantID) ([]keygate.ProviderKey, error) {
	keys, err := s.store.ListKeys(ctx, owner)
	if err != nil {
		return nil, fmt.Errorf("list keys of %s: %w", owner, err)
	}
	for i := range keys {
		keys[i].Sealed = keygate.Sealed{}
	}
	return keys, nil
}

// Get returns the metadata of owner's current key for provider; not_found if
// there is none.
func (s *Service) Get(ctx context.Context, owner keygate.TenantID, provider string) (keygate.ProviderKey, error) {
	k, err := s.store.GetKey(ctx, owner, provider)
	if err != nil {
		return keygate.ProviderKey{}, err
	}
	k.Sealed = keygate.Sealed{}
	return k, nil
}

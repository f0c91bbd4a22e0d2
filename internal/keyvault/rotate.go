// SPDX-License-Identifier: Apache-2.0

package keyvault

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/envelope"
)

// MasterKeys makes a new primary master key.
type MasterKeys interface {
	// Rotate creates and persists a new primary master key and returns it.
	// Returns an unsupported *keygate.Error for keepers that the operator
	// rotates by configuration.
	Rotate(ctx context.Context) (envelope.KEK, error)
	// Retire removes an older master key from the keeper for good.
	// Returns conflict for the primary, not_found for an unknown id, and
	// unsupported for keys the operator retires by configuration.
	Retire(ctx context.Context, id string) error
}

// rewrapBatch bounds how many wrapped data keys one pass loads.
const rewrapBatch = 100

// RotateMasterKey makes a new primary master key (new writes use it at
// once), audits the change, and returns the previous primary's id. Call
// Rewrap afterwards (in the background) to re-wrap older data keys; reads
// keep working throughout because the keyring still holds the old key.
func (s *Service) RotateMasterKey(ctx context.Context, c Change, mk MasterKeys) (previous, primary string, err error) {
	previous = s.keyring.PrimaryID()
	kek, err := mk.Rotate(ctx)
	if err != nil {
		return "", "", fmt.Errorf("rotate master key: %w", err)
	}
	if err := s.keyring.SetPrimary(kek); err != nil {
		return "", "", fmt.Errorf("use new master key: %w", err)
	}
	detail, _ := json.Marshal(map[string]string{"previous": previous, "primary": kek.ID()})
	ev := c.event("", "", keygate.ActionMasterKeyRotate)
	ev.Detail = string(detail)
	if _, err := s.store.AppendAudit(ctx, ev); err != nil {
		return "", "", fmt.Errorf("audit master key rotation: %w", err)
	}
	return previous, kek.ID(), nil
}

// Rewrap re-wraps every data key that is not wrapped by the primary master
// key, and returns how many it changed. It is safe to run concurrently with
// reads, writes and other Rewrap calls: each row is swapped only if it is
// still wrapped as it was read.
func (s *Service) Rewrap(ctx context.Context) (int, error) {
	n := 0
	for {
		primary := s.keyring.PrimaryID()
		refs, err := s.store.ListWrapped(ctx, primary, rewrapBatch)
		if err != nil {
			return n, fmt.Errorf("list data keys to re-wrap: %w", err)
		}
		if len(refs) == 0 {
			return n, nil
		}
		progressed := false
		for _, ref := range refs {
			wrapped, kekID, err := s.keyring.Rewrap(ctx, ref.WrappedDEK, ref.KEKID)
			if err != nil {
				return n, fmt.Errorf("re-wrap %s %s%s v%d: %w", ref.Kind, ref.KeyID, ref.Name, ref.Version, err)
			}
			ok, err := s.store.Rewrap(ctx, ref, wrapped, kekID)
			if err != nil {
				return n, fmt.Errorf("store re-wrapped %s %s%s v%d: %w", ref.Kind, ref.KeyID, ref.Name, ref.Version, err)
			}
			if ok {
				n++
			}
			progressed = true
		}
		if !progressed {
			return n, nil
		}
	}
}

// PendingRewrap returns how many data keys are not yet wrapped by the primary
// master key (capped at 10000).
func (s *Service) PendingRewrap(ctx context.Context) (int, error) {
	refs, err := s.store.ListWrapped(ctx, s.keyring.PrimaryID(), 10000)
	if err != nil {
		return 0, fmt.Errorf("count data keys to re-wrap: %w", err)
	}
	return len(refs), nil
}

// RetireMasterKey removes the older master key id from the keeper and the
// keyring, for good, and audits it, once nothing is wrapped by it: every
// data key and sealed setting (the audit keys among them) must have been
// rewrapped under the primary, which then opens everything alone.
//
// Errors (*keygate.Error): conflict for the primary key or while records
// still wait for the rewrap (the message says how many); not_found,
// unsupported: mk's (keys the operator retires by configuration).
func (s *Service) RetireMasterKey(ctx context.Context, c Change, mk MasterKeys, id string) error {
	primary := s.keyring.PrimaryID()
	if id == primary {
		return keygate.Errorf(keygate.CodeConflict, "Master key %s is the primary master key: rotate to a new one, let the rewrap finish, then retire it.", id)
	}
	refs, err := s.store.ListWrapped(ctx, primary, retireScan)
	if err != nil {
		return fmt.Errorf("list data keys wrapped by %s: %w", id, err)
	}
	n := 0
	for _, ref := range refs {
		if ref.KEKID == id {
			n++
		}
	}
	switch {
	case n > 0:
		return keygate.Errorf(keygate.CodeConflict, "%d data keys are still wrapped by master key %s: wait for the rewrap to finish (keygate master-key status) and retry.", n, id)
	case len(refs) >= retireScan:
		return keygate.Errorf(keygate.CodeConflict, "%d or more data keys still wait for the rewrap: wait for it to finish (keygate master-key status) and retry.", len(refs))
	}
	if err := mk.Retire(ctx, id); err != nil {
		return fmt.Errorf("retire master key %s: %w", id, err)
	}
	if err := s.keyring.Remove(id); err != nil {
		return fmt.Errorf("retire master key %s: %w", id, err)
	}
	detail, _ := json.Marshal(map[string]string{"retired": id, "primary": primary})
	ev := c.event("", "", keygate.ActionMasterKeyRetire)
	ev.Detail = string(detail)
	if _, err := s.store.AppendAudit(ctx, ev); err != nil {
		return fmt.Errorf("audit master key retirement: %w", err)
	}
	return nil
}

// retireScan is how many records still waiting for the rewrap
// RetireMasterKey reads; the store's page maximum.
const retireScan = 1000

// PrimaryKEK returns the id of the primary master key.
func (s *Service) PrimaryKEK() string { return s.keyring.PrimaryID() }

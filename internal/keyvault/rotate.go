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

// PrimaryKEK returns the id of the primary master key.
func (s *Service) PrimaryKEK() string { return s.keyring.PrimaryID() }

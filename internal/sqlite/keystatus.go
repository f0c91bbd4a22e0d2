package sqlite

import (
	"context"
	"fmt"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/sqlstore"
)

// SetKeyStatus records the outcome of a check of one key version: if
// u.KeyID and u.Version still name the current version of the owner's key
// for u.Provider, it sets the status, the last error, last_checked_at and
// updated_at (the store's clock). Otherwise (the key was rotated, or
// cleared and set again, meanwhile) it changes nothing and returns false,
// so a late answer about an old version never marks its successor.
//
// When the status changes and ev.Action is not empty, ev is appended in the
// same transaction with KeyID, Version, Hint, Fingerprint, Tenant (the
// owner) and Provider filled in. It reports whether the status changed.
// Returns invalid_request for an unknown status or a missing owner,
// provider or key id, not_found if the owner has no key for the provider.
func (db *DB) SetKeyStatus(ctx context.Context, u keygate.KeyStatusUpdate, ev keygate.AuditEvent) (bool, error) {
	if err := sqlstore.CheckKeyStatus(u); err != nil {
		return false, err
	}
	var changed bool
	err := db.write(ctx, fmt.Sprintf("set status of %s key of %s", u.Provider, u.Owner), func(tx *tx) error {
		k, err := dialect.ReadKey(ctx, tx, u.Owner, u.Provider)
		if err != nil {
			return err
		}
		if k.ID != u.KeyID || k.Version != u.Version {
			return nil
		}
		if _, err := tx.ExecStmt(ctx, dialect.SetKeyStatus(k.ID, u, tx.now)); err != nil {
			return fmt.Errorf("update key %s: %w", k.ID, err)
		}
		tx.Announce(keygate.Change{Kind: keygate.ChangeKey, Owner: u.Owner, Provider: u.Provider})
		changed = k.Status != u.Status
		if !changed || ev.Action == "" {
			return nil
		}
		sqlstore.KeyStatusEvent(&ev, u, k.ID, k.Version, k.Hint, k.Fingerprint)
		return db.appendAudit(ctx, tx, &ev)
	})
	if err != nil {
		return false, err
	}
	return changed, nil
}

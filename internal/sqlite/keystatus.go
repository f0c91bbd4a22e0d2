package sqlite

import (
	"context"
	"fmt"

	"github.com/keygate/keygate"
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
	if err := validateKeyStatus(u); err != nil {
		return false, err
	}
	var changed bool
	err := db.write(ctx, fmt.Sprintf("set status of %s key of %s", u.Provider, u.Owner), func(tx *tx) error {
		k, err := getKey(ctx, tx, u.Owner, u.Provider)
		if err != nil {
			return err
		}
		if k.ID != u.KeyID || k.Version != u.Version {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE provider_keys
			SET status = ?, last_error = ?, last_checked_at = ?, updated_at = ? WHERE id = ?`,
			string(u.Status), u.LastError, micros(tx.now), micros(tx.now), k.ID); err != nil {
			return fmt.Errorf("update key %s: %w", k.ID, err)
		}
		changed = k.Status != u.Status
		if !changed || ev.Action == "" {
			return nil
		}
		ev.KeyID, ev.Version, ev.Hint, ev.Fingerprint = k.ID, k.Version, k.Hint, k.Fingerprint
		ev.Tenant, ev.Provider = k.Owner, k.Provider
		return db.appendAudit(ctx, tx, &ev)
	})
	if err != nil {
		return false, err
	}
	return changed, nil
}

// validateKeyStatus checks u before a transaction is opened.
func validateKeyStatus(u keygate.KeyStatusUpdate) error {
	if u.Owner == "" || u.Provider == "" || u.KeyID == "" {
		return keygate.Errorf(keygate.CodeInvalidRequest, "A key status update needs an owner, a provider and a key id.")
	}
	switch u.Status {
	case keygate.KeyStatusUnknown, keygate.KeyStatusValid, keygate.KeyStatusInvalid:
		return nil
	}
	return keygate.Errorf(keygate.CodeInvalidRequest, "Key status %s is not valid.", quote(string(u.Status)))
}

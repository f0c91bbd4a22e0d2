package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/sqlstore"
)

// SetKeyStatus records the outcome of a check of one key version: if
// u.KeyID and u.Version still name the current version of the owner's key
// for u.Provider, it sets the status, the last error, last_checked_at and
// updated_at (the store's clock). Otherwise (the key was rotated, or
// cleared and set again, meanwhile) it changes nothing and returns false,
// so a late answer about an old version never marks its successor. It
// serializes with PutKey and DeleteKey on the provider_keys row lock.
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
		changed = false
		// Lock the key row alone, not joined with its versions: after
		// waiting for a concurrent rotation, a locked join would recheck
		// the new current_version against the old version row and find
		// nothing, reading "rotated" as "no key".
		var keyID, status string
		var current int
		err := tx.QueryRow(ctx, `SELECT id, current_version, status FROM provider_keys
			WHERE owner = $1 AND provider = $2 FOR UPDATE`, string(u.Owner), u.Provider).Scan(&keyID, &current, &status)
		if errors.Is(err, pgx.ErrNoRows) {
			return sqlstore.NoKey(u.Owner, u.Provider)
		}
		if err != nil {
			return fmt.Errorf("lock key row: %w", err)
		}
		if keyID != u.KeyID || current != u.Version {
			return nil
		}
		if _, err := tx.ExecStmt(ctx, dialect.SetKeyStatus(keyID, u, tx.now)); err != nil {
			return fmt.Errorf("update key %s: %w", keyID, err)
		}
		tx.Announce(keygate.Change{Kind: keygate.ChangeKey, Owner: u.Owner, Provider: u.Provider})
		changed = keygate.KeyStatus(status) != u.Status
		if !changed || ev.Action == "" {
			return nil
		}
		var hint, fingerprint string
		if err := tx.QueryRow(ctx, `SELECT hint, fingerprint FROM provider_key_versions WHERE key_id = $1 AND version = $2`,
			keyID, current).Scan(&hint, &fingerprint); err != nil {
			return fmt.Errorf("read key %s version %d: %w", keyID, current, err)
		}
		sqlstore.KeyStatusEvent(&ev, u, keyID, current, hint, fingerprint)
		return db.appendAudit(ctx, tx, &ev)
	})
	if err != nil {
		return false, err
	}
	return changed, nil
}

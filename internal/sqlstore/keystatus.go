// SPDX-License-Identifier: Apache-2.0

package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/keygate/keygate"
)

// CheckKeyStatus checks u for SetKeyStatus: invalid_request for a missing
// owner, provider or key id, or an unknown status.
func CheckKeyStatus(u keygate.KeyStatusUpdate) error {
	if u.Owner == "" || u.Provider == "" || u.KeyID == "" {
		return keygate.Errorf(keygate.CodeInvalidRequest, "A key status update needs an owner, a provider and a key id.")
	}
	switch u.Status {
	case keygate.KeyStatusUnknown, keygate.KeyStatusValid, keygate.KeyStatusInvalid:
		return nil
	}
	return keygate.Errorf(keygate.CodeInvalidRequest, "Key status %s is not valid.", Quote(string(u.Status)))
}

// SetKeyStatus records u, checked at now, on key keyID.
func (d Dialect) SetKeyStatus(keyID string, u keygate.KeyStatusUpdate, now time.Time) Stmt {
	return Stmt{d.render(`UPDATE provider_keys
		SET status = ?, last_error = ?, last_checked_at = ?, updated_at = ? WHERE id = ?`),
		[]any{string(u.Status), u.LastError, d.timeArg(now), d.timeArg(now), keyID}}
}

// KeyStatusEvent fills ev for a status change of version of key keyID,
// whose hint and fingerprint are given, owned by u's owner.
func KeyStatusEvent(ev *keygate.AuditEvent, u keygate.KeyStatusUpdate, keyID string, version int, hint, fingerprint string) {
	ev.KeyID, ev.Version, ev.Hint, ev.Fingerprint = keyID, version, hint, fingerprint
	ev.Tenant, ev.Provider = u.Owner, u.Provider
}

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
func (s *Store) SetKeyStatus(ctx context.Context, u keygate.KeyStatusUpdate, ev keygate.AuditEvent) (bool, error) {
	if err := CheckKeyStatus(u); err != nil {
		return false, err
	}
	var changed bool
	err := s.r.Write(ctx, fmt.Sprintf("set status of %s key of %s", u.Provider, u.Owner), func(tx Tx) error {
		changed = false
		// Lock the key row alone, not joined with its versions: after
		// waiting for a concurrent rotation, a locked join would recheck
		// the new current_version against the old version row and find
		// nothing, reading "rotated" as "no key".
		var keyID, status string
		var current int
		err := tx.QueryRowStmt(ctx, Stmt{s.d.render(`SELECT id, current_version, status FROM provider_keys
			WHERE owner = ? AND provider = ?` + s.d.lock(ForUpdate)), []any{string(u.Owner), u.Provider}}).Scan(&keyID, &current, &status)
		if tx.NoRows(err) {
			return NoKey(u.Owner, u.Provider)
		}
		if err != nil {
			return fmt.Errorf("lock key row: %w", err)
		}
		if keyID != u.KeyID || current != u.Version {
			return nil
		}
		if _, err := tx.ExecStmt(ctx, s.d.SetKeyStatus(keyID, u, tx.Now())); err != nil {
			return fmt.Errorf("update key %s: %w", keyID, err)
		}
		tx.Announce(keygate.Change{Kind: keygate.ChangeKeyStatus, Owner: u.Owner, Provider: u.Provider, ID: keyID, Status: u.Status})
		changed = keygate.KeyStatus(status) != u.Status
		if !changed || ev.Action == "" {
			return nil
		}
		var hint, fingerprint string
		if err := tx.QueryRowStmt(ctx, Stmt{s.d.render(`SELECT hint, fingerprint FROM provider_key_versions WHERE key_id = ? AND version = ?`),
			[]any{keyID, current}}).Scan(&hint, &fingerprint); err != nil {
			return fmt.Errorf("read key %s version %d: %w", keyID, current, err)
		}
		KeyStatusEvent(&ev, u, keyID, current, hint, fingerprint)
		return s.appendAudit(ctx, tx, &ev)
	})
	if err != nil {
		return false, err
	}
	return changed, nil
}

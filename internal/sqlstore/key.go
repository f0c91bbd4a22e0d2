// SPDX-License-Identifier: Apache-2.0

package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/keygate/keygate"
)

// keyColumns selects a key's current version: provider_keys k joined with
// provider_key_versions v (keyFrom). keyMetaColumns are the same without
// the sealed material.
const (
	keyMetaColumns = `k.id, k.owner, k.provider, k.current_version, v.hint, v.fingerprint, k.status,
	k.last_checked_at, k.last_error, v.created_by, v.created_at, k.updated_at`
	keyColumns = keyMetaColumns + `, v.ciphertext, v.wrapped_dek, v.kek_id`
	keyFrom    = ` FROM provider_keys k
	JOIN provider_key_versions v ON v.key_id = k.id AND v.version = k.current_version `
)

// NoKey is the not_found error of a missing key.
func NoKey(owner keygate.TenantID, provider string) error {
	if owner.IsPlatform() {
		return keygate.Errorf(keygate.CodeNotFound, "No %s key is stored for the platform.", Bare(provider))
	}
	return keygate.Errorf(keygate.CodeNotFound, "No %s key is stored for tenant %s.", Bare(provider), Bare(string(owner)))
}

// ownerName names a key's owner in a message.
func ownerName(owner keygate.TenantID) string {
	if owner.IsPlatform() {
		return "the platform"
	}
	return "tenant " + Bare(string(owner))
}

// CheckPutKey checks p for PutKey and fills its defaults (Status unknown).
// Returns invalid_request without an owner or provider, and an error
// without a Seal function.
func CheckPutKey(p keygate.PutKeyParams) (keygate.PutKeyParams, error) {
	if p.Owner == "" || p.Provider == "" {
		return p, keygate.Errorf(keygate.CodeInvalidRequest, "A key needs an owner and a provider.")
	}
	if p.Seal == nil {
		return p, errors.New("put key: no Seal function")
	}
	if p.Status == "" {
		p.Status = keygate.KeyStatusUnknown
	}
	return p, nil
}

// InsertKeyRow inserts the provider_keys row keyID of p's owner and
// provider, with no version yet (current_version 0).
func (d Dialect) InsertKeyRow(keyID string, p keygate.PutKeyParams, now time.Time) Stmt {
	return Stmt{d.render(`INSERT INTO provider_keys (id, owner, provider, current_version, status, created_at, updated_at)
		VALUES (?, ?, ?, 0, ?, ?, ?)`), []any{keyID, string(p.Owner), p.Provider, string(p.Status), d.timeArg(now), d.timeArg(now)}}
}

// PutVersion seals version of key keyID (p.Seal) and stores it in tx: it
// inserts the version, marks current (the version that was current; 0 for
// none) superseded, and makes the new one current with p.Status, its
// health unchecked. It returns the version as stored, or Seal's error
// before it writes anything.
func (d Dialect) PutVersion(ctx context.Context, tx Tx, p keygate.PutKeyParams, keyID string, current, version int) (keygate.ProviderKey, error) {
	now := tx.Now()
	sealed, err := p.Seal(keyID, version)
	if err != nil {
		return keygate.ProviderKey{}, fmt.Errorf("seal key %s version %d: %w", keyID, version, err)
	}
	if _, err := tx.ExecStmt(ctx, Stmt{d.render(`INSERT INTO provider_key_versions
		(key_id, version, ciphertext, wrapped_dek, kek_id, hint, fingerprint, created_by, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		[]any{keyID, version, sealed.Ciphertext, sealed.WrappedDEK, sealed.KEKID, p.Hint, p.Fingerprint, p.CreatedBy, d.timeArg(now)}}); err != nil {
		return keygate.ProviderKey{}, fmt.Errorf("insert key %s version %d: %w", keyID, version, err)
	}
	if err := d.supersede(ctx, tx, keyID, current); err != nil {
		return keygate.ProviderKey{}, err
	}
	if err := d.setCurrent(ctx, tx, keyID, version, p.Status); err != nil {
		return keygate.ProviderKey{}, err
	}
	return keygate.ProviderKey{
		ID: keyID, Owner: p.Owner, Provider: p.Provider, Version: version,
		Hint: p.Hint, Fingerprint: p.Fingerprint, Status: p.Status,
		CreatedBy: p.CreatedBy, CreatedAt: now, UpdatedAt: now, Sealed: sealed,
	}, nil
}

// supersede marks version of keyID superseded at tx's time. Version 0 (a
// key row just created, with no version yet) is a no-op.
func (d Dialect) supersede(ctx context.Context, tx Tx, keyID string, version int) error {
	if version == 0 {
		return nil
	}
	if _, err := tx.ExecStmt(ctx, Stmt{d.render(`UPDATE provider_key_versions SET superseded_at = ? WHERE key_id = ? AND version = ?`),
		[]any{d.timeArg(tx.Now()), keyID, version}}); err != nil {
		return fmt.Errorf("supersede key %s version %d: %w", keyID, version, err)
	}
	return nil
}

// setCurrent makes version the current one of key keyID, with status and
// its health unchecked.
func (d Dialect) setCurrent(ctx context.Context, tx Tx, keyID string, version int, status keygate.KeyStatus) error {
	if _, err := tx.ExecStmt(ctx, Stmt{d.render(`UPDATE provider_keys
		SET current_version = ?, status = ?, last_checked_at = NULL, last_error = '', updated_at = ? WHERE id = ?`),
		[]any{version, string(status), d.timeArg(tx.Now()), keyID}}); err != nil {
		return fmt.Errorf("update key %s: %w", keyID, err)
	}
	return nil
}

// PutKeyEvent fills ev for version of key keyID stored by PutKey: action
// key.set for version 1, key.rotated after.
func PutKeyEvent(ev *keygate.AuditEvent, keyID string, version int, p keygate.PutKeyParams) {
	ev.Action = keygate.ActionKeyRotated
	if version == 1 {
		ev.Action = keygate.ActionKeySet
	}
	ev.KeyID, ev.Version, ev.Hint, ev.Fingerprint = keyID, version, p.Hint, p.Fingerprint
}

// KeyEvent fills ev's key fields (KeyID, Version, Hint, Fingerprint) from k.
func KeyEvent(ev *keygate.AuditEvent, k keygate.ProviderKey) {
	ev.KeyID, ev.Version, ev.Hint, ev.Fingerprint = k.ID, k.Version, k.Hint, k.Fingerprint
}

// currentKey selects the current version of the owner's key for provider,
// sealed material included (scanKey reads it).
func (d Dialect) currentKey(owner keygate.TenantID, provider string) Stmt {
	return Stmt{d.render(`SELECT ` + keyColumns + keyFrom + `WHERE k.owner = ? AND k.provider = ?`),
		[]any{string(owner), provider}}
}

// ReadKey reads the current version of the owner's key for provider in
// tx, sealed material included; not_found if there is none.
func (d Dialect) ReadKey(ctx context.Context, tx Tx, owner keygate.TenantID, provider string) (keygate.ProviderKey, error) {
	k, err := scanKey(tx.QueryRowStmt(ctx, d.currentKey(owner, provider)))
	if tx.NoRows(err) {
		return keygate.ProviderKey{}, NoKey(owner, provider)
	}
	return k, err
}

// listKeys selects the current version of each of the owner's keys,
// ordered by provider bytewise.
func (d Dialect) listKeys(owner keygate.TenantID) Stmt {
	return Stmt{d.render(`SELECT ` + keyColumns + keyFrom + `WHERE k.owner = ? ORDER BY ` + d.bytewise("k.provider")),
		[]any{string(owner)}}
}

// listAllKeys selects the current version of every key of every owner,
// ordered by owner and provider bytewise, without sealed material: two
// NULLs and an empty KEK id in its place keep scanKey's shape without
// reading every ciphertext.
func (d Dialect) listAllKeys() Stmt {
	null := d.cast("NULL", "bytea")
	return Stmt{SQL: `SELECT ` + keyMetaColumns + `, ` + null + `, ` + null + `, ''` + keyFrom +
		`ORDER BY ` + d.bytewise("k.owner") + `, ` + d.bytewise("k.provider")}
}

// DeleteKey deletes, in tx, every version of key keyID, then its row.
func (d Dialect) DeleteKey(ctx context.Context, tx Tx, keyID string) error {
	for _, q := range []string{
		`DELETE FROM provider_key_versions WHERE key_id = ?`,
		`DELETE FROM provider_keys WHERE id = ?`,
	} {
		if _, err := tx.ExecStmt(ctx, Stmt{d.render(q), []any{keyID}}); err != nil {
			return err
		}
	}
	return nil
}

// scanKey reads a row of the key statements.
func scanKey(row Row) (keygate.ProviderKey, error) {
	var k keygate.ProviderKey
	var owner, status string
	err := row.Scan(&k.ID, &owner, &k.Provider, &k.Version, &k.Hint, &k.Fingerprint, &status,
		timeDest{&k.LastCheckedAt}, &k.LastError, &k.CreatedBy, timeDest{&k.CreatedAt}, timeDest{&k.UpdatedAt},
		&k.Sealed.Ciphertext, &k.Sealed.WrappedDEK, &k.Sealed.KEKID)
	k.Owner, k.Status = keygate.TenantID(owner), keygate.KeyStatus(status)
	return k, err
}

// PutKey stores a new version of the owner's key for p.Provider (one above
// the newest version, which after a rollback is not the current one), sealed
// by p.Seal inside the transaction, makes it current, marks the version that
// was current superseded now, and appends ev (Action key.set for version 1
// of a key id, key.rotated after; KeyID, Version, Hint and Fingerprint
// filled in). Concurrent calls for one owner and provider serialize on the
// provider_keys row lock (on SQLite, on the write lock), so versions
// strictly increase. Returns invalid_request without an owner or provider,
// not_found for an unknown tenant owner, and Seal's error (with nothing
// written) if sealing fails.
func (s *Store) PutKey(ctx context.Context, p keygate.PutKeyParams, ev keygate.AuditEvent) (keygate.ProviderKey, error) {
	p, err := CheckPutKey(p)
	if err != nil {
		return keygate.ProviderKey{}, err
	}
	var k keygate.ProviderKey
	err = s.r.Write(ctx, fmt.Sprintf("put %s key of %s", p.Provider, p.Owner), func(tx Tx) error {
		if !p.Owner.IsPlatform() {
			// FOR SHARE: a concurrent DeleteTenant (FOR UPDATE) waits for
			// this key to be written, then deletes it too.
			if err := s.d.lockTenant(ctx, tx, p.Owner, ForShare); err != nil {
				return err
			}
		}
		keyID, current, newest, err := s.lockKeyRow(ctx, tx, p)
		if err != nil {
			return err
		}
		// The new version follows the newest one, not the current one:
		// after a rollback the current version is not the newest, and
		// version numbers are never reused. The key row lock makes the
		// maximum stable until commit; with row locks it is read by a
		// statement of its own, after the lock, since a subquery of the
		// locking SELECT reads the snapshot taken before it waited for the
		// lock. SQLite's locking SELECT reads it at once (see lockKeyRow).
		if newest < 0 {
			if err := tx.QueryRowStmt(ctx, Stmt{s.d.render(`SELECT coalesce(max(version), 0) FROM provider_key_versions WHERE key_id = ?`),
				[]any{keyID}}).Scan(&newest); err != nil {
				return fmt.Errorf("read newest version of key %s: %w", keyID, err)
			}
		}
		k, err = s.d.PutVersion(ctx, tx, p, keyID, current, newest+1)
		if err != nil {
			return err
		}
		PutKeyEvent(&ev, keyID, k.Version, p)
		tx.Announce(keygate.Change{Kind: keygate.ChangeKey, Owner: p.Owner, Provider: p.Provider})
		return s.appendAudit(ctx, tx, &ev)
	})
	if err != nil {
		return keygate.ProviderKey{}, err
	}
	return k, nil
}

// lockKeyRow locks the provider_keys row of p's owner and provider,
// creating it first if there is none, and returns its id, its current
// version (0 for a row just created) and, on a dialect without row locks,
// its newest version (-1 elsewhere: see PutKey). An INSERT ... ON CONFLICT
// DO NOTHING waits for a concurrent creator to commit and then leaves its
// row alone; the row can still vanish (a concurrent DeleteKey) before the
// SELECT ... FOR UPDATE that follows, hence the retries.
//
// Without row locks the write lock has been held since the transaction
// began, so what the SELECT reads cannot change before commit, and one
// statement can read the newest version too: a rotation on SQLite is one
// statement here, as it was before the engines shared this code.
func (s *Store) lockKeyRow(ctx context.Context, tx Tx, p keygate.PutKeyParams) (keyID string, current, newest int, err error) {
	q := `SELECT id, current_version, -1 FROM provider_keys WHERE owner = ? AND provider = ?` + s.d.lock(ForUpdate)
	if !s.d.rowLocks() {
		q = `SELECT id, current_version,
			coalesce((SELECT max(v.version) FROM provider_key_versions v WHERE v.key_id = provider_keys.id), 0)
			FROM provider_keys WHERE owner = ? AND provider = ?`
	}
	lock := Stmt{s.d.render(q), []any{string(p.Owner), p.Provider}}
	for attempt := 0; ; attempt++ {
		err := tx.QueryRowStmt(ctx, lock).Scan(&keyID, &current, &newest)
		if err == nil {
			return keyID, current, newest, nil
		}
		if !tx.NoRows(err) {
			return "", 0, 0, fmt.Errorf("lock key row: %w", err)
		}
		if attempt == 3 {
			return "", 0, 0, keygate.Errorf(keygate.CodeConflict, "The %s key changed concurrently; try again.", Bare(p.Provider))
		}
		newID, err := s.ids.New("pk_")
		if err != nil {
			return "", 0, 0, err
		}
		if _, err := tx.ExecStmt(ctx, s.d.InsertKeyRow(newID, p, tx.Now()).With(" ON CONFLICT (owner, provider) DO NOTHING")); err != nil {
			return "", 0, 0, fmt.Errorf("create key row: %w", err)
		}
	}
}

// DeleteKey erases every version of the owner's key for provider and appends
// ev with KeyID, Version, Hint and Fingerprint of the deleted current
// version. Returns not_found if there is none.
func (s *Store) DeleteKey(ctx context.Context, owner keygate.TenantID, provider string, ev keygate.AuditEvent) error {
	return s.r.Write(ctx, fmt.Sprintf("delete %s key of %s", provider, owner), func(tx Tx) error {
		// Lock the key row alone first: after waiting for a concurrent
		// rotation, a locked join would recheck the new current_version
		// against the old version row and find nothing. The read after the
		// lock sees the rotation.
		if err := s.d.lockKey(ctx, tx, owner, provider); err != nil {
			return err
		}
		k, err := s.d.ReadKey(ctx, tx, owner, provider)
		if err != nil {
			return err
		}
		if err := s.d.DeleteKey(ctx, tx, k.ID); err != nil {
			return err
		}
		KeyEvent(&ev, k)
		tx.Announce(keygate.Change{Kind: keygate.ChangeKey, Owner: owner, Provider: provider})
		return s.appendAudit(ctx, tx, &ev)
	})
}

// lockKey locks the provider_keys row of the owner's key for provider FOR
// UPDATE, alone (not joined with its versions), or returns not_found.
func (d Dialect) lockKey(ctx context.Context, tx Tx, owner keygate.TenantID, provider string) error {
	var locked string
	err := tx.QueryRowStmt(ctx, Stmt{d.render(`SELECT id FROM provider_keys WHERE owner = ? AND provider = ?` + d.lock(ForUpdate)),
		[]any{string(owner), provider}}).Scan(&locked)
	if tx.NoRows(err) {
		return NoKey(owner, provider)
	}
	if err != nil {
		return fmt.Errorf("lock key row: %w", err)
	}
	return nil
}

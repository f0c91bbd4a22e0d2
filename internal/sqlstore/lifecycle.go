// SPDX-License-Identifier: Apache-2.0

package sqlstore

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/keygate/keygate"
)

// listKeyVersions selects every version of the owner's key for provider,
// destroyed ones included, newest first, without key material
// (scanKeyVersion reads it).
func (d Dialect) listKeyVersions(owner keygate.TenantID, provider string) Stmt {
	return Stmt{d.render(`SELECT v.key_id, v.version, v.hint, v.fingerprint, v.created_by, v.created_at,
			v.version = k.current_version, v.superseded_at, v.destroyed_at
		FROM provider_keys k JOIN provider_key_versions v ON v.key_id = k.id
		WHERE k.owner = ? AND k.provider = ? ORDER BY v.version DESC`), []any{string(owner), provider}}
}

// scanKeyVersion reads a row of ListKeyVersions.
func scanKeyVersion(row Row) (keygate.KeyVersion, error) {
	var v keygate.KeyVersion
	err := row.Scan(&v.KeyID, &v.Version, &v.Hint, &v.Fingerprint, &v.CreatedBy, timeDest{&v.CreatedAt},
		&v.Current, timeDest{&v.SupersededAt}, timeDest{&v.DestroyedAt})
	return v, err
}

// RollbackTarget selects the version RollbackKey restores in place of cur:
// the newest older one that is not destroyed and was superseded at or
// after notBefore (any superseded one, for a zero notBefore). No row means
// there is none. A backend may lock it (With).
func (d Dialect) RollbackTarget(cur keygate.ProviderKey, notBefore time.Time) Stmt {
	q := `SELECT version FROM provider_key_versions
		WHERE key_id = ? AND version < ? AND destroyed_at IS NULL AND ciphertext IS NOT NULL
			AND wrapped_dek IS NOT NULL AND superseded_at IS NOT NULL`
	args := []any{cur.ID, cur.Version}
	if !notBefore.IsZero() {
		q += ` AND superseded_at >= ?`
		args = append(args, d.bound(notBefore))
	}
	return Stmt{d.render(q + ` ORDER BY version DESC LIMIT 1`), args}
}

// NoRollback is the conflict error of a rollback of cur that found nothing
// to restore, saying why (it counts cur's older versions in tx).
func (d Dialect) NoRollback(ctx context.Context, tx Tx, cur keygate.ProviderKey) error {
	var older int
	if err := tx.QueryRowStmt(ctx, Stmt{d.render(`SELECT count(*) FROM provider_key_versions WHERE key_id = ? AND version < ?`),
		[]any{cur.ID, cur.Version}}).Scan(&older); err != nil {
		return fmt.Errorf("count older versions: %w", err)
	}
	if older == 0 {
		return keygate.Errorf(keygate.CodeConflict, "The %s key of %s has no earlier version to roll back to.",
			Bare(cur.Provider), ownerName(cur.Owner))
	}
	return keygate.Errorf(keygate.CodeConflict,
		"No earlier version of the %s key of %s can be restored: each was destroyed or replaced before the rollback window.",
		Bare(cur.Provider), ownerName(cur.Owner))
}

// Restore makes version target of cur's key current again in tx, in place
// of cur, which becomes superseded: target is no longer superseded, and
// the key's status is unknown (the restored version's health is not
// known). It returns the restored version as ReadKey reads it.
func (d Dialect) Restore(ctx context.Context, tx Tx, cur keygate.ProviderKey, target int) (keygate.ProviderKey, error) {
	if err := d.supersede(ctx, tx, cur.ID, cur.Version); err != nil {
		return keygate.ProviderKey{}, err
	}
	if _, err := tx.ExecStmt(ctx, Stmt{d.render(`UPDATE provider_key_versions SET superseded_at = NULL WHERE key_id = ? AND version = ?`),
		[]any{cur.ID, target}}); err != nil {
		return keygate.ProviderKey{}, fmt.Errorf("restore key %s version %d: %w", cur.ID, target, err)
	}
	if err := d.setCurrent(ctx, tx, cur.ID, target, keygate.KeyStatusUnknown); err != nil {
		return keygate.ProviderKey{}, err
	}
	return d.ReadKey(ctx, tx, cur.Owner, cur.Provider)
}

// RollbackEvent fills ev for k, the version RollbackKey restored.
func RollbackEvent(ev *keygate.AuditEvent, k keygate.ProviderKey) {
	ev.Action = keygate.ActionKeyRolledBack
	KeyEvent(ev, k)
	ev.Tenant, ev.Provider = k.Owner, k.Provider
}

// supersededWhere is the condition on provider_key_versions of the
// versions DestroySuperseded erases: not current, not yet destroyed, and
// superseded before a bound (the one parameter).
const supersededWhere = `provider_key_versions.destroyed_at IS NULL AND provider_key_versions.superseded_at IS NOT NULL
	AND provider_key_versions.superseded_at < ?
	AND NOT EXISTS (SELECT 1 FROM provider_keys k
		WHERE k.id = provider_key_versions.key_id AND k.current_version = provider_key_versions.version)`

// lockSuperseded locks, on a dialect with row locks, what
// destroySuperseded(olderThan) will change, in the order every other
// writer takes them: the key rows first, by id, then their version rows,
// by key and version. Without it two concurrent erasures (or an erasure
// and a rollback) could lock the same rows in different orders and
// deadlock. On SQLite it does nothing: the write lock already excludes
// every other writer.
func (d Dialect) lockSuperseded(ctx context.Context, tx Tx, olderThan time.Time) error {
	if !d.rowLocks() {
		return nil
	}
	b := d.bound(olderThan)
	for _, lock := range []Stmt{
		{d.render(`SELECT id FROM provider_keys WHERE id IN (SELECT key_id FROM provider_key_versions WHERE ` +
			supersededWhere + `) ORDER BY id` + d.lock(ForUpdate)), []any{b}},
		{d.render(`SELECT key_id, version FROM provider_key_versions WHERE ` + supersededWhere +
			` ORDER BY key_id, version` + d.lock(ForUpdate)), []any{b}},
	} {
		if err := tx.QueryStmt(ctx, lock, func(rows Rows) error {
			for rows.Next() {
			}
			return nil
		}); err != nil {
			return fmt.Errorf("lock superseded versions: %w", err)
		}
	}
	return nil
}

// destroySuperseded erases, at tx's time, the ciphertext and wrapped data
// key of every version that is not current, not yet destroyed, and was
// superseded before olderThan, and returns how many versions it erased. It
// announces one key change per owner and provider whose versions it
// erased, in owner and provider order; the UPDATE returns the ids of the
// keys it touched, so the changes are exactly those of the rows it wrote.
func (d Dialect) destroySuperseded(ctx context.Context, tx Tx, olderThan time.Time) (int64, error) {
	var n int64
	keyIDs := map[string]bool{}
	err := tx.QueryStmt(ctx, Stmt{d.render(`UPDATE provider_key_versions
		SET ciphertext = NULL, wrapped_dek = NULL, destroyed_at = ?
		WHERE ` + supersededWhere + ` RETURNING key_id`),
		[]any{d.timeArg(tx.Now()), d.bound(olderThan)}}, func(rows Rows) error {
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				return err
			}
			n++
			keyIDs[id] = true
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	var changes []keygate.Change
	for _, id := range slices.Sorted(maps.Keys(keyIDs)) {
		c := keygate.Change{Kind: keygate.ChangeKey}
		var owner string
		if err := tx.QueryRowStmt(ctx, Stmt{d.render(`SELECT owner, provider FROM provider_keys WHERE id = ?`), []any{id}}).
			Scan(&owner, &c.Provider); err != nil {
			return 0, fmt.Errorf("read owner of key %s: %w", id, err)
		}
		c.Owner = keygate.TenantID(owner)
		changes = append(changes, c)
	}
	slices.SortFunc(changes, func(a, b keygate.Change) int {
		return cmp.Or(strings.Compare(string(a.Owner), string(b.Owner)), strings.Compare(a.Provider, b.Provider))
	})
	for _, c := range changes {
		tx.Announce(c)
	}
	return n, nil
}

// RollbackKey makes the newest version below the current one that is not
// destroyed and was superseded at or after notBefore (any superseded
// version, for a zero notBefore) current again, marks the version that was
// current superseded now, and appends ev with Action key.rolled_back and
// KeyID, Version, Hint and Fingerprint of the restored version, Tenant (the
// owner) and Provider. The restored version's health is not known, so the
// key's status goes back to unknown. It returns the restored version as
// GetKey would, sealed material included.
//
// It serializes with PutKey, DeleteKey and SetKeyStatus on the provider_keys
// row lock, and with DestroySuperseded on the lock of the version it
// restores, so it never restores a version destroyed meanwhile.
//
// Returns not_found if the owner has no key for provider, and conflict (with
// nothing written) if no version can be restored: there is none older,
// or every older one was destroyed or superseded before notBefore.
func (s *Store) RollbackKey(ctx context.Context, owner keygate.TenantID, provider string, notBefore time.Time, ev keygate.AuditEvent) (keygate.ProviderKey, error) {
	var k keygate.ProviderKey
	err := s.r.Write(ctx, fmt.Sprintf("roll back %s key of %s", provider, owner), func(tx Tx) error {
		// Lock the key row alone first, as DeleteKey does; the read after
		// the lock sees any rotation that committed while it waited.
		if err := s.d.lockKey(ctx, tx, owner, provider); err != nil {
			return err
		}
		cur, err := s.d.ReadKey(ctx, tx, owner, provider)
		if err != nil {
			return err
		}
		// FOR UPDATE: a concurrent DestroySuperseded either waits for
		// this transaction (and then skips the version, no longer
		// superseded) or wins, and then the locked row fails the recheck
		// and the next older version is taken.
		var target int
		err = tx.QueryRowStmt(ctx, s.d.RollbackTarget(cur, notBefore).With(s.d.lock(ForUpdate))).Scan(&target)
		if tx.NoRows(err) {
			return s.d.NoRollback(ctx, tx, cur)
		}
		if err != nil {
			return fmt.Errorf("find version to restore: %w", err)
		}
		if k, err = s.d.Restore(ctx, tx, cur, target); err != nil {
			return err
		}
		RollbackEvent(&ev, k)
		tx.Announce(keygate.Change{Kind: keygate.ChangeKey, Owner: owner, Provider: provider})
		return s.appendAudit(ctx, tx, &ev)
	})
	if err != nil {
		return keygate.ProviderKey{}, err
	}
	return k, nil
}

// DestroySuperseded erases the ciphertext and wrapped data key (both set to
// NULL) of every version that is not current, not yet destroyed, and was
// superseded before olderThan, sets its destroyed_at, and returns how many
// versions it destroyed. A zero olderThan destroys nothing. Hint,
// fingerprint and dates stay.
//
// The erasure is logical: the engine may keep the erased bytes in its
// logs, free pages or old row versions (PostgreSQL until VACUUM, and its
// write-ahead log and backups; the SQLite backend checkpoints its log
// afterwards). A version being restored by a concurrent RollbackKey is
// either restored first (and then no longer superseded, so left alone) or
// destroyed first (and then not restored).
func (s *Store) DestroySuperseded(ctx context.Context, olderThan time.Time) (int, error) {
	if olderThan.IsZero() {
		return 0, nil
	}
	var n int64
	err := s.r.Write(ctx, "destroy superseded key versions", func(tx Tx) (err error) {
		if err := s.d.lockSuperseded(ctx, tx, olderThan); err != nil {
			return err
		}
		n, err = s.d.destroySuperseded(ctx, tx, olderThan)
		return err
	})
	if err != nil {
		return 0, err
	}
	return int(n), nil
}

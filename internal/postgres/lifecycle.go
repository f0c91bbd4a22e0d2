package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/keygate/keygate"
)

// supersede marks version of keyID superseded at the transaction's time.
// Version 0 (a key row just created, with no version yet) is a no-op.
func supersede(ctx context.Context, tx *tx, keyID string, version int) error {
	if version == 0 {
		return nil
	}
	if _, err := tx.Exec(ctx, `UPDATE provider_key_versions SET superseded_at = $1 WHERE key_id = $2 AND version = $3`,
		tx.now, keyID, version); err != nil {
		return fmt.Errorf("supersede key %s version %d: %w", keyID, version, err)
	}
	return nil
}

// ListKeyVersions returns every version of the owner's key for provider,
// destroyed ones included, newest first, without key material. Returns
// not_found if there is no key.
func (db *DB) ListKeyVersions(ctx context.Context, owner keygate.TenantID, provider string) ([]keygate.KeyVersion, error) {
	var vs []keygate.KeyVersion
	err := db.read(ctx, fmt.Sprintf("list versions of %s key of %s", provider, owner), func(tx *tx) error {
		rows, err := tx.Query(ctx, `SELECT v.key_id, v.version, v.hint, v.fingerprint, v.created_by, v.created_at,
				v.version = k.current_version, v.superseded_at, v.destroyed_at
			FROM provider_keys k JOIN provider_key_versions v ON v.key_id = k.id
			WHERE k.owner = $1 AND k.provider = $2 ORDER BY v.version DESC`, string(owner), provider)
		if err != nil {
			return err
		}
		vs, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (keygate.KeyVersion, error) {
			var v keygate.KeyVersion
			err := r.Scan(&v.KeyID, &v.Version, &v.Hint, &v.Fingerprint, &v.CreatedBy, tsDest{&v.CreatedAt},
				&v.Current, tsDest{&v.SupersededAt}, tsDest{&v.DestroyedAt})
			return v, err
		})
		if err != nil {
			return err
		}
		if len(vs) == 0 {
			return noKey(owner, provider)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return vs, nil
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
func (db *DB) RollbackKey(ctx context.Context, owner keygate.TenantID, provider string, notBefore time.Time, ev keygate.AuditEvent) (keygate.ProviderKey, error) {
	var k keygate.ProviderKey
	err := db.write(ctx, fmt.Sprintf("roll back %s key of %s", provider, owner), func(tx *tx) error {
		// Lock the key row alone first, as DeleteKey does; the read after
		// the lock sees any rotation that committed while it waited.
		var locked string
		err := tx.QueryRow(ctx, `SELECT id FROM provider_keys WHERE owner = $1 AND provider = $2 FOR UPDATE`,
			string(owner), provider).Scan(&locked)
		if errors.Is(err, pgx.ErrNoRows) {
			return noKey(owner, provider)
		}
		if err != nil {
			return fmt.Errorf("lock key row: %w", err)
		}
		cur, err := getKey(ctx, tx, owner, provider)
		if err != nil {
			return err
		}
		// FOR UPDATE: a concurrent DestroySuperseded either waits for
		// this transaction (and then skips the version, no longer
		// superseded) or wins, and then the locked row fails the recheck
		// and the next older version is taken.
		q := `SELECT version FROM provider_key_versions
			WHERE key_id = $1 AND version < $2 AND destroyed_at IS NULL AND ciphertext IS NOT NULL
				AND wrapped_dek IS NOT NULL AND superseded_at IS NOT NULL`
		args := []any{cur.ID, cur.Version}
		if !notBefore.IsZero() {
			q += ` AND superseded_at >= $3`
			args = append(args, ceilMicro(notBefore))
		}
		var target int
		err = tx.QueryRow(ctx, q+` ORDER BY version DESC LIMIT 1 FOR UPDATE`, args...).Scan(&target)
		if errors.Is(err, pgx.ErrNoRows) {
			return noRollback(ctx, tx, cur)
		}
		if err != nil {
			return fmt.Errorf("find version to restore: %w", err)
		}
		if err := supersede(ctx, tx, cur.ID, cur.Version); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE provider_key_versions SET superseded_at = NULL WHERE key_id = $1 AND version = $2`,
			cur.ID, target); err != nil {
			return fmt.Errorf("restore key %s version %d: %w", cur.ID, target, err)
		}
		if _, err := tx.Exec(ctx, `UPDATE provider_keys
			SET current_version = $1, status = $2, last_checked_at = NULL, last_error = '', updated_at = $3 WHERE id = $4`,
			target, string(keygate.KeyStatusUnknown), tx.now, cur.ID); err != nil {
			return fmt.Errorf("update key %s: %w", cur.ID, err)
		}
		if k, err = getKey(ctx, tx, owner, provider); err != nil {
			return err
		}
		ev.Action = keygate.ActionKeyRolledBack
		ev.KeyID, ev.Version, ev.Hint, ev.Fingerprint = k.ID, k.Version, k.Hint, k.Fingerprint
		ev.Tenant, ev.Provider = k.Owner, k.Provider
		return db.appendAudit(ctx, tx, &ev)
	})
	if err != nil {
		return keygate.ProviderKey{}, err
	}
	return k, nil
}

// noRollback returns the conflict error of a rollback that found nothing to
// restore, saying why.
func noRollback(ctx context.Context, tx *tx, cur keygate.ProviderKey) error {
	var older int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM provider_key_versions WHERE key_id = $1 AND version < $2`,
		cur.ID, cur.Version).Scan(&older); err != nil {
		return fmt.Errorf("count older versions: %w", err)
	}
	if older == 0 {
		return keygate.Errorf(keygate.CodeConflict, "The %s key of %s has no earlier version to roll back to.",
			bare(cur.Provider), ownerName(cur.Owner))
	}
	return keygate.Errorf(keygate.CodeConflict,
		"No earlier version of the %s key of %s can be restored: each was destroyed or replaced before the rollback window.",
		bare(cur.Provider), ownerName(cur.Owner))
}

// ownerName names a key's owner in a message.
func ownerName(owner keygate.TenantID) string {
	if owner.IsPlatform() {
		return "the platform"
	}
	return "tenant " + bare(string(owner))
}

// DestroySuperseded erases the ciphertext and wrapped data key (both set to
// NULL) of every version that is not current, not yet destroyed, and was
// superseded before olderThan, sets its destroyed_at, and returns how many
// versions it destroyed. A zero olderThan destroys nothing. Hint,
// fingerprint and dates stay.
//
// The erasure is logical: PostgreSQL keeps the old row versions until
// VACUUM reclaims them, and its write-ahead log and backups keep what they
// recorded. A version being restored by a concurrent RollbackKey is either
// restored first (and then no longer superseded, so left alone) or
// destroyed first (and then not restored).
func (db *DB) DestroySuperseded(ctx context.Context, olderThan time.Time) (int, error) {
	if olderThan.IsZero() {
		return 0, nil
	}
	var n int64
	err := db.write(ctx, "destroy superseded key versions", func(tx *tx) error {
		tag, err := tx.Exec(ctx, `UPDATE provider_key_versions v
			SET ciphertext = NULL, wrapped_dek = NULL, destroyed_at = $1
			WHERE v.destroyed_at IS NULL AND v.superseded_at IS NOT NULL AND v.superseded_at < $2
				AND NOT EXISTS (SELECT 1 FROM provider_keys k WHERE k.id = v.key_id AND k.current_version = v.version)`,
			tx.now, ceilMicro(olderThan))
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		return 0, err
	}
	return int(n), nil
}

// ListAllKeys returns the current version of every stored key of every
// owner, ordered by owner and provider (bytewise, as SQLite orders them),
// without sealed material.
func (db *DB) ListAllKeys(ctx context.Context) ([]keygate.ProviderKey, error) {
	var ks []keygate.ProviderKey
	err := db.read(ctx, "list all keys", func(tx *tx) error {
		// NULL, NULL, '' in place of the sealed material: scanKey's shape
		// without reading every ciphertext.
		rows, err := tx.Query(ctx, `SELECT `+keyMetaColumns+`, NULL::bytea, NULL::bytea, ''`+keyFrom+
			`ORDER BY k.owner COLLATE "C", k.provider COLLATE "C"`)
		if err != nil {
			return err
		}
		ks, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (keygate.ProviderKey, error) { return scanKey(r) })
		return err
	})
	return ks, err
}

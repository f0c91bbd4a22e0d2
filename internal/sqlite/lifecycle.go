package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/keygate/keygate"
)

// supersede marks version of keyID superseded at the transaction's time.
// Version 0 (a key row just created, with no version yet) is a no-op.
func supersede(ctx context.Context, tx *tx, keyID string, version int) error {
	if version == 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `UPDATE provider_key_versions SET superseded_at = ? WHERE key_id = ? AND version = ?`,
		micros(tx.now), keyID, version); err != nil {
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
		rows, err := tx.QueryContext(ctx, `SELECT v.key_id, v.version, v.hint, v.fingerprint, v.created_by, v.created_at,
				v.version = k.current_version, v.superseded_at, v.destroyed_at
			FROM provider_keys k JOIN provider_key_versions v ON v.key_id = k.id
			WHERE k.owner = ? AND k.provider = ? ORDER BY v.version DESC`, string(owner), provider)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var v keygate.KeyVersion
			if err := rows.Scan(&v.KeyID, &v.Version, &v.Hint, &v.Fingerprint, &v.CreatedBy, microTime{&v.CreatedAt},
				&v.Current, microTime{&v.SupersededAt}, microTime{&v.DestroyedAt}); err != nil {
				return err
			}
			vs = append(vs, v)
		}
		if err := rows.Err(); err != nil {
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
// Returns not_found if the owner has no key for provider, and conflict (with
// nothing written) if no version can be restored: there is none older,
// or every older one was destroyed or superseded before notBefore.
func (db *DB) RollbackKey(ctx context.Context, owner keygate.TenantID, provider string, notBefore time.Time, ev keygate.AuditEvent) (keygate.ProviderKey, error) {
	var k keygate.ProviderKey
	err := db.write(ctx, fmt.Sprintf("roll back %s key of %s", provider, owner), func(tx *tx) error {
		cur, err := getKey(ctx, tx, owner, provider)
		if err != nil {
			return err
		}
		q := `SELECT version FROM provider_key_versions
			WHERE key_id = ? AND version < ? AND destroyed_at IS NULL AND ciphertext IS NOT NULL
				AND wrapped_dek IS NOT NULL AND superseded_at IS NOT NULL`
		args := []any{cur.ID, cur.Version}
		if !notBefore.IsZero() {
			q += ` AND superseded_at >= ?`
			args = append(args, ceilMicro(notBefore))
		}
		var target int
		err = tx.QueryRowContext(ctx, q+` ORDER BY version DESC LIMIT 1`, args...).Scan(&target)
		if errors.Is(err, sql.ErrNoRows) {
			return noRollback(ctx, tx, cur)
		}
		if err != nil {
			return fmt.Errorf("find version to restore: %w", err)
		}
		if err := supersede(ctx, tx, cur.ID, cur.Version); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE provider_key_versions SET superseded_at = NULL WHERE key_id = ? AND version = ?`,
			cur.ID, target); err != nil {
			return fmt.Errorf("restore key %s version %d: %w", cur.ID, target, err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE provider_keys
			SET current_version = ?, status = ?, last_checked_at = NULL, last_error = '', updated_at = ? WHERE id = ?`,
			target, string(keygate.KeyStatusUnknown), micros(tx.now), cur.ID); err != nil {
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
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM provider_key_versions WHERE key_id = ? AND version < ?`,
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
// secure_delete overwrites the erased bytes in the database pages; when
// something was destroyed, a WAL checkpoint (TRUNCATE) then empties the
// write-ahead log, which still holds the pages as they were written. A
// checkpoint that cannot complete (a long reader) is logged, not an error:
// the versions are destroyed either way, and the next checkpoint rewrites
// the log.
func (db *DB) DestroySuperseded(ctx context.Context, olderThan time.Time) (int, error) {
	if olderThan.IsZero() {
		return 0, nil
	}
	var n int64
	err := db.write(ctx, "destroy superseded key versions", func(tx *tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE provider_key_versions
			SET ciphertext = NULL, wrapped_dek = NULL, destroyed_at = ?
			WHERE destroyed_at IS NULL AND superseded_at IS NOT NULL AND superseded_at < ?
				AND NOT EXISTS (SELECT 1 FROM provider_keys k
					WHERE k.id = provider_key_versions.key_id AND k.current_version = provider_key_versions.version)`,
			micros(tx.now), ceilMicro(olderThan))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, err
	}
	if n > 0 {
		db.checkpoint(ctx)
	}
	return int(n), nil
}

// checkpoint copies the write-ahead log into the database file and truncates
// it, so that destroyed ciphertext does not linger in the log. Failures are
// logged only.
func (db *DB) checkpoint(ctx context.Context) {
	var busy, logFrames, done int
	err := db.writer.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logFrames, &done)
	switch {
	case err != nil:
		db.log.WarnContext(ctx, "sqlite: WAL checkpoint after destroying key versions failed", "error", err)
	case busy != 0:
		db.log.WarnContext(ctx, "sqlite: WAL checkpoint after destroying key versions could not complete; a reader held it back",
			"log_frames", logFrames, "checkpointed", done)
	}
}

// ListAllKeys returns the current version of every stored key of every
// owner, ordered by owner and provider, without sealed material.
func (db *DB) ListAllKeys(ctx context.Context) ([]keygate.ProviderKey, error) {
	var ks []keygate.ProviderKey
	err := db.read(ctx, "list all keys", func(tx *tx) error {
		// NULL, NULL, '' in place of the sealed material: scanKey's shape
		// without reading every ciphertext.
		rows, err := tx.QueryContext(ctx, `SELECT `+keyMetaColumns+`, NULL, NULL, ''`+keyFrom+`ORDER BY k.owner, k.provider`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			k, err := scanKey(rows)
			if err != nil {
				return err
			}
			ks = append(ks, k)
		}
		return rows.Err()
	})
	return ks, err
}

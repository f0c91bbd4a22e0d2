package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/sqlstore"
)

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
		if err := lockKey(ctx, tx, owner, provider); err != nil {
			return err
		}
		cur, err := dialect.ReadKey(ctx, tx, owner, provider)
		if err != nil {
			return err
		}
		// FOR UPDATE: a concurrent DestroySuperseded either waits for
		// this transaction (and then skips the version, no longer
		// superseded) or wins, and then the locked row fails the recheck
		// and the next older version is taken.
		var target int
		err = tx.QueryRowStmt(ctx, dialect.RollbackTarget(cur, notBefore).With(" FOR UPDATE")).Scan(&target)
		if errors.Is(err, pgx.ErrNoRows) {
			return dialect.NoRollback(ctx, tx, cur)
		}
		if err != nil {
			return fmt.Errorf("find version to restore: %w", err)
		}
		if k, err = dialect.Restore(ctx, tx, cur, target); err != nil {
			return err
		}
		sqlstore.RollbackEvent(&ev, k)
		tx.Announce(keygate.Change{Kind: keygate.ChangeKey, Owner: owner, Provider: provider})
		return db.appendAudit(ctx, tx, &ev)
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
	err := db.write(ctx, "destroy superseded key versions", func(tx *tx) (err error) {
		for _, lock := range dialect.LockSuperseded(olderThan) {
			if err := tx.QueryStmt(ctx, lock, func(rows sqlstore.Rows) error {
				for rows.Next() {
				}
				return nil
			}); err != nil {
				return fmt.Errorf("lock superseded versions: %w", err)
			}
		}
		n, err = dialect.DestroySuperseded(ctx, tx, olderThan)
		return err
	})
	if err != nil {
		return 0, err
	}
	return int(n), nil
}

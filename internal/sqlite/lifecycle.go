package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

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
// Returns not_found if the owner has no key for provider, and conflict (with
// nothing written) if no version can be restored: there is none older,
// or every older one was destroyed or superseded before notBefore.
func (db *DB) RollbackKey(ctx context.Context, owner keygate.TenantID, provider string, notBefore time.Time, ev keygate.AuditEvent) (keygate.ProviderKey, error) {
	var k keygate.ProviderKey
	err := db.write(ctx, fmt.Sprintf("roll back %s key of %s", provider, owner), func(tx *tx) error {
		cur, err := dialect.ReadKey(ctx, tx, owner, provider)
		if err != nil {
			return err
		}
		var target int
		err = tx.QueryRowStmt(ctx, dialect.RollbackTarget(cur, notBefore)).Scan(&target)
		if errors.Is(err, sql.ErrNoRows) {
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
	err := db.write(ctx, "destroy superseded key versions", func(tx *tx) (err error) {
		n, err = dialect.DestroySuperseded(ctx, tx, olderThan)
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

// SPDX-License-Identifier: Apache-2.0

package sqlite

import (
	"context"
	"time"
)

// DestroySuperseded erases superseded key versions as sqlstore.Store does,
// then makes the erasure physical: secure_delete overwrites the erased
// bytes in the database pages, and when something was destroyed a WAL
// checkpoint (TRUNCATE) empties the write-ahead log, which still holds the
// pages as they were written. A checkpoint that cannot complete (a long
// reader) is logged, not an error: the versions are destroyed either way,
// and the next checkpoint rewrites the log.
func (db *DB) DestroySuperseded(ctx context.Context, olderThan time.Time) (int, error) {
	n, err := db.Store.DestroySuperseded(ctx, olderThan)
	if err != nil {
		return 0, err
	}
	if n > 0 {
		db.checkpoint(ctx)
	}
	return n, nil
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

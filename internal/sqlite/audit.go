package sqlite

import (
	"context"
	"fmt"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/sqlstore"
)

// appendAudit appends ev inside tx: it fills ev's Seq, Time (the
// transaction's time), ID (if empty), PrevHash and Hash, inserts the row and
// moves the head. Appends serialize because the write transaction holds the
// database's write lock.
func (db *DB) appendAudit(ctx context.Context, tx *tx, ev *keygate.AuditEvent) error {
	var seq int64
	var prev string
	if err := tx.QueryRowStmt(ctx, dialect.AuditHead()).Scan(&seq, &prev); err != nil {
		return fmt.Errorf("read audit head: %w", err)
	}
	if err := sqlstore.ChainAudit(ev, seq, prev, tx.now, db.ids); err != nil {
		return err
	}
	return dialect.WriteAudit(ctx, tx, *ev, func(err error) bool { return isUnique(err, "audit_events.id") })
}

// AppendAudit appends ev on its own and returns it as stored.
func (db *DB) AppendAudit(ctx context.Context, ev keygate.AuditEvent) (keygate.AuditEvent, error) {
	err := db.write(ctx, "append audit event", func(tx *tx) error {
		if err := db.appendAudit(ctx, tx, &ev); err != nil {
			return err
		}
		tx.Announce(keygate.Change{Kind: keygate.ChangeAudit, Owner: ev.Tenant, ID: ev.ID})
		return nil
	})
	if err != nil {
		return keygate.AuditEvent{}, err
	}
	return ev, nil
}

package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/keygate/keygate"
)

// Paging bounds of ListAudit (the contract's) and ScanAudit (ours).
const (
	listAuditDefault = 100
	listAuditMax     = 1000
	scanAuditDefault = 1000
	scanAuditMax     = 10000
)

const auditColumns = `seq, id, time, actor_id, actor_name, tenant_id, provider, action,
	key_id, version, hint, fingerprint, request_id, detail, prev_hash, hash`

// appendAudit appends ev inside tx: it locks the audit head row (so appends
// serialize, across replicas too), fills ev's Seq, Time (the transaction's
// time), ID (if empty), PrevHash and Hash, inserts the row and moves the
// head.
func (db *DB) appendAudit(ctx context.Context, tx *tx, ev *keygate.AuditEvent) error {
	if ev.Action == "" {
		return errors.New("append audit: event has no action")
	}
	var seq int64
	var prev string
	if err := tx.QueryRow(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE`).Scan(&seq, &prev); err != nil {
		return fmt.Errorf("lock audit head: %w", err)
	}
	if ev.ID == "" {
		id, err := db.ids.newID("ev_")
		if err != nil {
			return err
		}
		ev.ID = id
	}
	ev.Seq = seq + 1
	ev.Time = tx.now
	ev.PrevHash = prev
	ev.Hash = ev.ComputeHash(prev)
	_, err := tx.Exec(ctx, `INSERT INTO audit_events (`+auditColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
		ev.Seq, ev.ID, ev.Time, ev.ActorID, ev.ActorName, string(ev.Tenant), ev.Provider, ev.Action,
		ev.KeyID, ev.Version, ev.Hint, ev.Fingerprint, ev.RequestID, ev.Detail, ev.PrevHash, ev.Hash)
	if err != nil {
		if isUnique(err, "audit_events_id_key") {
			return keygate.Errorf(keygate.CodeConflict, "Audit event %s already exists.", quote(ev.ID))
		}
		return fmt.Errorf("insert audit event %d: %w", ev.Seq, err)
	}
	if _, err := tx.Exec(ctx, `UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1`, ev.Seq, ev.Hash); err != nil {
		return fmt.Errorf("move audit head: %w", err)
	}
	return nil
}

// AppendAudit appends ev on its own and returns it as stored.
func (db *DB) AppendAudit(ctx context.Context, ev keygate.AuditEvent) (keygate.AuditEvent, error) {
	err := db.write(ctx, "append audit event", func(tx *tx) error {
		return db.appendAudit(ctx, tx, &ev)
	})
	if err != nil {
		return keygate.AuditEvent{}, err
	}
	return ev, nil
}

// ListAudit returns the events matching f, newest first, at most f.Limit
// (default 100, maximum 1000).
func (db *DB) ListAudit(ctx context.Context, f keygate.AuditFilter) ([]keygate.AuditEvent, error) {
	var where []string
	var args []any
	add := func(cond string, arg any) {
		args = append(args, arg)
		where = append(where, cond+" $"+strconv.Itoa(len(args)))
	}
	if f.Tenant != "" {
		add("tenant_id =", string(f.Tenant))
	}
	if f.Provider != "" {
		add("provider =", f.Provider)
	}
	if f.Action != "" {
		add("action =", f.Action)
	}
	if !f.Since.IsZero() {
		add("time >=", ceilMicro(f.Since))
	}
	if !f.Until.IsZero() {
		add("time <", ceilMicro(f.Until))
	}
	if f.BeforeSeq > 0 {
		add("seq <", f.BeforeSeq)
	}
	q := `SELECT ` + auditColumns + ` FROM audit_events`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	args = append(args, clamp(f.Limit, listAuditDefault, listAuditMax))
	q += ` ORDER BY seq DESC LIMIT $` + strconv.Itoa(len(args))
	return db.queryAudit(ctx, "list audit events", q, args...)
}

// ScanAudit returns up to limit events (default 1000, maximum 10000) with
// Seq > afterSeq, oldest first.
func (db *DB) ScanAudit(ctx context.Context, afterSeq int64, limit int) ([]keygate.AuditEvent, error) {
	return db.queryAudit(ctx, "scan audit events",
		`SELECT `+auditColumns+` FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2`,
		afterSeq, clamp(limit, scanAuditDefault, scanAuditMax))
}

// AuditHead returns the recorded head of the chain: 0 and "" when empty.
func (db *DB) AuditHead(ctx context.Context) (seq int64, hash string, err error) {
	err = db.read(ctx, "read audit head", func(tx *tx) error {
		return tx.QueryRow(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&seq, &hash)
	})
	return seq, hash, err
}

func (db *DB) queryAudit(ctx context.Context, what, q string, args ...any) ([]keygate.AuditEvent, error) {
	var evs []keygate.AuditEvent
	err := db.read(ctx, what, func(tx *tx) error {
		rows, err := tx.Query(ctx, q, args...)
		if err != nil {
			return err
		}
		evs, err = pgx.CollectRows(rows, scanAudit)
		return err
	})
	return evs, err
}

func scanAudit(row pgx.CollectableRow) (keygate.AuditEvent, error) {
	var ev keygate.AuditEvent
	var tenant string
	err := row.Scan(&ev.Seq, &ev.ID, tsDest{&ev.Time}, &ev.ActorID, &ev.ActorName, &tenant, &ev.Provider, &ev.Action,
		&ev.KeyID, &ev.Version, &ev.Hint, &ev.Fingerprint, &ev.RequestID, &ev.Detail, &ev.PrevHash, &ev.Hash)
	ev.Tenant = keygate.TenantID(tenant)
	return ev, err
}

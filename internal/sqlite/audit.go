package sqlite

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

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

// appendAudit appends ev inside tx: it fills ev's Seq, Time (the
// transaction's time), ID (if empty), PrevHash and Hash, inserts the row and
// moves the head. Appends serialize because the write transaction holds the
// database's write lock.
func (db *DB) appendAudit(ctx context.Context, tx *tx, ev *keygate.AuditEvent) error {
	if ev.Action == "" {
		return errors.New("append audit: event has no action")
	}
	var seq int64
	var prev string
	if err := tx.QueryRowContext(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&seq, &prev); err != nil {
		return fmt.Errorf("read audit head: %w", err)
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
	_, err := tx.ExecContext(ctx, `INSERT INTO audit_events (`+auditColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		ev.Seq, ev.ID, ev.Time.UnixMicro(), ev.ActorID, ev.ActorName, string(ev.Tenant), ev.Provider, ev.Action,
		ev.KeyID, ev.Version, ev.Hint, ev.Fingerprint, ev.RequestID, ev.Detail, ev.PrevHash, ev.Hash)
	if err != nil {
		if isUnique(err, "audit_events.id") {
			return keygate.Errorf(keygate.CodeConflict, "Audit event %s already exists.", quote(ev.ID))
		}
		return fmt.Errorf("insert audit event %d: %w", ev.Seq, err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1`, ev.Seq, ev.Hash); err != nil {
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
		where = append(where, cond)
		args = append(args, arg)
	}
	if f.Tenant != "" {
		add("tenant_id = ?", string(f.Tenant))
	}
	if f.Provider != "" {
		add("provider = ?", f.Provider)
	}
	if f.Action != "" {
		add("action = ?", f.Action)
	}
	if !f.Since.IsZero() {
		add("time >= ?", ceilMicro(f.Since))
	}
	if !f.Until.IsZero() {
		add("time < ?", ceilMicro(f.Until))
	}
	if f.BeforeSeq > 0 {
		add("seq < ?", f.BeforeSeq)
	}
	q := `SELECT ` + auditColumns + ` FROM audit_events`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY seq DESC LIMIT ?`
	args = append(args, clamp(f.Limit, listAuditDefault, listAuditMax))
	return db.queryAudit(ctx, "list audit events", q, args...)
}

// ScanAudit returns up to limit events (default 1000, maximum 10000) with
// Seq > afterSeq, oldest first.
func (db *DB) ScanAudit(ctx context.Context, afterSeq int64, limit int) ([]keygate.AuditEvent, error) {
	return db.queryAudit(ctx, "scan audit events",
		`SELECT `+auditColumns+` FROM audit_events WHERE seq > ? ORDER BY seq LIMIT ?`,
		afterSeq, clamp(limit, scanAuditDefault, scanAuditMax))
}

// AuditHead returns the recorded head of the chain: 0 and "" when empty.
func (db *DB) AuditHead(ctx context.Context) (seq int64, hash string, err error) {
	err = db.read(ctx, "read audit head", func(tx *tx) error {
		return tx.QueryRowContext(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&seq, &hash)
	})
	return seq, hash, err
}

func (db *DB) queryAudit(ctx context.Context, what, q string, args ...any) ([]keygate.AuditEvent, error) {
	var evs []keygate.AuditEvent
	err := db.read(ctx, what, func(tx *tx) error {
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			ev, err := scanAudit(rows)
			if err != nil {
				return err
			}
			evs = append(evs, ev)
		}
		return rows.Err()
	})
	return evs, err
}

func scanAudit(s scanner) (keygate.AuditEvent, error) {
	var ev keygate.AuditEvent
	var tenant string
	err := s.Scan(&ev.Seq, &ev.ID, microTime{&ev.Time}, &ev.ActorID, &ev.ActorName, &tenant, &ev.Provider, &ev.Action,
		&ev.KeyID, &ev.Version, &ev.Hint, &ev.Fingerprint, &ev.RequestID, &ev.Detail, &ev.PrevHash, &ev.Hash)
	ev.Tenant = keygate.TenantID(tenant)
	return ev, err
}

// ceilMicro returns t in unix microseconds, rounded up, so that comparing
// stored (whole-microsecond) times against it means the same as comparing
// against t itself.
func ceilMicro(t time.Time) int64 {
	us := t.UnixMicro()
	if t.Sub(time.UnixMicro(us)) > 0 {
		us++
	}
	return us
}

// clamp applies a default to n <= 0 and caps it at hi.
func clamp(n, def, hi int) int {
	if n <= 0 {
		return def
	}
	return min(n, hi)
}

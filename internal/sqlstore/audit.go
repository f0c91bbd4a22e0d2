// SPDX-License-Identifier: Apache-2.0

package sqlstore

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
	key_id, version, hint, fingerprint, request_id, detail, prev_hash, hash, mac_key_id`

// AuditHead selects the head of the chain: seq and hash, 0 and "" when
// empty. A backend that must serialize appends locks it (With).
func (d Dialect) AuditHead() Stmt {
	return Stmt{SQL: `SELECT seq, hash FROM audit_head WHERE id = 1`}
}

// ChainAudit makes ev the successor of the head (seq, prev) at now: it
// fills ev's Seq, Time, ID (when empty, from ids), PrevHash, Hash and,
// with a sealer, MACKeyID: the hash is then the sealer's keyed MAC, and
// without one the plain SHA-256 of ComputeHash. Returns an error for an
// event without an action, if no id can be minted, or the sealer's.
func ChainAudit(ev *keygate.AuditEvent, seq int64, prev string, now time.Time, ids IDs, sealer keygate.AuditSealer) error {
	if ev.Action == "" {
		return errors.New("append audit: event has no action")
	}
	if ev.ID == "" {
		id, err := ids.New("ev_")
		if err != nil {
			return err
		}
		ev.ID = id
	}
	ev.Seq = seq + 1
	ev.Time = now
	ev.PrevHash = prev
	if sealer == nil {
		ev.MACKeyID = ""
		ev.Hash = ev.ComputeHash(prev)
		return nil
	}
	if err := sealer.SealAudit(ev, prev); err != nil {
		return fmt.Errorf("seal audit event %d: %w", ev.Seq, err)
	}
	return nil
}

// WriteAudit inserts ev, chained by ChainAudit, in tx and makes it the
// head of the chain. dupID is the backend's test for an insert error that
// violates the uniqueness of the event id: that is conflict.
func (d Dialect) WriteAudit(ctx context.Context, tx Tx, ev keygate.AuditEvent, dupID func(error) bool) error {
	_, err := tx.ExecStmt(ctx, Stmt{d.render(`INSERT INTO audit_events (` + auditColumns + `)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		[]any{ev.Seq, ev.ID, d.timeArg(ev.Time), ev.ActorID, ev.ActorName, string(ev.Tenant), ev.Provider, ev.Action,
			ev.KeyID, ev.Version, ev.Hint, ev.Fingerprint, ev.RequestID, ev.Detail, ev.PrevHash, ev.Hash, ev.MACKeyID}})
	if err != nil {
		if dupID(err) {
			return keygate.Errorf(keygate.CodeConflict, "Audit event %s already exists.", Quote(ev.ID))
		}
		return fmt.Errorf("insert audit event %d: %w", ev.Seq, err)
	}
	if _, err := tx.ExecStmt(ctx, Stmt{d.render(`UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1`),
		[]any{ev.Seq, ev.Hash}}); err != nil {
		return fmt.Errorf("move audit head: %w", err)
	}
	return nil
}

// listAudit selects the events matching f, newest first, at most f.Limit
// (default 100, maximum 1000).
func (d Dialect) listAudit(f keygate.AuditFilter) Stmt {
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
		add("time >= ?", d.bound(f.Since))
	}
	if !f.Until.IsZero() {
		add("time < ?", d.bound(f.Until))
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
	return Stmt{d.render(q), args}
}

// scanAuditAfter selects up to limit events (default 1000, maximum 10000)
// with Seq > afterSeq, oldest first.
func (d Dialect) scanAuditAfter(afterSeq int64, limit int) Stmt {
	return Stmt{d.render(`SELECT ` + auditColumns + ` FROM audit_events WHERE seq > ? ORDER BY seq LIMIT ?`),
		[]any{afterSeq, clamp(limit, scanAuditDefault, scanAuditMax)}}
}

// scanAuditEvent reads a row of listAudit or scanAuditAfter.
func scanAuditEvent(row Row) (keygate.AuditEvent, error) {
	var ev keygate.AuditEvent
	var tenant string
	err := row.Scan(&ev.Seq, &ev.ID, timeDest{&ev.Time}, &ev.ActorID, &ev.ActorName, &tenant, &ev.Provider, &ev.Action,
		&ev.KeyID, &ev.Version, &ev.Hint, &ev.Fingerprint, &ev.RequestID, &ev.Detail, &ev.PrevHash, &ev.Hash, &ev.MACKeyID)
	ev.Tenant = keygate.TenantID(tenant)
	return ev, err
}

// appendAudit appends ev inside tx: it locks the audit head row (so appends
// serialize, across replicas too; on SQLite the write lock already does),
// fills ev's Seq, Time (the transaction's time), ID (if empty), PrevHash
// and Hash, inserts the row and moves the head.
func (s *Store) appendAudit(ctx context.Context, tx Tx, ev *keygate.AuditEvent) error {
	var seq int64
	var prev string
	if err := tx.QueryRowStmt(ctx, s.d.AuditHead().With(s.d.lock(ForUpdate))).Scan(&seq, &prev); err != nil {
		return fmt.Errorf("lock audit head: %w", err)
	}
	if err := ChainAudit(ev, seq, prev, tx.Now(), s.ids, s.auditSealer()); err != nil {
		return err
	}
	return s.d.WriteAudit(ctx, tx, *ev, func(err error) bool { return tx.Unique(err, s.d.constraint(auditEventsID)) })
}

// sealerBox holds the audit sealer (an interface) for atomic.Pointer.
type sealerBox struct{ s keygate.AuditSealer }

// SealAuditWith makes every event appended from now on sealed by s (a
// keyed MAC) instead of chained with plain SHA-256. The server sets it once
// at start, after the audit keys are loaded and before it serves; nil
// returns to plain hashes (tests of events written before keyed sealing).
func (s *Store) SealAuditWith(sealer keygate.AuditSealer) {
	if sealer == nil {
		s.sealer.Store(nil)
		return
	}
	s.sealer.Store(&sealerBox{sealer})
}

func (s *Store) auditSealer() keygate.AuditSealer {
	if b := s.sealer.Load(); b != nil {
		return b.s
	}
	return nil
}

// AppendAudit appends ev on its own and returns it as stored.
func (s *Store) AppendAudit(ctx context.Context, ev keygate.AuditEvent) (keygate.AuditEvent, error) {
	err := s.r.Write(ctx, "append audit event", func(tx Tx) error {
		if err := s.appendAudit(ctx, tx, &ev); err != nil {
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

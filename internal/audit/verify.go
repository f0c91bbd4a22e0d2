// SPDX-License-Identifier: Apache-2.0

// Package audit checks the audit trail's chain, holds the audit MAC keys
// that seal it (keys.go) and signs and checks checkpoints of its head
// (checkpoint.go).
package audit

import (
	"context"
	"crypto/hmac"
	"encoding/hex"
	"fmt"

	"github.com/keygate/keygate"
)

// Scanner reads the audit trail in order.
type Scanner interface {
	ScanAudit(ctx context.Context, afterSeq int64, limit int) ([]keygate.AuditEvent, error)
	AuditHead(ctx context.Context) (seq int64, hash string, err error)
}

// MACs checks the keyed hashes of sealed events. *Keys implements it.
type MACs interface {
	// CheckMAC reports whether ev's audit key ev.MACKeyID is known and
	// whether ev.Hash is ev's MAC under it, chained onto prev. Errors are
	// storage or master-key failures.
	CheckMAC(ctx context.Context, ev *keygate.AuditEvent, prev string) (known, ok bool, err error)
	// Keyed reports whether audit keys exist: the trail must then end with
	// a sealed event.
	Keyed() bool
}

// Options are what Verify checks besides the chain itself.
type Options struct {
	// MACs checks sealed events; nil: a sealed event cannot be checked and
	// is a problem.
	MACs MACs
	// Checkpoint, when set, is a checkpoint published earlier, whose
	// signature CheckpointOK already checked: the trail must still hold
	// event Checkpoint.Seq with Checkpoint.Hash.
	Checkpoint *Checkpoint
}

// Result is the outcome of a chain check.
type Result struct {
	OK       bool
	Events   int64
	HeadSeq  int64
	HeadHash string
	// Problem describes the first break found; empty when OK.
	Problem string
}

const scanBatch = 500

// Verify walks the whole audit trail and checks that sequence numbers have
// no gaps, that every row's PrevHash is the previous row's Hash, that every
// Hash matches the row's content (the keyed MAC of a sealed row, under its
// audit key; the SHA-256 of a row from before keyed sealing), that no
// unsealed row follows a sealed one, that the last row is the recorded head
// and, when audit keys exist, sealed, and that the trail still holds the
// event of opt.Checkpoint. Deleting the newest rows and moving the head back
// is detected by the checkpoint; rewriting a row and recomputing the rest
// needs the audit key. A broken chain is a Result with OK false, not an
// error; errors are storage failures.
func Verify(ctx context.Context, s Scanner, opt Options) (Result, error) {
	headSeq, headHash, err := s.AuditHead(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("read audit head: %w", err)
	}
	res := Result{HeadSeq: headSeq, HeadHash: headHash}
	var lastSeq, sealedAt int64
	prev, lastKey := "", ""
	cp := opt.Checkpoint
	for {
		evs, err := s.ScanAudit(ctx, lastSeq, scanBatch)
		if err != nil {
			return Result{}, fmt.Errorf("scan audit after %d: %w", lastSeq, err)
		}
		for i := range evs {
			ev := &evs[i]
			switch {
			case ev.Seq != lastSeq+1:
				res.Problem = fmt.Sprintf("event %d is missing (next present is %d)", lastSeq+1, ev.Seq)
			case ev.PrevHash != prev:
				res.Problem = fmt.Sprintf("event %d does not link to event %d", ev.Seq, lastSeq)
			case ev.MACKeyID == "" && sealedAt > 0:
				res.Problem = fmt.Sprintf("event %d is not sealed by an audit key although event %d before it is", ev.Seq, sealedAt)
			case ev.MACKeyID == "" && ev.ComputeHash(prev) != ev.Hash:
				res.Problem = fmt.Sprintf("event %d was altered: its hash does not match its content", ev.Seq)
			case ev.MACKeyID != "":
				res.Problem, err = checkSealed(ctx, opt.MACs, ev, prev)
				if err != nil {
					return Result{}, err
				}
				sealedAt = ev.Seq
			}
			if res.Problem == "" && cp != nil && ev.Seq == cp.Seq && !equalHex(ev.Hash, cp.Hash) {
				res.Problem = fmt.Sprintf("event %d differs from the checkpoint of %s: the trail was rewritten", ev.Seq, cp.Time.UTC().Format("2006-01-02T15:04:05Z"))
			}
			if res.Problem != "" {
				return res, nil
			}
			res.Events++
			lastSeq, prev, lastKey = ev.Seq, ev.Hash, ev.MACKeyID
		}
		if len(evs) < scanBatch {
			break
		}
	}
	switch {
	case lastSeq != headSeq || prev != headHash:
		res.Problem = fmt.Sprintf("the trail ends at event %d but the recorded head is event %d", lastSeq, headSeq)
	case cp != nil && lastSeq < cp.Seq:
		res.Problem = fmt.Sprintf("the trail ends at event %d but a checkpoint of %s recorded event %d: events were removed", lastSeq, cp.Time.UTC().Format("2006-01-02T15:04:05Z"), cp.Seq)
	case opt.MACs != nil && opt.MACs.Keyed() && lastSeq > 0 && lastKey == "":
		res.Problem = fmt.Sprintf("the newest event %d is not sealed by an audit key although audit keys exist: sealed events were removed", lastSeq)
	}
	if res.Problem != "" {
		return res, nil
	}
	res.OK = true
	return res, nil
}

// checkSealed returns the problem with the sealed event ev, "" if none.
func checkSealed(ctx context.Context, macs MACs, ev *keygate.AuditEvent, prev string) (string, error) {
	if macs == nil {
		return fmt.Sprintf("event %d is sealed by audit key %s, which this check does not hold", ev.Seq, ev.MACKeyID), nil
	}
	known, ok, err := macs.CheckMAC(ctx, ev, prev)
	if err != nil {
		return "", fmt.Errorf("check audit event %d: %w", ev.Seq, err)
	}
	switch {
	case !known:
		return fmt.Sprintf("event %d names audit key %s, which does not exist", ev.Seq, ev.MACKeyID), nil
	case !ok:
		return fmt.Sprintf("event %d was altered: its MAC does not match its content", ev.Seq), nil
	}
	return "", nil
}

// equalHex compares two hex MACs in constant time.
func equalHex(a, b string) bool {
	x, err1 := hex.DecodeString(a)
	y, err2 := hex.DecodeString(b)
	return err1 == nil && err2 == nil && hmac.Equal(x, y)
}

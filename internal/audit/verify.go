// Package audit checks the audit trail's hash chain.
package audit

import (
	"context"
	"fmt"

	"github.com/keygate/keygate"
)

// Scanner reads the audit trail in order.
type Scanner interface {
	ScanAudit(ctx context.Context, afterSeq int64, limit int) ([]keygate.AuditEvent, error)
	AuditHead(ctx context.Context) (seq int64, hash string, err error)
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
// Hash matches the row's content, and that the last row is the recorded
// head (so deleting the newest rows is detected too). A broken chain is a
// Result with OK false, not an error; errors are storage failures.
func Verify(ctx context.Context, s Scanner) (Result, error) {
	headSeq, headHash, err := s.AuditHead(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("read audit head: %w", err)
	}
	res := Result{HeadSeq: headSeq, HeadHash: headHash}
	var lastSeq int64
	prev := ""
	for {
		evs, err := s.ScanAudit(ctx, lastSeq, scanBatch)
		if err != nil {
			return Result{}, fmt.Errorf("scan audit after %d: %w", lastSeq, err)
		}
		for _, ev := range evs {
			switch {
			case ev.Seq != lastSeq+1:
				res.Problem = fmt.Sprintf("event %d is missing (next present is %d)", lastSeq+1, ev.Seq)
			case ev.PrevHash != prev:
				res.Problem = fmt.Sprintf("event %d does not link to event %d", ev.Seq, lastSeq)
			case ev.ComputeHash(prev) != ev.Hash:
				res.Problem = fmt.Sprintf("event %d was altered: its hash does not match its content", ev.Seq)
			}
			if res.Problem != "" {
				return res, nil
			}
			res.Events++
			lastSeq, prev = ev.Seq, ev.Hash
		}
		if len(evs) < scanBatch {
			break
		}
	}
	if lastSeq != headSeq || prev != headHash {
		res.Problem = fmt.Sprintf("the trail ends at event %d but the recorded head is event %d", lastSeq, headSeq)
		return res, nil
	}
	res.OK = true
	return res, nil
}

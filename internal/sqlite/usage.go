package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/bits"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/sqlstore"
)

// InsertUsage appends evs to usage_events and adds them to the usage_hourly
// and usage_daily rollups, in one transaction: either every event and its
// rollup increments are written, or nothing is. An event with a zero Time is
// stamped with the store's clock. Events are not checked against the
// tenants table: usage is billing history and is kept for tenants deleted
// meanwhile. An empty batch writes nothing.
//
// Events are written with multi-row INSERTs of a power-of-two number of
// rows, at most maxEventRows (a batch of 100 is 3 × 32 + 4), each prepared
// once and kept, so SQLite parses none of them again: parsing a fresh
// statement of a few thousand parameters for every batch cost as much as
// writing its rows.
// The rollups get one upsert row per distinct (tenant, provider, model, key
// source, bucket), summed in Go first, so a batch costs a few statements
// rather than a few per event. They are INSERT OR FAIL: a multi-row
// INSERT OR ABORT needs a statement journal (a temporary file, which
// doubled the writes) to undo its own rows on error, and any error here
// rolls the whole transaction back anyway.
func (db *DB) InsertUsage(ctx context.Context, evs []keygate.UsageEvent) error {
	if len(evs) == 0 {
		return nil
	}
	// Prepare before the transaction: the writer pool has one connection,
	// which the transaction holds.
	stmts := map[int]*sql.Stmt{}
	for rest := len(evs); rest > 0; rest -= chunkRows(rest) {
		s, err := db.inserts.get(ctx, db.writer, chunkRows(rest))
		if err != nil {
			return err
		}
		stmts[chunkRows(rest)] = s
	}
	return db.write(ctx, fmt.Sprintf("insert %d usage events", len(evs)), func(tx *tx) error {
		hourly, daily := sqlstore.Rollups{}, sqlstore.Rollups{}
		args := make([]any, 0, min(len(evs), maxEventRows)*eventCols)
		for rest := evs; len(rest) > 0; {
			chunk := rest[:chunkRows(len(rest))]
			rest = rest[len(chunk):]
			args = args[:0]
			for _, ev := range chunk {
				at := sqlstore.UsageTime(ev.Time, tx.now)
				args = append(args, ev.RequestID, at.UnixMicro(), string(ev.Tenant), ev.Provider, ev.Model,
					ev.Route, string(ev.Source), ev.KeyID, ev.KeyVersion, ev.InputTokens, ev.OutputTokens, ev.CachedTokens,
					ev.Status, ev.Latency.Microseconds(), ev.Streamed, ev.Canceled, ev.CostMicros, ev.Billable)
				hourly.Add(ev, at.Truncate(time.Hour))
				daily.Add(ev, sqlstore.UTCDay(at))
			}
			if len(rest)+len(chunk) < len(evs) {
				// Let waiting requests run between chunks: SQLite's work
				// here is plain Go code that otherwise keeps its P for up
				// to a 10 ms time slice, and on a server with one or two
				// CPUs every call queued behind it waits that long (the
				// load harness's open-loop p50 and p99).
				runtime.Gosched()
			}
			if _, err := tx.StmtContext(ctx, stmts[len(chunk)]).ExecContext(ctx, args...); err != nil {
				return fmt.Errorf("insert usage events %s to %s: %w",
					sqlstore.Quote(chunk[0].RequestID), sqlstore.Quote(chunk[len(chunk)-1].RequestID), err)
			}
		}
		if err := upsertRollups(ctx, tx, "usage_hourly", hourly); err != nil {
			return err
		}
		return upsertRollups(ctx, tx, "usage_daily", daily)
	})
}

const (
	// maxVars is the most bound parameters one statement may have: SQLite's
	// SQLITE_MAX_VARIABLE_NUMBER default (32766 since 3.32) with headroom.
	maxVars = 32000
	// eventCols and rollupCols are the parameters one row of usage_events
	// and of a rollup table takes.
	eventCols  = 18
	rollupCols = 11
	// maxEventRows is the most rows one prepared INSERT of events takes (a
	// power of two, well under maxVars/eventCols): about half a millisecond
	// of SQLite's work, after which the ledger yields to requests.
	maxEventRows = 32

	insertEventsSQL = `INSERT OR FAIL INTO usage_events (` + sqlstore.UsageEventColumns + `) VALUES `
)

// chunkRows returns how many of n events the next INSERT takes: the
// largest power of two up to n and maxEventRows.
func chunkRows(n int) int {
	if n >= maxEventRows {
		return maxEventRows
	}
	return 1 << (bits.Len(uint(n)) - 1)
}

// eventInserts keeps the prepared INSERTs of usage events, by row count.
type eventInserts struct {
	mu    sync.Mutex
	stmts map[int]*sql.Stmt
}

// get returns the INSERT of rows events, preparing it on pool the first
// time.
func (e *eventInserts) get(ctx context.Context, pool *sql.DB, rows int) (*sql.Stmt, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if s, ok := e.stmts[rows]; ok {
		return s, nil
	}
	s, err := pool.PrepareContext(ctx, insertEventsSQL+valuesList(rows, eventCols))
	if err != nil {
		return nil, fmt.Errorf("prepare insert of %d usage events: %w", rows, err)
	}
	if e.stmts == nil {
		e.stmts = map[int]*sql.Stmt{}
	}
	e.stmts[rows] = s
	return s, nil
}

// close releases the prepared statements.
func (e *eventInserts) close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	var errs []error
	for _, s := range e.stmts {
		errs = append(errs, s.Close())
	}
	e.stmts = nil
	return errors.Join(errs...)
}

// maxRows returns how many rows of cols parameters fit in one statement.
func maxRows(cols int) int { return maxVars / cols }

// valuesList returns the VALUES list of rows rows of cols parameters each:
// "(?, ?), (?, ?)".
func valuesList(rows, cols int) string {
	row := "(" + strings.Repeat("?, ", cols-1) + "?)"
	var b strings.Builder
	b.Grow(rows * (len(row) + 2))
	for i := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
	}
	return b.String()
}

// upsertRollups adds m to the rollup table with multi-row upserts, one row
// per key of m, in primary-key order.
func upsertRollups(ctx context.Context, tx *tx, table string, m sqlstore.Rollups) error {
	keys := m.Keys()
	args := make([]any, 0, min(len(keys), maxRows(rollupCols))*rollupCols)
	for chunk := range slices.Chunk(keys, maxRows(rollupCols)) {
		args = args[:0]
		for _, k := range chunk {
			r := m[k]
			args = append(args, k.Tenant, k.Provider, k.Model, k.Source, k.Bucket.UnixMicro(),
				r.Requests, r.Input, r.Output, r.Cached, r.Cost, r.Billable)
		}
		if _, err := tx.ExecContext(ctx, `INSERT OR FAIL INTO `+table+` AS r (`+sqlstore.RollupColumns+`)
			VALUES `+valuesList(len(chunk), rollupCols)+sqlstore.RollupConflict, args...); err != nil {
			return fmt.Errorf("upsert %d %s rows: %w", len(chunk), table, err)
		}
	}
	return nil
}

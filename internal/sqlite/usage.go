// SPDX-License-Identifier: Apache-2.0

package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/bits"
	"runtime"
	"strings"
	"sync"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/sqlstore"
)

// InsertUsage appends evs to usage_events and adds them to the usage_hourly
// and usage_daily rollups, in one transaction (sqlstore.Store.WriteUsage
// says what is written; this is how SQLite writes it fastest).
//
// Events are written with multi-row INSERTs of a power-of-two number of
// rows, at most maxChunkRows (a batch of 100 is 3 × 32 + 4), each prepared
// once and kept, so SQLite parses none of them again: parsing a fresh
// statement of a few thousand parameters for every batch cost as much as
// writing its rows.
// The rollups get one upsert row per distinct (tenant, provider, model, key
// source, bucket), summed in Go first, so a batch costs a few statements
// rather than a few per event; they are cut and prepared the same way,
// since a batch of calls from many tenants has as many rollup rows as
// events. They are INSERT OR FAIL: a multi-row INSERT OR ABORT needs a
// statement journal (a temporary file, which doubled the writes) to undo
// its own rows on error, and any error here rolls the whole transaction
// back anyway.
func (db *DB) InsertUsage(ctx context.Context, evs []keygate.UsageEvent) error {
	if len(evs) == 0 {
		return nil
	}
	// Prepare before the transaction: the writer pool has one connection,
	// which the transaction holds.
	stmts, err := db.inserts.get(ctx, db.writer)
	if err != nil {
		return err
	}
	return db.WriteUsage(ctx, evs, func(ctx context.Context, stx sqlstore.Tx, b *sqlstore.UsageBatch) error {
		tx := stx.(*tx) // the runner hands fn its own transaction
		args := make([]any, 0, min(len(evs), maxChunkRows)*eventCols)
		for start := 0; start < len(evs); {
			n := chunkRows(len(evs) - start)
			chunk := evs[start : start+n]
			args = args[:0]
			for i, ev := range chunk {
				at := b.At(start + i)
				args = append(args, ev.RequestID, at.UnixMicro(), string(ev.Tenant), ev.Provider, ev.Model,
					ev.Route, string(ev.Source), ev.KeyID, ev.KeyVersion, ev.InputTokens, ev.OutputTokens, ev.CachedTokens,
					ev.Status, ev.Latency.Microseconds(), ev.Streamed, ev.Canceled, ev.CostMicros, ev.Billable, ev.EndUser, ev.TokenID, sqlstore.PricedColumn(ev))
			}
			if start > 0 {
				yield()
			}
			start += n
			if _, err := tx.StmtContext(ctx, stmts.events[len(chunk)]).ExecContext(ctx, args...); err != nil {
				return fmt.Errorf("insert usage events %s to %s: %w",
					sqlstore.Quote(chunk[0].RequestID), sqlstore.Quote(chunk[len(chunk)-1].RequestID), err)
			}
		}
		if err := upsertRollups(ctx, tx, "usage_hourly", stmts.hourly, b.Hourly); err != nil {
			return err
		}
		return upsertRollups(ctx, tx, "usage_daily", stmts.daily, b.Daily)
	})
}

// yield lets waiting requests run between two statements of a batch:
// SQLite's work here is plain Go code that otherwise keeps its P for up to
// a 10 ms time slice, and on a server with one or two CPUs every call
// queued behind it waits that long (the load harness's open-loop p50 and
// p99).
func yield() { runtime.Gosched() }

const (
	// eventCols and rollupCols are the parameters one row of usage_events
	// and of a rollup table takes.
	eventCols  = 21
	rollupCols = 13
	// maxChunkRows is the most rows one prepared INSERT takes (a power of
	// two; 608 parameters, far under SQLite's limit of 32766): about half a
	// millisecond of SQLite's work, after which the ledger yields to
	// requests.
	maxChunkRows = 32

	insertEventsSQL = `INSERT OR FAIL INTO usage_events (` + sqlstore.UsageEventColumns + `) VALUES `
)

// chunkRows returns how many of n rows the next INSERT takes: the largest
// power of two up to n and maxChunkRows.
func chunkRows(n int) int {
	if n >= maxChunkRows {
		return maxChunkRows
	}
	return 1 << (bits.Len(uint(n)) - 1)
}

// usageStatements are the prepared INSERTs of the usage ledger, by row
// count: 1, 2, 4, ... maxChunkRows.
type usageStatements struct {
	events, hourly, daily map[int]*sql.Stmt
}

// usageInserts prepares the usage ledger's statements once and keeps them.
type usageInserts struct {
	mu    sync.Mutex
	stmts *usageStatements
}

// get returns the prepared statements, preparing them on pool the first
// time (and again after a failed first time).
func (u *usageInserts) get(ctx context.Context, pool *sql.DB) (*usageStatements, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.stmts != nil {
		return u.stmts, nil
	}
	st := &usageStatements{events: map[int]*sql.Stmt{}, hourly: map[int]*sql.Stmt{}, daily: map[int]*sql.Stmt{}}
	for rows := 1; rows <= maxChunkRows; rows *= 2 {
		for _, q := range []struct {
			into map[int]*sql.Stmt
			what string
			text string
		}{
			{st.events, "usage events", insertEventsSQL + valuesList(rows, eventCols)},
			{st.hourly, "usage_hourly rows", rollupUpsertSQL("usage_hourly", rows)},
			{st.daily, "usage_daily rows", rollupUpsertSQL("usage_daily", rows)},
		} {
			s, err := pool.PrepareContext(ctx, q.text)
			if err != nil {
				return nil, errors.Join(fmt.Errorf("prepare insert of %d %s: %w", rows, q.what, err), st.close())
			}
			q.into[rows] = s
		}
	}
	u.stmts = st
	return st, nil
}

// close releases the prepared statements.
func (u *usageInserts) close() error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.stmts == nil {
		return nil
	}
	err := u.stmts.close()
	u.stmts = nil
	return err
}

func (st *usageStatements) close() error {
	var errs []error
	for _, m := range []map[int]*sql.Stmt{st.events, st.hourly, st.daily} {
		for _, s := range m {
			errs = append(errs, s.Close())
		}
	}
	return errors.Join(errs...)
}

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

// rollupUpsertSQL is the upsert of rows rows into a rollup table.
func rollupUpsertSQL(table string, rows int) string {
	return `INSERT OR FAIL INTO ` + table + ` AS r (` + sqlstore.RollupColumns + `)
			VALUES ` + valuesList(rows, rollupCols) + sqlstore.RollupConflict
}

// upsertRollups adds m to the rollup table with the prepared multi-row
// upserts stmts, one row per key of m, in primary-key order.
func upsertRollups(ctx context.Context, tx *tx, table string, stmts map[int]*sql.Stmt, m sqlstore.Rollups) error {
	keys := m.Keys()
	args := make([]any, 0, min(len(keys), maxChunkRows)*rollupCols)
	for rest := keys; len(rest) > 0; {
		chunk := rest[:chunkRows(len(rest))]
		rest = rest[len(chunk):]
		args = args[:0]
		for _, k := range chunk {
			r := m[k]
			args = append(args, k.Tenant, k.Provider, k.Model, k.Source, k.Bucket.UnixMicro(),
				r.Requests, r.Input, r.Output, r.Cached, r.Cost, r.Billable, r.Estimated, r.Unpriced)
		}
		if len(rest) > 0 {
			yield()
		}
		if _, err := tx.StmtContext(ctx, stmts[len(chunk)]).ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("upsert %d %s rows: %w", len(chunk), table, err)
		}
	}
	return nil
}

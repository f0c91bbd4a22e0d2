package sqlite

import (
	"context"
	"fmt"
	"slices"
	"strings"
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
// Events are written with multi-row INSERTs of up to maxRows rows, and the
// rollups get one upsert row per distinct (tenant, provider, model, key
// source, bucket), summed in Go first, so a batch costs a few statements
// rather than a few per event. They are INSERT OR FAIL: a multi-row
// INSERT OR ABORT needs a statement journal (a temporary file, which
// doubled the writes) to undo its own rows on error, and any error here
// rolls the whole transaction back anyway.
func (db *DB) InsertUsage(ctx context.Context, evs []keygate.UsageEvent) error {
	if len(evs) == 0 {
		return nil
	}
	return db.write(ctx, fmt.Sprintf("insert %d usage events", len(evs)), func(tx *tx) error {
		hourly, daily := sqlstore.Rollups{}, sqlstore.Rollups{}
		args := make([]any, 0, min(len(evs), maxRows(eventCols))*eventCols)
		for chunk := range slices.Chunk(evs, maxRows(eventCols)) {
			args = args[:0]
			for _, ev := range chunk {
				at := sqlstore.UsageTime(ev.Time, tx.now)
				args = append(args, ev.RequestID, at.UnixMicro(), string(ev.Tenant), ev.Provider, ev.Model,
					ev.Route, string(ev.Source), ev.KeyID, ev.KeyVersion, ev.InputTokens, ev.OutputTokens, ev.CachedTokens,
					ev.Status, ev.Latency.Microseconds(), ev.Streamed, ev.Canceled, ev.CostMicros, ev.Billable)
				hourly.Add(ev, at.Truncate(time.Hour))
				daily.Add(ev, sqlstore.UTCDay(at))
			}
			if _, err := tx.ExecContext(ctx, insertEventsSQL+valuesList(len(chunk), eventCols), args...); err != nil {
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

	insertEventsSQL = `INSERT OR FAIL INTO usage_events (` + sqlstore.UsageEventColumns + `) VALUES `
)

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

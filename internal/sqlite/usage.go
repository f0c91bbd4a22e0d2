package sqlite

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/keygate/keygate"
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
		hourly := map[rollupKey]*rollup{}
		daily := map[rollupKey]*rollup{}
		args := make([]any, 0, min(len(evs), maxRows(eventCols))*eventCols)
		for chunk := range slices.Chunk(evs, maxRows(eventCols)) {
			args = args[:0]
			for _, ev := range chunk {
				at := usageTime(ev.Time, tx.now)
				args = append(args, ev.RequestID, at.UnixMicro(), string(ev.Tenant), ev.Provider, ev.Model,
					ev.Route, string(ev.Source), ev.KeyID, ev.KeyVersion, ev.InputTokens, ev.OutputTokens, ev.CachedTokens,
					ev.Status, ev.Latency.Microseconds(), ev.Streamed, ev.Canceled, ev.CostMicros, ev.Billable)
				addRollup(hourly, ev, at.Truncate(time.Hour))
				addRollup(daily, ev, utcDay(at))
			}
			if _, err := tx.ExecContext(ctx, insertEventsSQL+valuesList(len(chunk), eventCols), args...); err != nil {
				return fmt.Errorf("insert usage events %s to %s: %w",
					quote(chunk[0].RequestID), quote(chunk[len(chunk)-1].RequestID), err)
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

	insertEventsSQL = `INSERT OR FAIL INTO usage_events
		(request_id, time, tenant_id, provider, model, route, key_source, key_id, key_version,
		input_tokens, output_tokens, cached_tokens, status, latency_us, streamed, canceled, cost_micros, billable)
		VALUES `
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

// usageTime is the time an event is recorded at: its own, in UTC at
// microsecond precision, or now when it has none.
func usageTime(t, now time.Time) time.Time {
	if t.IsZero() {
		return now
	}
	return t.UTC().Truncate(time.Microsecond)
}

// utcDay returns the UTC midnight that starts t's day.
func utcDay(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// rollupKey is the primary key of a rollup row.
type rollupKey struct {
	tenant, provider, model, source string
	bucket                          time.Time
}

// rollup is what a batch adds to one rollup row.
type rollup struct {
	requests, input, output, cached, cost, billable int64
}

func addRollup(m map[rollupKey]*rollup, ev keygate.UsageEvent, bucket time.Time) {
	k := rollupKey{string(ev.Tenant), ev.Provider, ev.Model, string(ev.Source), bucket}
	r := m[k]
	if r == nil {
		r = &rollup{}
		m[k] = r
	}
	r.requests++
	r.input += ev.InputTokens
	r.output += ev.OutputTokens
	r.cached += ev.CachedTokens
	r.cost += ev.CostMicros
	if ev.Billable {
		r.billable += ev.CostMicros
	}
}

// sortedKeys returns the keys of m in primary-key order, so that every
// writer touches rollup rows in the same order (which PostgreSQL needs to
// avoid deadlocks, and which keeps SQLite's writes deterministic).
func sortedKeys(m map[rollupKey]*rollup) []rollupKey {
	return slices.SortedFunc(maps.Keys(m), func(a, b rollupKey) int {
		return cmp.Or(strings.Compare(a.tenant, b.tenant), strings.Compare(a.provider, b.provider),
			strings.Compare(a.model, b.model), strings.Compare(a.source, b.source), a.bucket.Compare(b.bucket))
	})
}

// upsertRollups adds m to the rollup table with multi-row upserts, one row
// per key of m, in primary-key order.
func upsertRollups(ctx context.Context, tx *tx, table string, m map[rollupKey]*rollup) error {
	keys := sortedKeys(m)
	args := make([]any, 0, min(len(keys), maxRows(rollupCols))*rollupCols)
	for chunk := range slices.Chunk(keys, maxRows(rollupCols)) {
		args = args[:0]
		for _, k := range chunk {
			r := m[k]
			args = append(args, k.tenant, k.provider, k.model, k.source, k.bucket.UnixMicro(),
				r.requests, r.input, r.output, r.cached, r.cost, r.billable)
		}
		if _, err := tx.ExecContext(ctx, `INSERT OR FAIL INTO `+table+` AS r
			(tenant_id, provider, model, key_source, bucket_start,
			requests, input_tokens, output_tokens, cached_tokens, cost_micros, billable_cost_micros)
			VALUES `+valuesList(len(chunk), rollupCols)+`
			ON CONFLICT (tenant_id, provider, model, key_source, bucket_start) DO UPDATE SET
			requests = r.requests + excluded.requests,
			input_tokens = r.input_tokens + excluded.input_tokens,
			output_tokens = r.output_tokens + excluded.output_tokens,
			cached_tokens = r.cached_tokens + excluded.cached_tokens,
			cost_micros = r.cost_micros + excluded.cost_micros,
			billable_cost_micros = r.billable_cost_micros + excluded.billable_cost_micros`, args...); err != nil {
			return fmt.Errorf("upsert %d %s rows: %w", len(chunk), table, err)
		}
	}
	return nil
}

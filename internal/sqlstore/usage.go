// SPDX-License-Identifier: Apache-2.0

package sqlstore

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

// UsageEventColumns are the usage_events columns InsertUsage writes, in
// the order both backends pass them.
const UsageEventColumns = `request_id, time, tenant_id, provider, model, route, key_source, key_id, key_version,
	input_tokens, output_tokens, cached_tokens, status, latency_us, streamed, canceled, cost_micros, billable, end_user, token_id, priced`

// RollupColumns are the columns of a rollup table (usage_hourly,
// usage_daily): the primary key, then the sums, in the order of RollupKey
// and Rollup.
const RollupColumns = `tenant_id, provider, model, key_source, bucket_start,
	requests, input_tokens, output_tokens, cached_tokens, cost_micros, billable_cost_micros,
	estimated_requests, unpriced_requests`

// RollupConflict ends an "INSERT INTO <rollup table> AS r" so that a row
// whose key exists adds its sums to the stored ones.
const RollupConflict = `
	ON CONFLICT (tenant_id, provider, model, key_source, bucket_start) DO UPDATE SET
	requests = r.requests + excluded.requests,
	input_tokens = r.input_tokens + excluded.input_tokens,
	output_tokens = r.output_tokens + excluded.output_tokens,
	cached_tokens = r.cached_tokens + excluded.cached_tokens,
	cost_micros = r.cost_micros + excluded.cost_micros,
	billable_cost_micros = r.billable_cost_micros + excluded.billable_cost_micros,
	estimated_requests = r.estimated_requests + excluded.estimated_requests,
	unpriced_requests = r.unpriced_requests + excluded.unpriced_requests`

// UsageTime is the time an event is recorded at: its own, in UTC at
// microsecond precision, or now when it has none.
func UsageTime(t, now time.Time) time.Time {
	if t.IsZero() {
		return now
	}
	return t.UTC().Truncate(time.Microsecond)
}

// UTCDay returns the UTC midnight that starts t's day.
func UTCDay(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// RollupKey is the primary key of a rollup row.
type RollupKey struct {
	Tenant, Provider, Model, Source string
	Bucket                          time.Time
}

// Rollup is what a batch adds to one rollup row.
type Rollup struct {
	Requests, Input, Output, Cached, Cost, Billable int64
	// Estimated and Unpriced count the calls priced at a fallback price
	// and not priced at all (keygate.UsageEvent.Priced).
	Estimated, Unpriced int64
}

// Rollups is what a batch of usage events adds to one rollup table, by
// row: summed in Go first, so that a batch writes each row once.
type Rollups map[RollupKey]*Rollup

// Add adds ev to the row of its tenant, provider, model, key source and
// bucket.
func (m Rollups) Add(ev keygate.UsageEvent, bucket time.Time) {
	k := RollupKey{string(ev.Tenant), ev.Provider, ev.Model, string(ev.Source), bucket}
	r := m[k]
	if r == nil {
		r = &Rollup{}
		m[k] = r
	}
	r.Requests++
	r.Input += ev.InputTokens
	r.Output += ev.OutputTokens
	r.Cached += ev.CachedTokens
	r.Cost += ev.CostMicros
	if ev.Billable {
		r.Billable += ev.CostMicros
	}
	switch ev.Priced {
	case keygate.PricedEstimated:
		r.Estimated++
	case keygate.PricedNone:
		r.Unpriced++
	}
}

// PricedColumn is the value of usage_events.priced for ev: its Priced, or
// keygate.PricedExact when empty.
func PricedColumn(ev keygate.UsageEvent) string {
	if ev.Priced == "" {
		return keygate.PricedExact
	}
	return ev.Priced
}

// Keys returns the keys of m in primary-key order, so that every writer
// touches rollup rows in the same order (which PostgreSQL needs to avoid
// deadlocks, and which keeps SQLite's writes deterministic).
func (m Rollups) Keys() []RollupKey {
	return slices.SortedFunc(maps.Keys(m), func(a, b RollupKey) int {
		return cmp.Or(strings.Compare(a.Tenant, b.Tenant), strings.Compare(a.Provider, b.Provider),
			strings.Compare(a.Model, b.Model), strings.Compare(a.Source, b.Source), a.Bucket.Compare(b.Bucket))
	})
}

// UsageBatch is a batch of usage events as InsertUsage writes it: the
// events, the time each is recorded at, and what they add to each rollup
// table.
type UsageBatch struct {
	Events []keygate.UsageEvent
	// Hourly and Daily are what the events add to usage_hourly and
	// usage_daily.
	Hourly, Daily Rollups
	now           time.Time
}

// At returns the time event i is recorded at: its own (UsageTime), or the
// transaction's time when it has none.
func (b *UsageBatch) At(i int) time.Time { return UsageTime(b.Events[i].Time, b.now) }

// WriteUsage is InsertUsage less the writing of the rows, which differs by
// engine (SQLite: prepared multi-row INSERTs of a few sizes, kept across
// calls; PostgreSQL: three statements of arrays in one pgx batch, one round
// trip): it runs one write transaction, sums the batch into its rollup
// rows, calls write with them, and announces the usage change. An empty
// batch writes nothing and announces nothing.
//
// InsertUsage appends evs to usage_events and adds them to the
// usage_hourly and usage_daily rollups, in one transaction: either every
// event and its rollup increments are written, or nothing is. An event
// with a zero Time is stamped with the store's clock. Events are not
// checked against the tenants table: usage is billing history and is kept
// for tenants deleted meanwhile. write must upsert rollup rows in the
// order of Rollups.Keys.
func (s *Store) WriteUsage(ctx context.Context, evs []keygate.UsageEvent, write func(ctx context.Context, tx Tx, b *UsageBatch) error) error {
	if len(evs) == 0 {
		return nil
	}
	return s.r.Write(ctx, fmt.Sprintf("insert %d usage events", len(evs)), func(tx Tx) error {
		b := &UsageBatch{Events: evs, Hourly: Rollups{}, Daily: Rollups{}, now: tx.Now()}
		for i, ev := range evs {
			at := b.At(i)
			b.Hourly.Add(ev, at.Truncate(time.Hour))
			b.Daily.Add(ev, UTCDay(at))
		}
		if err := write(ctx, tx, b); err != nil {
			return err
		}
		tx.Announce(keygate.Change{Kind: keygate.ChangeUsage})
		return nil
	})
}

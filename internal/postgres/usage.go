package postgres

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/keygate/keygate"
)

// InsertUsage appends evs to usage_events and adds them to the usage_hourly
// and usage_daily rollups, in one transaction and one round trip: either
// every event and its rollup increments are written, or nothing is. An
// event with a zero Time is stamped with the store's clock. Events are not
// checked against the tenants table: usage is billing history and is kept
// for tenants deleted meanwhile. An empty batch writes nothing.
//
// The batch is three statements whatever its size: one INSERT of all the
// events and one upsert per rollup table, each passing its rows as arrays
// to unnest (so the statement text, and its cached plan, never change), with
// one rollup row per distinct (tenant, provider, model, key source, bucket),
// summed in Go first.
//
// Concurrent batches touching the same rollup rows serialize on those rows
// and, since every batch upserts in primary-key order, never deadlock.
func (db *DB) InsertUsage(ctx context.Context, evs []keygate.UsageEvent) error {
	if len(evs) == 0 {
		return nil
	}
	return db.write(ctx, fmt.Sprintf("insert %d usage events", len(evs)), func(tx *tx) error {
		var c eventColumns
		c.grow(len(evs))
		hourly := map[rollupKey]*rollup{}
		daily := map[rollupKey]*rollup{}
		for _, ev := range evs {
			at := usageTime(ev.Time, tx.now)
			c.add(ev, at)
			addRollup(hourly, ev, at.Truncate(time.Hour))
			addRollup(daily, ev, utcDay(at))
		}
		b := &pgx.Batch{}
		b.Queue(`INSERT INTO usage_events
			(request_id, time, tenant_id, provider, model, route, key_source, key_id, key_version,
			input_tokens, output_tokens, cached_tokens, status, latency_us, streamed, canceled, cost_micros, billable)
			SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[],
			$7::text[], $8::text[], $9::integer[], $10::bigint[], $11::bigint[], $12::bigint[], $13::integer[],
			$14::bigint[], $15::boolean[], $16::boolean[], $17::bigint[], $18::boolean[])`,
			c.requestID, c.time, c.tenant, c.provider, c.model, c.route, c.source, c.keyID, c.keyVersion,
			c.input, c.output, c.cached, c.status, c.latency, c.streamed, c.canceled, c.cost, c.billable)
		queueRollups(b, "usage_hourly", hourly)
		queueRollups(b, "usage_daily", daily)
		br := tx.SendBatch(ctx, b)
		for i := range b.Len() {
			if _, err := br.Exec(); err != nil {
				br.Close()
				if i == 0 {
					return fmt.Errorf("insert usage events %s to %s: %w",
						quote(evs[0].RequestID), quote(evs[len(evs)-1].RequestID), err)
				}
				return fmt.Errorf("upsert usage rollups: %w", err)
			}
		}
		if err := br.Close(); err != nil {
			return fmt.Errorf("usage batch: %w", err)
		}
		return nil
	})
}

// eventColumns holds a batch of usage events column by column, as the
// arrays the events INSERT unnests.
type eventColumns struct {
	requestID, tenant, provider, model, route, source, keyID []string
	time                                                     []time.Time
	keyVersion, status                                       []int // int, not int32: pgx rejects what overflows the column
	input, output, cached, latency, cost                     []int64
	streamed, canceled, billable                             []bool
}

func (c *eventColumns) grow(n int) {
	for _, s := range []*[]string{&c.requestID, &c.tenant, &c.provider, &c.model, &c.route, &c.source, &c.keyID} {
		*s = make([]string, 0, n)
	}
	c.time = make([]time.Time, 0, n)
	c.keyVersion, c.status = make([]int, 0, n), make([]int, 0, n)
	for _, s := range []*[]int64{&c.input, &c.output, &c.cached, &c.latency, &c.cost} {
		*s = make([]int64, 0, n)
	}
	c.streamed, c.canceled, c.billable = make([]bool, 0, n), make([]bool, 0, n), make([]bool, 0, n)
}

// add appends ev, recorded at at, to the columns.
func (c *eventColumns) add(ev keygate.UsageEvent, at time.Time) {
	c.requestID = append(c.requestID, ev.RequestID)
	c.time = append(c.time, at)
	c.tenant = append(c.tenant, string(ev.Tenant))
	c.provider = append(c.provider, ev.Provider)
	c.model = append(c.model, ev.Model)
	c.route = append(c.route, ev.Route)
	c.source = append(c.source, string(ev.Source))
	c.keyID = append(c.keyID, ev.KeyID)
	c.keyVersion = append(c.keyVersion, ev.KeyVersion)
	c.input = append(c.input, ev.InputTokens)
	c.output = append(c.output, ev.OutputTokens)
	c.cached = append(c.cached, ev.CachedTokens)
	c.status = append(c.status, ev.Status)
	c.latency = append(c.latency, ev.Latency.Microseconds())
	c.streamed = append(c.streamed, ev.Streamed)
	c.canceled = append(c.canceled, ev.Canceled)
	c.cost = append(c.cost, ev.CostMicros)
	c.billable = append(c.billable, ev.Billable)
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

// queueRollups queues the upsert that adds m to the rollup table, one row
// per key of m, in primary-key order so that concurrent batches lock rows
// in one order. An empty m queues nothing.
func queueRollups(b *pgx.Batch, table string, m map[rollupKey]*rollup) {
	if len(m) == 0 {
		return
	}
	keys := slices.SortedFunc(maps.Keys(m), func(a, b rollupKey) int {
		return cmp.Or(strings.Compare(a.tenant, b.tenant), strings.Compare(a.provider, b.provider),
			strings.Compare(a.model, b.model), strings.Compare(a.source, b.source), a.bucket.Compare(b.bucket))
	})
	n := len(keys)
	tenant, provider, model, source := make([]string, 0, n), make([]string, 0, n), make([]string, 0, n), make([]string, 0, n)
	bucket := make([]time.Time, 0, n)
	requests, input, output := make([]int64, 0, n), make([]int64, 0, n), make([]int64, 0, n)
	cached, cost, billable := make([]int64, 0, n), make([]int64, 0, n), make([]int64, 0, n)
	for _, k := range keys {
		r := m[k]
		tenant, provider, model, source = append(tenant, k.tenant), append(provider, k.provider),
			append(model, k.model), append(source, k.source)
		bucket = append(bucket, k.bucket)
		requests, input, output = append(requests, r.requests), append(input, r.input), append(output, r.output)
		cached, cost, billable = append(cached, r.cached), append(cost, r.cost), append(billable, r.billable)
	}
	// unnest returns the rows in array order, so the upsert locks them in
	// primary-key order.
	b.Queue(`INSERT INTO `+table+` AS r
		(tenant_id, provider, model, key_source, bucket_start,
		requests, input_tokens, output_tokens, cached_tokens, cost_micros, billable_cost_micros)
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[],
		$6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[])
		ON CONFLICT (tenant_id, provider, model, key_source, bucket_start) DO UPDATE SET
		requests = r.requests + excluded.requests,
		input_tokens = r.input_tokens + excluded.input_tokens,
		output_tokens = r.output_tokens + excluded.output_tokens,
		cached_tokens = r.cached_tokens + excluded.cached_tokens,
		cost_micros = r.cost_micros + excluded.cost_micros,
		billable_cost_micros = r.billable_cost_micros + excluded.billable_cost_micros`,
		tenant, provider, model, source, bucket, requests, input, output, cached, cost, billable)
}

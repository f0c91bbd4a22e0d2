// SPDX-License-Identifier: Apache-2.0

package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/sqlstore"
)

// InsertUsage appends evs to usage_events and adds them to the usage_hourly
// and usage_daily rollups, in one transaction (sqlstore.Store.WriteUsage
// says what is written) and one round trip.
//
// The batch is three statements whatever its size: one INSERT of all the
// events and one upsert per rollup table, each passing its rows as arrays
// to unnest (so the statement text, and its cached plan, never change),
// sent together as one pgx batch. SQLite's multi-row VALUES lists would
// cost PostgreSQL a plan per batch size and a round trip per statement.
//
// Concurrent batches touching the same rollup rows serialize on those rows
// and, since every batch upserts in primary-key order, never deadlock.
func (db *DB) InsertUsage(ctx context.Context, evs []keygate.UsageEvent) error {
	return db.WriteUsage(ctx, evs, func(ctx context.Context, stx sqlstore.Tx, ub *sqlstore.UsageBatch) error {
		tx := stx.(*tx) // the runner hands fn its own transaction
		var c eventColumns
		c.grow(len(evs))
		for i, ev := range evs {
			c.add(ev, ub.At(i))
		}
		b := &pgx.Batch{}
		b.Queue(`INSERT INTO usage_events (`+sqlstore.UsageEventColumns+`)
			SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[],
			$7::text[], $8::text[], $9::integer[], $10::bigint[], $11::bigint[], $12::bigint[], $13::integer[],
			$14::bigint[], $15::boolean[], $16::boolean[], $17::bigint[], $18::boolean[], $19::text[], $20::text[], $21::text[])`,
			c.requestID, c.time, c.tenant, c.provider, c.model, c.route, c.source, c.keyID, c.keyVersion,
			c.input, c.output, c.cached, c.status, c.latency, c.streamed, c.canceled, c.cost, c.billable, c.endUser, c.token, c.priced)
		queueRollups(b, "usage_hourly", ub.Hourly)
		queueRollups(b, "usage_daily", ub.Daily)
		br := tx.SendBatch(ctx, b)
		for i := range b.Len() {
			if _, err := br.Exec(); err != nil {
				br.Close()
				if i == 0 {
					return fmt.Errorf("insert usage events %s to %s: %w",
						sqlstore.Quote(evs[0].RequestID), sqlstore.Quote(evs[len(evs)-1].RequestID), err)
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
	requestID, tenant, provider, model, route, source, keyID, endUser, token, priced []string
	time                                                                             []time.Time
	keyVersion, status                                                               []int // int, not int32: pgx rejects what overflows the column
	input, output, cached, latency, cost                                             []int64
	streamed, canceled, billable                                                     []bool
}

func (c *eventColumns) grow(n int) {
	for _, s := range []*[]string{&c.requestID, &c.tenant, &c.provider, &c.model, &c.route, &c.source, &c.keyID, &c.endUser, &c.token, &c.priced} {
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
	c.endUser = append(c.endUser, ev.EndUser)
	c.token = append(c.token, ev.TokenID)
	c.priced = append(c.priced, sqlstore.PricedColumn(ev))
}

// queueRollups queues the upsert that adds m to the rollup table, one row
// per key of m, in primary-key order so that concurrent batches lock rows
// in one order. An empty m queues nothing.
func queueRollups(b *pgx.Batch, table string, m sqlstore.Rollups) {
	if len(m) == 0 {
		return
	}
	keys := m.Keys()
	n := len(keys)
	tenant, provider, model, source := make([]string, 0, n), make([]string, 0, n), make([]string, 0, n), make([]string, 0, n)
	bucket := make([]time.Time, 0, n)
	requests, input, output := make([]int64, 0, n), make([]int64, 0, n), make([]int64, 0, n)
	cached, cost, billable := make([]int64, 0, n), make([]int64, 0, n), make([]int64, 0, n)
	estimated, unpriced := make([]int64, 0, n), make([]int64, 0, n)
	for _, k := range keys {
		r := m[k]
		tenant, provider, model, source = append(tenant, k.Tenant), append(provider, k.Provider),
			append(model, k.Model), append(source, k.Source)
		bucket = append(bucket, k.Bucket)
		requests, input, output = append(requests, r.Requests), append(input, r.Input), append(output, r.Output)
		cached, cost, billable = append(cached, r.Cached), append(cost, r.Cost), append(billable, r.Billable)
		estimated, unpriced = append(estimated, r.Estimated), append(unpriced, r.Unpriced)
	}
	// unnest returns the rows in array order, so the upsert locks them in
	// primary-key order.
	b.Queue(`INSERT INTO `+table+` AS r (`+sqlstore.RollupColumns+`)
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[],
		$6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[],
		$12::bigint[], $13::bigint[])`+sqlstore.RollupConflict,
		tenant, provider, model, source, bucket, requests, input, output, cached, cost, billable, estimated, unpriced)
}

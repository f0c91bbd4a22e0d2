package postgres

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/keygate/keygate"
)

// usageDims lists the dimensions QueryUsage can group by, for messages.
const usageDims = "tenant, provider, model, key_source, day"

// QueryUsage aggregates usage for q: one row per combination of the
// q.GroupBy dimensions that has usage, ordered by those dimensions in the
// order given (strings in byte order), or a single total row (zeros when
// nothing matches) when q.GroupBy is empty. Repeated dimensions count once.
// Returns invalid_request for an unknown dimension.
//
// It reads the rollups, not the raw events, wherever they answer exactly:
// usage_daily for the whole UTC days between q.From and q.To, usage_hourly
// for the whole hours around them, and usage_events only for the parts of
// an hour at a bound that is not a whole hour. So the cost of a query
// hardly depends on its span or on how many calls it covers.
func (db *DB) QueryUsage(ctx context.Context, q keygate.UsageQuery) ([]keygate.UsageRow, error) {
	dims, err := groupDims(q.GroupBy)
	if err != nil {
		return nil, err
	}
	segs := usageSegments(q.From, q.To)
	if len(segs) == 0 { // an empty range
		if len(dims) == 0 {
			return []keygate.UsageRow{{}}, nil
		}
		return nil, nil
	}
	var parts []string
	var args []any
	for _, s := range segs {
		var part string
		part, args = s.query(q.Tenant, dims, args)
		parts = append(parts, part)
	}
	query := "SELECT " + strings.Join(append(dims[:len(dims):len(dims)],
		"coalesce(sum(requests), 0)::bigint", "coalesce(sum(input_tokens), 0)::bigint", "coalesce(sum(output_tokens), 0)::bigint",
		"coalesce(sum(cached_tokens), 0)::bigint", "coalesce(sum(cost_micros), 0)::bigint",
		"coalesce(sum(billable_cost_micros), 0)::bigint"), ", ") +
		" FROM (" + strings.Join(parts, " UNION ALL ") + ") AS u"
	if len(dims) > 0 {
		var order []string
		for _, d := range dims {
			if d != "day" {
				// Byte order whatever the database's collation, so that
				// both backends order rows alike.
				d += ` COLLATE "C"`
			}
			order = append(order, d)
		}
		query += " GROUP BY " + strings.Join(dims, ", ") + " ORDER BY " + strings.Join(order, ", ")
	}
	var out []keygate.UsageRow
	err = db.read(ctx, "query usage", func(tx *tx) error {
		rows, err := tx.Query(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var r keygate.UsageRow
			var tenant, source string
			dest := make([]any, 0, len(dims)+6)
			for _, d := range dims {
				switch d {
				case "tenant":
					dest = append(dest, &tenant)
				case "provider":
					dest = append(dest, &r.Provider)
				case "model":
					dest = append(dest, &r.Model)
				case "key_source":
					dest = append(dest, &source)
				case "day":
					dest = append(dest, tsDest{&r.Day})
				}
			}
			dest = append(dest, &r.Requests, &r.InputTokens, &r.OutputTokens, &r.CachedTokens, &r.CostMicros, &r.BillableCostMicros)
			if err := rows.Scan(dest...); err != nil {
				return err
			}
			r.Tenant, r.Source = keygate.TenantID(tenant), keygate.KeySource(source)
			out = append(out, r)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// groupDims checks the GroupBy dimensions and drops repeats.
func groupDims(groupBy []string) ([]string, error) {
	var dims []string
	for _, d := range groupBy {
		switch d {
		case "tenant", "provider", "model", "key_source", "day":
		default:
			return nil, keygate.Errorf(keygate.CodeInvalidRequest, "Cannot group usage by %s: want any of %s.", quote(d), usageDims)
		}
		if !slices.Contains(dims, d) {
			dims = append(dims, d)
		}
	}
	return dims, nil
}

// Tables a usage segment reads.
const (
	tableDaily  = "usage_daily"
	tableHourly = "usage_hourly"
	tableEvents = "usage_events"
)

// segment is one part of a usage query's time range and the table that
// answers it exactly. A zero bound is unbounded.
type segment struct {
	table    string
	from, to time.Time
}

// usageSegments splits [from, to) into the parts each table answers
// exactly: raw events up to the first whole hour, hourly rollups up to the
// first whole day, daily rollups for the whole days, and back down at the
// other end. A zero bound is unbounded. An empty range has no segments.
func usageSegments(from, to time.Time) []segment {
	const hour, day = time.Hour, 24 * time.Hour
	if !from.IsZero() && !to.IsZero() && !from.Before(to) {
		return nil
	}
	var segs []segment
	add := func(table string, lo, hi time.Time) {
		if !lo.IsZero() && !hi.IsZero() && !lo.Before(hi) {
			return // empty
		}
		segs = append(segs, segment{table, lo, hi})
	}
	fh, fd := ceilTo(from, hour), ceilTo(from, day)
	th, td := to.Truncate(hour), to.Truncate(day)
	if !from.IsZero() && !to.IsZero() && !fd.Before(td) { // no whole day inside
		if fh.Before(th) {
			add(tableEvents, from, fh)
			add(tableHourly, fh, th)
			add(tableEvents, th, to)
		} else {
			add(tableEvents, from, to)
		}
		return segs
	}
	if !from.IsZero() {
		add(tableEvents, from, fh)
		add(tableHourly, fh, fd)
	}
	add(tableDaily, fd, td)
	if !to.IsZero() {
		add(tableHourly, td, th)
		add(tableEvents, th, to)
	}
	return segs
}

// ceilTo rounds t up to a whole multiple of d since the zero time (a UTC
// hour or midnight); zero stays zero.
func ceilTo(t time.Time, d time.Duration) time.Time {
	u := t.Truncate(d)
	if u.Before(t) {
		u = u.Add(d)
	}
	return u
}

// query returns the SELECT of s's rows (the dims columns under their
// dimension names, then the six measures), and args with its arguments
// appended (its placeholders number on from len(args)).
func (s segment) query(tenant keygate.TenantID, dims []string, args []any) (string, []any) {
	timeCol, measures := "bucket_start",
		"requests, input_tokens, output_tokens, cached_tokens, cost_micros, billable_cost_micros"
	if s.table == tableEvents {
		timeCol, measures = "time",
			"1 AS requests, input_tokens, output_tokens, cached_tokens, cost_micros, CASE WHEN billable THEN cost_micros ELSE 0 END AS billable_cost_micros"
	}
	var cols []string
	for _, d := range dims {
		switch d {
		case "tenant":
			cols = append(cols, "tenant_id AS tenant")
		case "day":
			if s.table == tableDaily {
				cols = append(cols, "bucket_start AS day")
			} else {
				cols = append(cols, "date_trunc('day', "+timeCol+", 'UTC') AS day")
			}
		default:
			cols = append(cols, d) // provider, model, key_source
		}
	}
	var where []string
	if tenant != "" {
		args = append(args, string(tenant))
		where = append(where, fmt.Sprintf("tenant_id = $%d", len(args)))
	}
	if !s.from.IsZero() {
		args = append(args, ceilMicro(s.from))
		where = append(where, fmt.Sprintf("%s >= $%d", timeCol, len(args)))
	}
	if !s.to.IsZero() {
		args = append(args, ceilMicro(s.to))
		where = append(where, fmt.Sprintf("%s < $%d", timeCol, len(args)))
	}
	q := "SELECT " + strings.Join(append(cols, measures), ", ") + " FROM " + s.table
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	return q, args
}

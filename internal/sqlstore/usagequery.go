// SPDX-License-Identifier: Apache-2.0

package sqlstore

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/keygate/keygate"
)

// usageDims lists the dimensions QueryUsage can group by, for messages.
const usageDims = "tenant, provider, model, key_source, user, day, token"

// Tables a usage segment reads.
const (
	tableDaily  = "usage_daily"
	tableHourly = "usage_hourly"
	tableEvents = "usage_events"
)

// UsagePlan is how a backend answers one QueryUsage: Query, unless Empty
// answers without one.
type UsagePlan struct {
	stmt Stmt
	dims []string
}

// PlanUsage plans q. The statement reads the rollups, not the raw events,
// wherever they answer exactly: usage_daily for the whole UTC days between
// q.From and q.To, usage_hourly for the whole hours around them, and
// usage_events only for the parts of an hour at a bound that is not a
// whole hour, so the cost of a query hardly depends on its span. It sums
// the measures per combination of q.GroupBy dimensions (repeats count
// once), ordered by them in the order given, strings bytewise. The
// rollups do not keep the gateway token, so a query grouped by token reads
// usage_events for its whole range. Returns invalid_request for an unknown
// dimension.
func (d Dialect) PlanUsage(q keygate.UsageQuery) (UsagePlan, error) {
	dims, err := groupDims(q.GroupBy)
	if err != nil {
		return UsagePlan{}, err
	}
	segs := usageSegments(q.From, q.To)
	if len(segs) > 0 && (q.User != "" || slices.Contains(dims, "user") || slices.Contains(dims, "token")) {
		// The rollups have no end-user or token dimension (either would
		// multiply their rows): those questions read the events, through
		// usage_events_tenant_user_time_idx and
		// usage_events_tenant_token_time_idx.
		segs = []segment{{tableEvents, q.From, q.To}}
	}
	if len(segs) == 0 {
		return UsagePlan{dims: dims}, nil
	}
	var parts []string
	var args []any
	for _, s := range segs {
		var part string
		part, args = s.query(d, q.Tenant, q.User, dims, args)
		parts = append(parts, part)
	}
	var cols, names []string
	for _, dim := range dims {
		cols = append(cols, dimColumn(dim))
		names = append(names, dimColumn(dim))
	}
	for _, m := range []string{"requests", "input_tokens", "output_tokens", "cached_tokens", "cost_micros", "billable_cost_micros", "estimated_requests", "unpriced_requests"} {
		cols = append(cols, d.cast("coalesce(sum("+m+"), 0)", "bigint"))
	}
	query := "SELECT " + strings.Join(cols, ", ") + " FROM (" + strings.Join(parts, " UNION ALL ") + ") AS u"
	if len(dims) > 0 {
		var order []string
		for _, dim := range names {
			if dim != "day" {
				dim = d.bytewise(dim)
			}
			order = append(order, dim)
		}
		query += " GROUP BY " + strings.Join(names, ", ") + " ORDER BY " + strings.Join(order, ", ")
	}
	return UsagePlan{stmt: Stmt{d.render(query), args}, dims: dims}, nil
}

// Empty reports whether the range is empty, and then the answer: a single
// total row of zeros without GroupBy, no rows with it.
func (p UsagePlan) Empty() ([]keygate.UsageRow, bool) {
	if p.stmt.SQL != "" {
		return nil, false
	}
	if len(p.dims) == 0 {
		return []keygate.UsageRow{{}}, true
	}
	return nil, true
}

// Query runs the plan in tx: the grouped dimensions, then the eight sums,
// per row.
func (p UsagePlan) Query(ctx context.Context, tx Tx) ([]keygate.UsageRow, error) {
	return Collect(ctx, tx, p.stmt, func(row Row) (keygate.UsageRow, error) {
		var r keygate.UsageRow
		var tenant, source string
		dest := make([]any, 0, len(p.dims)+8)
		for _, d := range p.dims {
			switch d {
			case "tenant":
				dest = append(dest, &tenant)
			case "provider":
				dest = append(dest, &r.Provider)
			case "model":
				dest = append(dest, &r.Model)
			case "key_source":
				dest = append(dest, &source)
			case "user":
				dest = append(dest, &r.User)
			case "token":
				dest = append(dest, &r.Token)
			case "day":
				dest = append(dest, timeDest{&r.Day})
			}
		}
		dest = append(dest, &r.Requests, &r.InputTokens, &r.OutputTokens, &r.CachedTokens, &r.CostMicros, &r.BillableCostMicros,
			&r.EstimatedRequests, &r.UnpricedRequests)
		err := row.Scan(dest...)
		r.Tenant, r.Source = keygate.TenantID(tenant), keygate.KeySource(source)
		return r, err
	})
}

// dimColumn is the column (or alias) of a dimension in a plan's query:
// its own name but for user, a reserved word in PostgreSQL.
func dimColumn(dim string) string {
	if dim == "user" {
		return "end_user"
	}
	return dim
}

// groupDims checks the GroupBy dimensions and drops repeats.
func groupDims(groupBy []string) ([]string, error) {
	var dims []string
	for _, d := range groupBy {
		switch d {
		case "tenant", "provider", "model", "key_source", "user", "day", "token":
		default:
			return nil, keygate.Errorf(keygate.CodeInvalidRequest, "Cannot group usage by %s: want any of %s.", Quote(d), usageDims)
		}
		if !slices.Contains(dims, d) {
			dims = append(dims, d)
		}
	}
	return dims, nil
}

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
// dimColumn names, then the eight measures), with ? placeholders, and args
// with its arguments appended. A user filter (or dimension) is only asked
// of the events table.
func (s segment) query(d Dialect, tenant keygate.TenantID, user string, dims []string, args []any) (string, []any) {
	timeCol, measures := "bucket_start",
		"requests, input_tokens, output_tokens, cached_tokens, cost_micros, billable_cost_micros, estimated_requests, unpriced_requests"
	if s.table == tableEvents {
		timeCol, measures = "time",
			"1 AS requests, input_tokens, output_tokens, cached_tokens, cost_micros, CASE WHEN billable THEN cost_micros ELSE 0 END AS billable_cost_micros, "+
				"CASE WHEN priced = 'estimated' THEN 1 ELSE 0 END AS estimated_requests, CASE WHEN priced = 'unpriced' THEN 1 ELSE 0 END AS unpriced_requests"
	}
	var cols []string
	for _, dim := range dims {
		switch dim {
		case "tenant":
			cols = append(cols, "tenant_id AS tenant")
		case "token":
			cols = append(cols, "token_id AS token") // usage_events only
		case "day":
			if s.table == tableDaily {
				cols = append(cols, "bucket_start AS day")
			} else {
				cols = append(cols, d.day(timeCol)+" AS day")
			}
		case "user":
			cols = append(cols, "end_user")
		default:
			cols = append(cols, dim) // provider, model, key_source
		}
	}
	var where []string
	if tenant != "" {
		where = append(where, "tenant_id = ?")
		args = append(args, string(tenant))
	}
	if user != "" {
		where = append(where, "end_user = ?")
		args = append(args, user)
	}
	if !s.from.IsZero() {
		where = append(where, timeCol+" >= ?")
		args = append(args, d.bound(s.from))
	}
	if !s.to.IsZero() {
		where = append(where, timeCol+" < ?")
		args = append(args, d.bound(s.to))
	}
	q := "SELECT " + strings.Join(append(cols, measures), ", ") + " FROM " + s.table
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	return q, args
}

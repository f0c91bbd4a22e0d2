package sqlite

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

// microsPerDay is one day in the INTEGER time columns' unit.
const microsPerDay = int64(24 * time.Hour / time.Microsecond)

// QueryUsage aggregates usage for q: one row per combination of the
// q.GroupBy dimensions that has usage, ordered by those dimensions in the
// order given, or a single total row (zeros when nothing matches) when
// q.GroupBy is empty. Repeated dimensions count once.
//
// It reads usage_daily when q.From and q.To are UTC midnights (or zero),
// usage_hourly when they are whole UTC hours, and the raw events only for
// bounds within an hour. Returns invalid_request for an unknown dimension.
func (db *DB) QueryUsage(ctx context.Context, q keygate.UsageQuery) ([]keygate.UsageRow, error) {
	dims, err := groupDims(q.GroupBy)
	if err != nil {
		return nil, err
	}
	src := usageSource(q.From, q.To)
	var sel, where []string
	var args []any
	for _, d := range dims {
		sel = append(sel, src.column(d))
	}
	sel = append(sel, src.sums...)
	if q.Tenant != "" {
		where = append(where, "tenant_id = ?")
		args = append(args, string(q.Tenant))
	}
	if !q.From.IsZero() {
		where = append(where, src.time+" >= ?")
		args = append(args, ceilMicros(q.From))
	}
	if !q.To.IsZero() {
		where = append(where, src.time+" < ?")
		args = append(args, ceilMicros(q.To))
	}
	query := "SELECT " + strings.Join(sel, ", ") + " FROM " + src.table
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	if len(dims) > 0 {
		var ord []string
		for i := range dims {
			ord = append(ord, fmt.Sprint(i+1))
		}
		query += " GROUP BY " + strings.Join(ord, ", ") + " ORDER BY " + strings.Join(ord, ", ")
	}
	var out []keygate.UsageRow
	err = db.read(ctx, "query usage", func(tx *tx) error {
		rows, err := tx.QueryContext(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var r keygate.UsageRow
			var tenant, source string
			dest := make([]any, 0, len(dims)+7)
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
					dest = append(dest, microTime{&r.Day})
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

// usageTable is the table a usage query reads and how it reads it.
type usageTable struct {
	table string
	time  string // the column From and To bound
	day   string // the expression of a row's UTC day
	sums  []string
}

// column returns the select expression of dimension d.
func (t usageTable) column(d string) string {
	switch d {
	case "tenant":
		return "tenant_id"
	case "day":
		return t.day
	}
	return d // provider, model, key_source
}

// usageSource picks the coarsest table that answers a query bounded by from
// and to exactly: a rollup bucket is either wholly in or wholly out of the
// range only when both bounds are bucket edges.
func usageSource(from, to time.Time) usageTable {
	rollupSums := []string{"coalesce(sum(requests), 0)", "coalesce(sum(input_tokens), 0)",
		"coalesce(sum(output_tokens), 0)", "coalesce(sum(cached_tokens), 0)",
		"coalesce(sum(cost_micros), 0)", "coalesce(sum(billable_cost_micros), 0)"}
	switch {
	case aligned(from, 24*time.Hour) && aligned(to, 24*time.Hour):
		return usageTable{table: "usage_daily", time: "bucket_start", day: "bucket_start", sums: rollupSums}
	case aligned(from, time.Hour) && aligned(to, time.Hour):
		return usageTable{table: "usage_hourly", time: "bucket_start", day: dayOf("bucket_start"), sums: rollupSums}
	}
	return usageTable{table: "usage_events", time: "time", day: dayOf("time"), sums: []string{"count(*)",
		"coalesce(sum(input_tokens), 0)", "coalesce(sum(output_tokens), 0)", "coalesce(sum(cached_tokens), 0)",
		"coalesce(sum(cost_micros), 0)", "coalesce(sum(CASE WHEN billable THEN cost_micros ELSE 0 END), 0)"}}
}

// dayOf returns the expression that floors the microsecond column col to
// its UTC midnight (also before 1970, where % is negative).
func dayOf(col string) string {
	return fmt.Sprintf("(%[1]s - ((%[1]s %% %[2]d) + %[2]d) %% %[2]d)", col, microsPerDay)
}

// aligned reports whether t is zero or a whole multiple of d since the
// zero time, which for an hour or a day means a UTC hour or midnight.
func aligned(t time.Time, d time.Duration) bool {
	return t.IsZero() || t.Truncate(d).Equal(t)
}

// ceilMicros converts a query bound to unix microseconds, rounding up so
// that comparing whole-microsecond columns against it means the same as
// comparing against t.
func ceilMicros(t time.Time) int64 {
	u := t.Truncate(time.Microsecond)
	if u.Before(t) {
		u = u.Add(time.Microsecond)
	}
	return u.UnixMicro()
}

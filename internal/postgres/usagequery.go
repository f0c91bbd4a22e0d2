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
		args = append(args, string(q.Tenant))
		where = append(where, fmt.Sprintf("tenant_id = $%d", len(args)))
	}
	if !q.From.IsZero() {
		args = append(args, ceilMicro(q.From))
		where = append(where, fmt.Sprintf("%s >= $%d", src.time, len(args)))
	}
	if !q.To.IsZero() {
		args = append(args, ceilMicro(q.To))
		where = append(where, fmt.Sprintf("%s < $%d", src.time, len(args)))
	}
	query := "SELECT " + strings.Join(sel, ", ") + " FROM " + src.table
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	if len(dims) > 0 {
		var group, order []string
		for i, d := range dims {
			group = append(group, fmt.Sprint(i+1))
			if d == "day" {
				order = append(order, fmt.Sprint(i+1))
			} else {
				// Byte order whatever the database's collation, so that
				// both backends order rows alike.
				order = append(order, src.column(d)+` COLLATE "C"`)
			}
		}
		query += " GROUP BY " + strings.Join(group, ", ") + " ORDER BY " + strings.Join(order, ", ")
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
	rollupSums := []string{"coalesce(sum(requests), 0)::bigint", "coalesce(sum(input_tokens), 0)::bigint",
		"coalesce(sum(output_tokens), 0)::bigint", "coalesce(sum(cached_tokens), 0)::bigint",
		"coalesce(sum(cost_micros), 0)::bigint", "coalesce(sum(billable_cost_micros), 0)::bigint"}
	switch {
	case aligned(from, 24*time.Hour) && aligned(to, 24*time.Hour):
		return usageTable{table: "usage_daily", time: "bucket_start", day: "bucket_start", sums: rollupSums}
	case aligned(from, time.Hour) && aligned(to, time.Hour):
		return usageTable{table: "usage_hourly", time: "bucket_start", day: dayOf("bucket_start"), sums: rollupSums}
	}
	return usageTable{table: "usage_events", time: "time", day: dayOf("time"), sums: []string{"count(*)::bigint",
		"coalesce(sum(input_tokens), 0)::bigint", "coalesce(sum(output_tokens), 0)::bigint", "coalesce(sum(cached_tokens), 0)::bigint",
		"coalesce(sum(cost_micros), 0)::bigint", "coalesce(sum(CASE WHEN billable THEN cost_micros ELSE 0 END), 0)::bigint"}}
}

// dayOf returns the expression that floors the timestamptz column col to
// its UTC midnight.
func dayOf(col string) string {
	return "date_trunc('day', " + col + ", 'UTC')"
}

// aligned reports whether t is zero or a whole multiple of d since the
// zero time, which for an hour or a day means a UTC hour or midnight.
func aligned(t time.Time, d time.Duration) bool {
	return t.IsZero() || t.Truncate(d).Equal(t)
}

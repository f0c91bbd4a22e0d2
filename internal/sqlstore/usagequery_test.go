// SPDX-License-Identifier: Apache-2.0

package sqlstore

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/keygate/keygate"
)

func TestUsageSegments(t *testing.T) {
	d0 := time.Date(2025, 3, 10, 0, 0, 0, 0, time.UTC)
	d1, d2 := d0.Add(24*time.Hour), d0.Add(48*time.Hour)
	at := func(day time.Time, clock time.Duration) time.Time { return day.Add(clock) }
	var none time.Time
	const h, m = time.Hour, time.Minute
	tests := []struct {
		name     string
		from, to time.Time
		want     []segment
	}{
		{"Empty", d0, d0, nil},
		{"Reversed", d1, d0, nil},
		{"Unbounded", none, none, []segment{{tableDaily, none, none}}},
		{"WholeDays", d0, d2, []segment{{tableDaily, d0, d2}}},
		{"WholeHoursInADay", at(d0, 1*h), at(d0, 5*h), []segment{{tableHourly, at(d0, 1*h), at(d0, 5*h)}}},
		{"PartHoursInADay", at(d0, 90*m), at(d0, 5*h+15*m), []segment{
			{tableEvents, at(d0, 90*m), at(d0, 2*h)},
			{tableHourly, at(d0, 2*h), at(d0, 5*h)},
			{tableEvents, at(d0, 5*h), at(d0, 5*h+15*m)},
		}},
		{"InsideAnHour", at(d0, 10*m), at(d0, 20*m), []segment{{tableEvents, at(d0, 10*m), at(d0, 20*m)}}},
		{"AcrossAnHourBound", at(d0, 50*m), at(d0, 70*m), []segment{{tableEvents, at(d0, 50*m), at(d0, 70*m)}}},
		{"AcrossMidnightNoWholeDay", at(d0, 3*h), at(d1, 4*h), []segment{{tableHourly, at(d0, 3*h), at(d1, 4*h)}}},
		{"OneNanosecondPastAnHour", at(d0, h+1), at(d0, 3*h), []segment{
			{tableEvents, at(d0, h+1), at(d0, 2*h)},
			{tableHourly, at(d0, 2*h), at(d0, 3*h)},
		}},
		{"UnalignedDays", at(d0, 23*h+30*m), at(d2, 30*m), []segment{
			{tableEvents, at(d0, 23*h+30*m), d1},
			{tableDaily, d1, d2},
			{tableEvents, d2, at(d2, 30*m)},
		}},
		{"UnalignedHoursAroundDays", at(d0, 22*h+30*m), at(d2, 2*h+30*m), []segment{
			{tableEvents, at(d0, 22*h+30*m), at(d0, 23*h)},
			{tableHourly, at(d0, 23*h), d1},
			{tableDaily, d1, d2},
			{tableHourly, d2, at(d2, 2*h)},
			{tableEvents, at(d2, 2*h), at(d2, 2*h+30*m)},
		}},
		{"FromOnly", at(d0, 90*m), none, []segment{
			{tableEvents, at(d0, 90*m), at(d0, 2*h)},
			{tableHourly, at(d0, 2*h), d1},
			{tableDaily, d1, none},
		}},
		{"ToOnly", none, at(d1, 2*h+15*m), []segment{
			{tableDaily, none, d1},
			{tableHourly, d1, at(d1, 2*h)},
			{tableEvents, at(d1, 2*h), at(d1, 2*h+15*m)},
		}},
		{"FromOnlyAtMidnight", d1, none, []segment{{tableDaily, d1, none}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := usageSegments(tc.from, tc.to)
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(segment{})); diff != "" {
				t.Errorf("usageSegments(%v, %v) (-want +got):\n%s", tc.from, tc.to, diff)
			}
		})
	}
}

func TestPlanUsage(t *testing.T) {
	d0 := time.Date(2025, 3, 10, 0, 0, 0, 0, time.UTC)
	q := keygate.UsageQuery{Tenant: "tn_1", From: d0.Add(30 * time.Minute), To: d0.Add(2 * time.Hour), GroupBy: []string{"model", "day", "model"}}
	sums := func(cast string) string {
		return "coalesce(sum(requests), 0)" + cast + ", coalesce(sum(input_tokens), 0)" + cast +
			", coalesce(sum(output_tokens), 0)" + cast + ", coalesce(sum(cached_tokens), 0)" + cast +
			", coalesce(sum(cost_micros), 0)" + cast + ", coalesce(sum(billable_cost_micros), 0)" + cast +
			", coalesce(sum(estimated_requests), 0)" + cast + ", coalesce(sum(unpriced_requests), 0)" + cast
	}
	const events = "1 AS requests, input_tokens, output_tokens, cached_tokens, cost_micros, CASE WHEN billable THEN cost_micros ELSE 0 END AS billable_cost_micros, " +
		"CASE WHEN priced = 'estimated' THEN 1 ELSE 0 END AS estimated_requests, CASE WHEN priced = 'unpriced' THEN 1 ELSE 0 END AS unpriced_requests"
	const hourly = "requests, input_tokens, output_tokens, cached_tokens, cost_micros, billable_cost_micros, estimated_requests, unpriced_requests"
	sqliteDay := func(col string) string {
		return "(" + col + " - ((" + col + " % 86400000000) + 86400000000) % 86400000000) AS day"
	}
	tests := []struct {
		name string
		d    Dialect
		want Stmt
	}{
		{"SQLite", SQLite, Stmt{
			SQL: "SELECT model, day, " + sums("") + " FROM (" +
				"SELECT model, " + sqliteDay("time") + ", " + events + " FROM usage_events WHERE tenant_id = ? AND time >= ? AND time < ?" +
				" UNION ALL SELECT model, " + sqliteDay("bucket_start") + ", " + hourly + " FROM usage_hourly WHERE tenant_id = ? AND bucket_start >= ? AND bucket_start < ?" +
				") AS u GROUP BY model, day ORDER BY model, day",
			Args: []any{"tn_1", d0.Add(30 * time.Minute).UnixMicro(), d0.Add(time.Hour).UnixMicro(),
				"tn_1", d0.Add(time.Hour).UnixMicro(), d0.Add(2 * time.Hour).UnixMicro()},
		}},
		{"Postgres", Postgres, Stmt{
			SQL: "SELECT model, day, " + sums("::bigint") + " FROM (" +
				"SELECT model, date_trunc('day', time, 'UTC') AS day, " + events + " FROM usage_events WHERE tenant_id = $1 AND time >= $2 AND time < $3" +
				" UNION ALL SELECT model, date_trunc('day', bucket_start, 'UTC') AS day, " + hourly + " FROM usage_hourly WHERE tenant_id = $4 AND bucket_start >= $5 AND bucket_start < $6" +
				`) AS u GROUP BY model, day ORDER BY model COLLATE "C", day`,
			Args: []any{"tn_1", d0.Add(30 * time.Minute), d0.Add(time.Hour), "tn_1", d0.Add(time.Hour), d0.Add(2 * time.Hour)},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			plan, err := tc.d.PlanUsage(q)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := plan.Empty(); ok {
				t.Fatal("Empty() = true for a non-empty range")
			}
			if diff := cmp.Diff(tc.want, plan.stmt); diff != "" {
				t.Errorf("PlanUsage(%+v) (-want +got):\n%s", q, diff)
			}
		})
	}
}

func TestPlanUsageEmptyRange(t *testing.T) {
	d0 := time.Date(2025, 3, 10, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		groupBy []string
		want    []keygate.UsageRow
	}{
		{"Total", nil, []keygate.UsageRow{{}}},
		{"Grouped", []string{"tenant"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			plan, err := SQLite.PlanUsage(keygate.UsageQuery{From: d0, To: d0, GroupBy: tc.groupBy})
			if err != nil {
				t.Fatal(err)
			}
			got, ok := plan.Empty()
			if !ok {
				t.Fatalf("Empty() = false for an empty range; statement %q", plan.stmt.SQL)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Empty() (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPlanUsageUnknownDimension(t *testing.T) {
	_, err := Postgres.PlanUsage(keygate.UsageQuery{GroupBy: []string{"model", "week"}})
	if !keygate.IsCode(err, keygate.CodeInvalidRequest) {
		t.Errorf("PlanUsage(GroupBy week) error = %v, want %s", err, keygate.CodeInvalidRequest)
	}
}

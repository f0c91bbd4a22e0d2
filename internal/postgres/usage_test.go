// SPDX-License-Identifier: Apache-2.0

package postgres_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/postgres"
	"github.com/keygate/keygate/internal/storetest"
	"github.com/keygate/keygate/internal/testkit"
)

// TestQueryUsageReadsRollups checks that queries are answered from the
// rollups, not the raw events: with the raw rows gone, they still see
// everything but the calls in the part-hours at bounds that are not whole
// hours, the only parts that need the raw events.
func TestQueryUsageReadsRollups(t *testing.T) {
	url, schema := testkit.PostgresSchema(t)
	db := MustOpen(t, url, postgres.Options{Schema: schema})
	day := time.Date(2025, 3, 10, 0, 0, 0, 0, time.UTC)
	evs := usageEvents(day, 200) // 00:00 to 03:19
	storetest.MustInsertUsage(t, db, evs)
	if _, err := mustConn(t, url, schema).Exec(t.Context(), `DELETE FROM usage_events`); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		q    keygate.UsageQuery
		lost [2]time.Duration // the calls in [day+lost[0], day+lost[1]) are not seen
	}{
		{"Unbounded", keygate.UsageQuery{GroupBy: []string{"tenant", "day"}}, [2]time.Duration{}},
		{"Days", keygate.UsageQuery{From: day, To: day.Add(48 * time.Hour), GroupBy: []string{"model"}}, [2]time.Duration{}},
		{"Hours", keygate.UsageQuery{Tenant: "tn_1", From: day.Add(time.Hour), To: day.Add(30 * time.Hour)}, [2]time.Duration{}},
		{"PartHourFrom", keygate.UsageQuery{From: day.Add(time.Minute), GroupBy: []string{"model"}},
			[2]time.Duration{time.Minute, time.Hour}},
		{"PartHourTo", keygate.UsageQuery{From: day, To: day.Add(2*time.Hour + 30*time.Minute)},
			[2]time.Duration{2 * time.Hour, 2*time.Hour + 30*time.Minute}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var seen []keygate.UsageEvent
			for _, e := range evs {
				if e.Time.Before(day.Add(tc.lost[0])) || !e.Time.Before(day.Add(tc.lost[1])) {
					seen = append(seen, e)
				}
			}
			if diff := cmp.Diff(storetest.SumUsage(seen, tc.q), storetest.MustQueryUsage(t, db, tc.q)); diff != "" {
				t.Errorf("QueryUsage without raw events (-want +got):\n%s", diff)
			}
		})
	}
}

// usageEvents returns n events, one a minute from start, over 3 tenants
// and 2 models.
func usageEvents(start time.Time, n int) []keygate.UsageEvent {
	evs := make([]keygate.UsageEvent, n)
	for i := range evs {
		evs[i] = keygate.UsageEvent{RequestID: fmt.Sprintf("req_%d", i), Time: start.Add(time.Duration(i) * time.Minute),
			Tenant: keygate.TenantID(fmt.Sprintf("tn_%d", i%3)), Provider: "openai", Model: []string{"gpt-4o", "gpt-4o-mini"}[i%2],
			Route: "chat", Source: keygate.SourcePlatform, InputTokens: int64(100 + i), OutputTokens: 20, CostMicros: int64(10 * i),
			Billable: i%4 != 0, Status: 200, Latency: 300 * time.Millisecond}
	}
	return evs
}

// BenchmarkInsertUsage measures one batch of 100 events, as the ledger
// writes them.
func BenchmarkInsertUsage(b *testing.B) {
	url, schema := testkit.PostgresSchema(b)
	db := MustOpen(b, url, postgres.Options{Schema: schema})
	evs := usageEvents(time.Date(2025, 3, 10, 0, 0, 0, 0, time.UTC), 100)
	for b.Loop() {
		if err := db.InsertUsage(b.Context(), evs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(evs)), "ns/event")
}

// BenchmarkQueryUsage measures a month of daily rows of one tenant, over
// 30 days × 1440 events.
func BenchmarkQueryUsage(b *testing.B) {
	url, schema := testkit.PostgresSchema(b)
	db := MustOpen(b, url, postgres.Options{Schema: schema})
	start := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	for d := range 30 {
		storetest.MustInsertUsage(b, db, usageEvents(start.Add(time.Duration(d)*24*time.Hour), 1440))
	}
	for _, bc := range []struct {
		name     string
		from, to time.Time
	}{
		{"Days", start, start.Add(30 * 24 * time.Hour)},
		// Bounds like "the last 30 days" from an API: two part-hours of
		// raw events, hours up to the days.
		{"Unaligned", start.Add(37 * time.Minute), start.Add(29*24*time.Hour + 13*time.Hour + 5*time.Minute)},
	} {
		q := keygate.UsageQuery{Tenant: "tn_1", From: bc.from, To: bc.to, GroupBy: []string{"day", "model"}}
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := db.QueryUsage(b.Context(), q); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

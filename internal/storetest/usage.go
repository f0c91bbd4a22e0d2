// SPDX-License-Identifier: Apache-2.0

package storetest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/keygate/keygate"
)

// MustInsertUsage inserts evs and fails tb on error.
func MustInsertUsage(tb testing.TB, s keygate.GovernanceStore, evs []keygate.UsageEvent) {
	tb.Helper()
	if err := s.InsertUsage(tb.Context(), evs); err != nil {
		tb.Fatalf("InsertUsage(%d events): %v", len(evs), err)
	}
}

// MustQueryUsage runs q and fails tb on error.
func MustQueryUsage(tb testing.TB, s keygate.GovernanceStore, q keygate.UsageQuery) []keygate.UsageRow {
	tb.Helper()
	rows, err := s.QueryUsage(tb.Context(), q)
	if err != nil {
		tb.Fatalf("QueryUsage(%+v): %v", q, err)
	}
	return rows
}

// SumUsage is the reference QueryUsage: it aggregates evs (whose Time must
// be set) for q in memory, as the stores must from their rollups.
func SumUsage(evs []keygate.UsageEvent, q keygate.UsageQuery) []keygate.UsageRow {
	var dims []string
	for _, d := range q.GroupBy {
		if !slices.Contains(dims, d) {
			dims = append(dims, d)
		}
	}
	sums := map[keygate.UsageRow]*keygate.UsageRow{}
	if len(dims) == 0 {
		sums[keygate.UsageRow{}] = &keygate.UsageRow{}
	}
	for _, ev := range evs {
		t := ev.Time.UTC().Truncate(time.Microsecond)
		if q.Tenant != "" && ev.Tenant != q.Tenant || q.User != "" && ev.EndUser != q.User ||
			!q.From.IsZero() && t.Before(q.From) || !q.To.IsZero() && !t.Before(q.To) {
			continue
		}
		var k keygate.UsageRow
		for _, d := range dims {
			switch d {
			case "tenant":
				k.Tenant = ev.Tenant
			case "provider":
				k.Provider = ev.Provider
			case "model":
				k.Model = ev.Model
			case "key_source":
				k.Source = ev.Source
			case "user":
				k.User = ev.EndUser
			case "day":
				y, m, dd := t.Date()
				k.Day = time.Date(y, m, dd, 0, 0, 0, 0, time.UTC)
			}
		}
		r := sums[k]
		if r == nil {
			r = new(keygate.UsageRow)
			*r = k
			sums[k] = r
		}
		r.Requests++
		r.InputTokens += ev.InputTokens
		r.OutputTokens += ev.OutputTokens
		r.CachedTokens += ev.CachedTokens
		r.CostMicros += ev.CostMicros
		if ev.Billable {
			r.BillableCostMicros += ev.CostMicros
		}
		switch ev.Priced {
		case keygate.PricedEstimated:
			r.EstimatedRequests++
		case keygate.PricedNone:
			r.UnpricedRequests++
		}
	}
	out := make([]keygate.UsageRow, 0, len(sums))
	for _, r := range sums {
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b keygate.UsageRow) int {
		for _, d := range dims {
			var c int
			switch d {
			case "tenant":
				c = strings.Compare(string(a.Tenant), string(b.Tenant))
			case "provider":
				c = strings.Compare(a.Provider, b.Provider)
			case "model":
				c = strings.Compare(a.Model, b.Model)
			case "key_source":
				c = strings.Compare(string(a.Source), string(b.Source))
			case "user":
				c = strings.Compare(a.User, b.User)
			case "day":
				c = a.Day.Compare(b.Day)
			}
			if c != 0 {
				return c
			}
		}
		return 0
	})
	return out
}

// allDims are the dimensions QueryUsage groups by.
func allDims() []string { return []string{"tenant", "provider", "model", "key_source", "day"} }

// day0 is the first day of the usage tests' events: a UTC midnight.
var day0 = time.Date(2025, 3, 10, 0, 0, 0, 0, time.UTC)

// randomUsage returns n events over three days from day0, with a small
// set of tenants, providers, models and sources so that rollup rows gather
// several events, at random microsecond times, some in a non-UTC zone.
func randomUsage(r *rand.Rand, n int) []keygate.UsageEvent {
	tenants := []keygate.TenantID{"tn_a", "tn_b", "tn_c"}
	models := map[string][]string{"openai": {"gpt-4o", "gpt-4o-mini"}, "anthropic": {"claude-sonnet-4-5"}, "exa": {""}}
	providers := []string{"openai", "anthropic", "exa"}
	sources := []keygate.KeySource{keygate.SourceTenant, keygate.SourcePlatform, keygate.SourceRequest}
	users := []string{"", "", "u_1", "alice@example.com", "org:42+b"}
	zone := time.FixedZone("UTC-7", -7*3600)
	evs := make([]keygate.UsageEvent, n)
	for i := range evs {
		p := providers[r.IntN(len(providers))]
		t := day0.Add(time.Duration(r.Int64N(int64(72 * time.Hour))))
		if r.IntN(3) == 0 {
			t = t.In(zone)
		}
		cost := r.Int64N(50_000)
		evs[i] = keygate.UsageEvent{
			RequestID:    fmt.Sprintf("req_%d", i),
			Time:         t,
			Tenant:       tenants[r.IntN(len(tenants))],
			EndUser:      users[r.IntN(len(users))],
			Provider:     p,
			Model:        models[p][r.IntN(len(models[p]))],
			Route:        "chat",
			Source:       sources[r.IntN(len(sources))],
			KeyID:        "pk_1",
			KeyVersion:   1 + r.IntN(3),
			InputTokens:  r.Int64N(10_000),
			OutputTokens: r.Int64N(2_000),
			CachedTokens: r.Int64N(500),
			Status:       200,
			Latency:      time.Duration(r.Int64N(int64(5 * time.Second))),
			Streamed:     r.IntN(2) == 0,
			CostMicros:   cost,
			Billable:     r.IntN(2) == 0,
			Priced:       []string{"", keygate.PricedExact, keygate.PricedEstimated, keygate.PricedNone}[r.IntN(4)],
		}
	}
	return evs
}

// testUsageRollups checks that every query, whichever table answers it
// (daily rollup, hourly rollup or raw events), equals the sum of the raw
// events: for every combination of group-by dimensions, several kinds of
// bounds, all tenants and one.
func testUsageRollups(t *testing.T, e *env) {
	r := rand.New(rand.NewPCG(1, 2))
	var evs []keygate.UsageEvent
	for _, n := range []int{1, 17, 64, 3, 115} { // batches of several sizes
		batch := randomUsage(r, n)
		for i := range batch {
			batch[i].RequestID = fmt.Sprintf("req_%d", len(evs)+i)
		}
		MustInsertUsage(t, e.s, batch)
		evs = append(evs, batch...)
	}
	bounds := []struct {
		name     string
		from, to time.Time
	}{
		{"Unbounded", time.Time{}, time.Time{}},
		{"Days", day0.Add(24 * time.Hour), day0.Add(48 * time.Hour)},
		{"DaysInZone", day0.Add(24 * time.Hour).In(time.FixedZone("UTC+5:30", 5*3600+1800)), time.Time{}},
		{"Hours", day0.Add(5 * time.Hour), day0.Add(41 * time.Hour)},
		{"FromOnlyHour", day0.Add(30 * time.Hour), time.Time{}},
		{"Raw", day0.Add(5*time.Hour + 500*time.Millisecond), day0.Add(41*time.Hour + time.Minute)},
		{"RawNanos", day0.Add(time.Hour + 1), day0.Add(50*time.Hour - 1)},
		{"Empty", day0.Add(48 * time.Hour), day0.Add(24 * time.Hour)},
		{"EmptyEqual", day0.Add(5 * time.Hour), day0.Add(5 * time.Hour)},
		{"AllKindsOfBuckets", day0.Add(3*time.Hour + 17*time.Minute), day0.Add(70*time.Hour + 5*time.Minute)},
		{"WithinOneHour", day0.Add(30*time.Hour + 5*time.Minute), day0.Add(30*time.Hour + 55*time.Minute)},
		{"FromOnlyRaw", day0.Add(50*time.Hour + 1), time.Time{}},
		{"ToOnlyRaw", time.Time{}, day0.Add(20*time.Hour + 59*time.Minute)},
	}
	for mask := range 1 << len(allDims()) {
		var dims []string
		for i, d := range allDims() {
			if mask&(1<<i) != 0 {
				dims = append(dims, d)
			}
		}
		t.Run("By_"+strings.Join(dims, "_"), func(t *testing.T) {
			for _, b := range bounds {
				for _, tenant := range []keygate.TenantID{"", "tn_b"} {
					q := keygate.UsageQuery{Tenant: tenant, From: b.from, To: b.to, GroupBy: dims}
					want := SumUsage(evs, q)
					got := MustQueryUsage(t, e.s, q)
					if diff := cmp.Diff(want, got, diffOpts...); diff != "" {
						t.Errorf("%s, tenant %q: QueryUsage (-sum of events +got):\n%s", b.name, tenant, diff)
					}
				}
			}
		})
	}
	// Rows follow the order of GroupBy, not a fixed one.
	for _, dims := range [][]string{{"day", "tenant"}, {"model", "provider"}, {"key_source", "day", "tenant"}} {
		q := keygate.UsageQuery{GroupBy: dims}
		if diff := cmp.Diff(SumUsage(evs, q), MustQueryUsage(t, e.s, q), diffOpts...); diff != "" {
			t.Errorf("QueryUsage(group by %v) (-want +got):\n%s", dims, diff)
		}
	}
}

// testUsageByUser checks grouping by end user and filtering by one, which
// the ledger answers from its events: every query equals the sum of the
// events, calls without an end user grouping under "".
func testUsageByUser(t *testing.T, e *env) {
	evs := randomUsage(rand.New(rand.NewPCG(3, 4)), 150)
	MustInsertUsage(t, e.s, evs)
	bounds := [][2]time.Time{{}, {day0.Add(24 * time.Hour), day0.Add(48 * time.Hour)}, {day0.Add(5*time.Hour + 1), day0.Add(41 * time.Hour)}}
	for _, dims := range [][]string{nil, {"user"}, {"tenant", "user"}, {"user", "day", "model"}, {"key_source", "user", "user"}} {
		for _, user := range []string{"", "u_1", "alice@example.com", "nobody"} {
			for _, tenant := range []keygate.TenantID{"", "tn_a"} {
				for _, b := range bounds {
					q := keygate.UsageQuery{Tenant: tenant, User: user, From: b[0], To: b[1], GroupBy: dims}
					if diff := cmp.Diff(SumUsage(evs, q), MustQueryUsage(t, e.s, q), diffOpts...); diff != "" {
						t.Errorf("QueryUsage(%+v) (-sum of events +got):\n%s", q, diff)
					}
				}
			}
		}
	}
}

func testUsageQuery(t *testing.T, e *env) {
	// An empty ledger: one zero total row, no grouped rows.
	if diff := cmp.Diff([]keygate.UsageRow{{}}, MustQueryUsage(t, e.s, keygate.UsageQuery{})); diff != "" {
		t.Errorf("QueryUsage(empty ledger, total) (-want +got):\n%s", diff)
	}
	if got := MustQueryUsage(t, e.s, keygate.UsageQuery{GroupBy: []string{"tenant"}}); len(got) != 0 {
		t.Errorf("QueryUsage(empty ledger, by tenant) = %+v, want no rows", got)
	}
	at := day0.Add(9 * time.Hour)
	MustInsertUsage(t, e.s, []keygate.UsageEvent{
		{RequestID: "r1", Time: at, Tenant: "tn_a", Provider: "openai", Model: "gpt-4o", Source: keygate.SourcePlatform,
			InputTokens: 100, OutputTokens: 10, CachedTokens: 5, CostMicros: 1000, Billable: true},
		{RequestID: "r2", Time: at.Add(time.Minute), Tenant: "tn_a", Provider: "openai", Model: "gpt-4o", Source: keygate.SourceTenant,
			InputTokens: 200, OutputTokens: 20, CostMicros: 2000, Billable: false},
		{RequestID: "r3", Time: at.Add(24 * time.Hour), Tenant: "tn_b", Provider: "anthropic", Model: "claude-sonnet-4-5",
			Source: keygate.SourceRequest, InputTokens: 300, OutputTokens: 30, CostMicros: 3000, Billable: true},
		{RequestID: "r4", Time: at.Add(24*time.Hour + time.Second), Tenant: "tn_a", Provider: "openai", Model: "gpt-4o",
			Source: keygate.SourcePlatform, InputTokens: 1, OutputTokens: 1, CostMicros: 7, Billable: true},
	})
	day1 := day0.Add(24 * time.Hour)
	tests := []struct {
		name string
		q    keygate.UsageQuery
		want []keygate.UsageRow
	}{
		{"Total", keygate.UsageQuery{}, []keygate.UsageRow{{Requests: 4, InputTokens: 601, OutputTokens: 61, CachedTokens: 5,
			CostMicros: 6007, BillableCostMicros: 4007}}},
		{"Tenant", keygate.UsageQuery{Tenant: "tn_a"}, []keygate.UsageRow{{Requests: 3, InputTokens: 301, OutputTokens: 31,
			CachedTokens: 5, CostMicros: 3007, BillableCostMicros: 1007}}},
		{"UnknownTenant", keygate.UsageQuery{Tenant: "tn_nope"}, []keygate.UsageRow{{}}},
		{"BySource", keygate.UsageQuery{GroupBy: []string{"key_source"}}, []keygate.UsageRow{
			{Source: keygate.SourcePlatform, Requests: 2, InputTokens: 101, OutputTokens: 11, CachedTokens: 5, CostMicros: 1007, BillableCostMicros: 1007},
			{Source: keygate.SourceRequest, Requests: 1, InputTokens: 300, OutputTokens: 30, CostMicros: 3000, BillableCostMicros: 3000},
			{Source: keygate.SourceTenant, Requests: 1, InputTokens: 200, OutputTokens: 20, CostMicros: 2000},
		}},
		{"ByDayTenant", keygate.UsageQuery{GroupBy: []string{"day", "tenant"}}, []keygate.UsageRow{
			{Day: day0, Tenant: "tn_a", Requests: 2, InputTokens: 300, OutputTokens: 30, CachedTokens: 5, CostMicros: 3000, BillableCostMicros: 1000},
			{Day: day1, Tenant: "tn_a", Requests: 1, InputTokens: 1, OutputTokens: 1, CostMicros: 7, BillableCostMicros: 7},
			{Day: day1, Tenant: "tn_b", Requests: 1, InputTokens: 300, OutputTokens: 30, CostMicros: 3000, BillableCostMicros: 3000},
		}},
		{"RepeatedDimension", keygate.UsageQuery{Tenant: "tn_b", GroupBy: []string{"provider", "model", "provider"}}, []keygate.UsageRow{
			{Provider: "anthropic", Model: "claude-sonnet-4-5", Requests: 1, InputTokens: 300, OutputTokens: 30, CostMicros: 3000, BillableCostMicros: 3000},
		}},
		{"SecondDay", keygate.UsageQuery{From: day1, To: day1.Add(24 * time.Hour), GroupBy: []string{"tenant"}}, []keygate.UsageRow{
			{Tenant: "tn_a", Requests: 1, InputTokens: 1, OutputTokens: 1, CostMicros: 7, BillableCostMicros: 7},
			{Tenant: "tn_b", Requests: 1, InputTokens: 300, OutputTokens: 30, CostMicros: 3000, BillableCostMicros: 3000},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, MustQueryUsage(t, e.s, tc.q)); diff != "" {
				t.Errorf("QueryUsage (-want +got):\n%s", diff)
			}
		})
	}
	for _, dims := range [][]string{{"week"}, {"tenant", "Tenant"}, {""}} {
		_, err := e.s.QueryUsage(e.ctx, keygate.UsageQuery{GroupBy: dims})
		wantCode(t, fmt.Sprintf("QueryUsage(group by %q)", dims), err, keygate.CodeInvalidRequest)
	}
	if err := e.s.InsertUsage(e.ctx, nil); err != nil {
		t.Errorf("InsertUsage(nil): %v", err)
	}
}

// testUsageDayEdges puts events on both sides of UTC midnights, to the
// microsecond, and checks that each bound is inclusive (From) or exclusive
// (To) whichever table answers.
func testUsageDayEdges(t *testing.T, e *env) {
	mid1 := day0.Add(24 * time.Hour)
	mid2 := day0.Add(48 * time.Hour)
	ev := func(id string, at time.Time) keygate.UsageEvent {
		return keygate.UsageEvent{RequestID: id, Time: at, Tenant: "tn_a", Provider: "openai", Model: "gpt-4o",
			Source: keygate.SourcePlatform, InputTokens: 1, CostMicros: 1, Billable: true}
	}
	evs := []keygate.UsageEvent{
		ev("before", mid1.Add(-time.Microsecond)),
		ev("first", mid1),
		ev("last", mid2.Add(-time.Microsecond)),
		ev("after", mid2),
		// Nanoseconds are not stored: this one is at mid1 - 1µs.
		ev("nanos", mid1.Add(-time.Microsecond+999)),
	}
	MustInsertUsage(t, e.s, evs)
	tests := []struct {
		name     string
		from, to time.Time
		want     int64
	}{
		{"Day", mid1, mid2, 2},
		{"DayInZone", mid1.In(time.FixedZone("UTC+9", 9*3600)), mid2.In(time.FixedZone("UTC-3", -3*3600)), 2},
		{"FromDay", mid1, time.Time{}, 3},
		{"ToDay", time.Time{}, mid1, 2},
		{"Hours", mid1.Add(-time.Hour), mid1.Add(time.Hour), 3},
		{"RawFromLastMicro", mid1.Add(-time.Microsecond), mid2, 4},
		{"RawToAfterFirst", mid1.Add(-time.Microsecond), mid1.Add(time.Microsecond), 3},
		{"RawToNanos", time.Time{}, mid1.Add(-time.Microsecond + 1), 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, dims := range [][]string{nil, {"day"}} {
				q := keygate.UsageQuery{From: tc.from, To: tc.to, GroupBy: dims}
				var n int64
				for _, r := range MustQueryUsage(t, e.s, q) {
					n += r.Requests
				}
				if n != tc.want {
					t.Errorf("QueryUsage(%s, group by %v): %d requests, want %d", tc.name, dims, n, tc.want)
				}
				if diff := cmp.Diff(SumUsage(evs, q), MustQueryUsage(t, e.s, q), diffOpts...); diff != "" {
					t.Errorf("QueryUsage(%s, group by %v) (-want +got):\n%s", tc.name, dims, diff)
				}
			}
		})
	}
}

// testUsageZeroTime checks that an event without a time is recorded at the
// store's clock.
func testUsageZeroTime(t *testing.T, e *env) {
	MustInsertUsage(t, e.s, []keygate.UsageEvent{{RequestID: "r", Tenant: "tn_a", Provider: "openai", InputTokens: 3}})
	y, m, d := e.now().UTC().Date()
	want := []keygate.UsageRow{{Day: time.Date(y, m, d, 0, 0, 0, 0, time.UTC), Requests: 1, InputTokens: 3}}
	got := MustQueryUsage(t, e.s, keygate.UsageQuery{GroupBy: []string{"day"}})
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("QueryUsage (-want +got):\n%s", diff)
	}
	hour := e.now().Truncate(time.Hour)
	got = MustQueryUsage(t, e.s, keygate.UsageQuery{From: hour, To: hour.Add(time.Hour)})
	if len(got) != 1 || got[0].Requests != 1 {
		t.Errorf("QueryUsage(the clock's hour) = %+v, want the event", got)
	}
}

// testUsageConcurrent inserts batches that hit the same rollup rows from
// several goroutines: none may be lost, and (PostgreSQL) none may deadlock.
func testUsageConcurrent(t *testing.T, e *env) {
	const writers, batches = 6, 8
	var mu sync.Mutex
	var all []keygate.UsageEvent
	var wg sync.WaitGroup
	errs := make(chan error, writers*batches)
	for w := range writers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 7))
			for range batches {
				evs := randomUsage(r, 12)
				if err := e.s.InsertUsage(e.ctx, evs); err != nil {
					errs <- err
					return
				}
				mu.Lock()
				all = append(all, evs...)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("InsertUsage: %v", err)
	}
	for _, q := range []keygate.UsageQuery{{}, {GroupBy: []string{"tenant", "provider", "model", "key_source", "day"}}} {
		if diff := cmp.Diff(SumUsage(all, q), MustQueryUsage(t, e.s, q), diffOpts...); diff != "" {
			t.Errorf("QueryUsage(%v) after concurrent inserts (-want +got):\n%s", q.GroupBy, diff)
		}
	}
}

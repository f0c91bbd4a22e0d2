// SPDX-License-Identifier: Apache-2.0

package ledger_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/ledger"
	"github.com/keygate/keygate/internal/postgres"
	"github.com/keygate/keygate/internal/pricing"
	"github.com/keygate/keygate/internal/sqlite"
	"github.com/keygate/keygate/internal/storetest"
	"github.com/keygate/keygate/internal/testkit"
)

// backends open an empty store of each kind, closed by t.Cleanup.
func backends() []struct {
	name string
	open func(t *testing.T) keygate.Store
} {
	return []struct {
		name string
		open func(t *testing.T) keygate.Store
	}{
		{"SQLite", func(t *testing.T) keygate.Store {
			db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "keygate.db"), sqlite.Options{})
			if err != nil {
				t.Fatalf("open sqlite: %v", err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		}},
		{"Postgres", func(t *testing.T) keygate.Store {
			url, schema := testkit.PostgresSchema(t)
			db, err := postgres.Open(t.Context(), url, postgres.Options{Schema: schema})
			if err != nil {
				t.Fatalf("open postgres: %v", err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		}},
	}
}

func TestWithStores(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			t.Run("BillingSkipMeter", func(t *testing.T) { testBilling(t, b.open(t)) })
			t.Run("FullQueueDrops", func(t *testing.T) { testFullQueue(t, b.open(t)) })
			t.Run("CloseDrains", func(t *testing.T) { testCloseDrains(t, b.open(t)) })
		})
	}
}

// billingFrom returns a billing lookup over the tenants' stored budgets,
// read once, as the gateway's decision of a call carries them.
func billingFrom(t *testing.T, s keygate.Store, tenants ...keygate.TenantID) func(keygate.TenantID) string {
	m := map[keygate.TenantID]string{}
	for _, id := range tenants {
		b, err := s.GetBudget(t.Context(), id)
		if err != nil {
			t.Fatalf("GetBudget(%s): %v", id, err)
		}
		m[id] = b.BYOKBilling
	}
	return func(id keygate.TenantID) string { return m[id] }
}

// testBilling records calls paid by each source for a tenant under skip
// and one under meter, and checks what QueryUsage reports: every call's
// real cost, and as billable only the platform-paid calls plus, under
// meter, the BYOK ones.
func testBilling(t *testing.T, s keygate.Store) {
	skip := storetest.MustCreateTenant(t, s, "skip")
	meter := storetest.MustCreateTenant(t, s, "meter")
	if _, err := s.PutBudget(t.Context(), keygate.Budget{Tenant: meter.ID, BYOKBilling: keygate.BillingMeter},
		keygate.AuditEvent{ActorID: "at_test", Action: keygate.ActionBudgetUpdated, Tenant: meter.ID}); err != nil {
		t.Fatalf("PutBudget: %v", err)
	}
	tab, err := pricing.Load("")
	if err != nil {
		t.Fatal(err)
	}
	cost, _ := tab.Cost("openai", "gpt-4o", 1000, 200, 400)
	if cost == 0 {
		t.Fatal("gpt-4o has no price")
	}
	billing := billingFrom(t, s, skip.ID, meter.ID)
	w := ledger.New(s, ledger.Options{After: never})
	at := time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)
	sources := []keygate.KeySource{keygate.SourcePlatform, keygate.SourceTenant, keygate.SourceRequest}
	for _, tenant := range []keygate.TenantID{skip.ID, meter.ID} {
		for i, src := range sources {
			w.Record(keygate.UsageEvent{RequestID: fmt.Sprintf("%s_%s", tenant, src), Time: at.Add(time.Duration(i) * time.Minute),
				Tenant: tenant, Provider: "openai", Model: "gpt-4o", Route: "chat", Source: src, Billing: billing(tenant),
				InputTokens: 1000, OutputTokens: 200, CachedTokens: 400, CostMicros: cost, Status: 200})
		}
	}
	MustClose(t, w)
	row := func(tenant keygate.TenantID, src keygate.KeySource, billable bool) keygate.UsageRow {
		r := keygate.UsageRow{Tenant: tenant, Source: src, Requests: 1, InputTokens: 1000, OutputTokens: 200, CachedTokens: 400, CostMicros: cost}
		if billable {
			r.BillableCostMicros = cost
		}
		return r
	}
	want := []keygate.UsageRow{
		row(meter.ID, keygate.SourcePlatform, true),
		row(meter.ID, keygate.SourceRequest, true),
		row(meter.ID, keygate.SourceTenant, true),
		row(skip.ID, keygate.SourcePlatform, true),
		row(skip.ID, keygate.SourceRequest, false),
		row(skip.ID, keygate.SourceTenant, false),
	}
	got := storetest.MustQueryUsage(t, s, keygate.UsageQuery{GroupBy: []string{"tenant", "key_source"}})
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("QueryUsage by tenant and source (-want +got):\n%s", diff)
	}
	// A platform dashboard's total: every cost, but only what is billable
	// counts toward credits.
	total := storetest.MustQueryUsage(t, s, keygate.UsageQuery{From: at.Truncate(24 * time.Hour)})
	if diff := cmp.Diff([]keygate.UsageRow{{Requests: 6, InputTokens: 6000, OutputTokens: 1200, CachedTokens: 2400,
		CostMicros: 6 * cost, BillableCostMicros: 4 * cost}}, total); diff != "" {
		t.Errorf("QueryUsage total (-want +got):\n%s", diff)
	}
}

// blockingStore holds every InsertUsage until release is closed, after
// signalling entered.
type blockingStore struct {
	keygate.Store
	entered chan struct{}
	release chan struct{}
}

func (s *blockingStore) InsertUsage(ctx context.Context, evs []keygate.UsageEvent) error {
	s.entered <- struct{}{}
	select {
	case <-s.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	return s.Store.InsertUsage(ctx, evs)
}

func testFullQueue(t *testing.T, s keygate.Store) {
	const queue, extra = 16, 9
	bs := &blockingStore{Store: s, entered: make(chan struct{}, 100), release: make(chan struct{})}
	w := ledger.New(bs, ledger.Options{QueueSize: queue, BatchSize: 4, After: now})
	w.Record(ev("first"))
	waitEnteredCh(t, bs.entered) // the writer is stuck in the store with "first"
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range queue + extra {
			w.Record(ev(fmt.Sprint(i)))
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second): // a hang guard: Record blocked
		t.Fatal("Record blocked while the store was stuck")
	}
	if got := w.Dropped(); got != extra {
		t.Errorf("Dropped() = %d, want %d", got, extra)
	}
	if got := w.QueueDepth(); got != queue {
		t.Errorf("QueueDepth() = %d, want %d", got, queue)
	}
	close(bs.release)
	MustClose(t, w)
	total := storetest.MustQueryUsage(t, s, keygate.UsageQuery{})
	if got, want := total[0].Requests, int64(1+queue); got != want {
		t.Errorf("store has %d events, want %d (the queued ones)", got, want)
	}
}

func testCloseDrains(t *testing.T, s keygate.Store) {
	const n = 1000
	w := ledger.New(s, ledger.Options{BatchSize: 64, QueueSize: n, After: never})
	var want []keygate.UsageEvent
	at := time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)
	for i := range n {
		e := ev(fmt.Sprint(i))
		e.Time = at.Add(time.Duration(i) * time.Second)
		w.Record(e)
		e.Billable = true
		want = append(want, e)
	}
	MustClose(t, w)
	if w.Written() != n || w.Dropped() != 0 || w.Failed() != 0 {
		t.Errorf("Written, Dropped, Failed = %d, %d, %d; want %d, 0, 0", w.Written(), w.Dropped(), w.Failed(), n)
	}
	q := keygate.UsageQuery{GroupBy: []string{"tenant", "day"}}
	if diff := cmp.Diff(storetest.SumUsage(want, q), storetest.MustQueryUsage(t, s, q)); diff != "" {
		t.Errorf("QueryUsage after Close (-want +got):\n%s", diff)
	}
}

func waitEnteredCh(tb testing.TB, c <-chan struct{}) {
	tb.Helper()
	select {
	case <-c:
	case <-time.After(10 * time.Second): // a hang guard
		tb.Fatal("InsertUsage was not called")
	}
}

// SPDX-License-Identifier: Apache-2.0

package ledger_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/ledger"
)

func ev(id string) keygate.UsageEvent {
	return keygate.UsageEvent{RequestID: id, Tenant: "tn_a", Provider: "openai", Model: "m", Source: keygate.SourcePlatform,
		InputTokens: 10, OutputTokens: 5}
}

func TestCostAndBillable(t *testing.T) {
	billing := map[keygate.TenantID]string{"tn_skip": keygate.BillingSkip, "tn_meter": keygate.BillingMeter, "tn_odd": "weird"}
	tests := []struct {
		name         string
		tenant       keygate.TenantID
		source       keygate.KeySource
		cost         int64 // set by the recorder, written as it is
		wantBillable bool
	}{
		{"PlatformSkip", "tn_skip", keygate.SourcePlatform, 20, true},
		{"TenantSkip", "tn_skip", keygate.SourceTenant, 20, false},
		{"RequestSkip", "tn_skip", keygate.SourceRequest, 20, false},
		{"PlatformMeter", "tn_meter", keygate.SourcePlatform, 20, true},
		{"TenantMeter", "tn_meter", keygate.SourceTenant, 20, true},
		{"RequestMeter", "tn_meter", keygate.SourceRequest, 20, true},
		{"UnknownPolicyIsSkip", "tn_odd", keygate.SourceTenant, 20, false},
		{"UnknownTenantIsSkip", "tn_nope", keygate.SourceTenant, 20, false},
		{"UnknownSourceBills", "tn_skip", "", 20, true},
		{"Unpriced", "tn_meter", keygate.SourcePlatform, 0, true},
	}
	store := &memStore{}
	w := ledger.New(store, ledger.Options{After: never})
	var want []keygate.UsageEvent
	for _, tc := range tests {
		e := keygate.UsageEvent{RequestID: tc.name, Tenant: tc.tenant, Source: tc.source, Provider: "openai", Model: "m",
			InputTokens: 10, OutputTokens: 5, CostMicros: tc.cost, Billing: billing[tc.tenant]}
		w.Record(e)
		e.Billable = tc.wantBillable
		want = append(want, e)
	}
	MustClose(t, w)
	if diff := cmp.Diff(want, store.events()); diff != "" {
		t.Errorf("events written (-want +got):\n%s", diff)
	}
}

// TestNeverPrices: the proxy prices a call once, with the model it sent
// upstream; the ledger writes the cost it is given, also 0.
func TestNeverPrices(t *testing.T) {
	store := &memStore{}
	w := ledger.New(store, ledger.Options{After: never})
	evs := []keygate.UsageEvent{
		{RequestID: "unpriced", Source: keygate.SourcePlatform, Provider: "openai", Model: "m", InputTokens: 10, OutputTokens: 5},
		{RequestID: "priced", Source: keygate.SourcePlatform, Provider: "openai", Model: "m", InputTokens: 10, OutputTokens: 5, CostMicros: 3},
	}
	for _, e := range evs {
		w.Record(e)
	}
	MustClose(t, w)
	for i := range evs {
		evs[i].Billable = true
	}
	if diff := cmp.Diff(evs, store.events()); diff != "" {
		t.Errorf("events written (-want +got):\n%s", diff)
	}
}

func TestNilBilling(t *testing.T) {
	store := &memStore{}
	w := ledger.New(store, ledger.Options{After: never})
	w.Record(keygate.UsageEvent{RequestID: "a", Source: keygate.SourceTenant, Model: "m", InputTokens: 5})
	w.Record(keygate.UsageEvent{RequestID: "b", Source: keygate.SourcePlatform, Model: "m", InputTokens: 5})
	MustClose(t, w)
	want := []keygate.UsageEvent{
		{RequestID: "a", Source: keygate.SourceTenant, Model: "m", InputTokens: 5},
		{RequestID: "b", Source: keygate.SourcePlatform, Model: "m", InputTokens: 5, Billable: true},
	}
	if diff := cmp.Diff(want, store.events()); diff != "" {
		t.Errorf("events written (-want +got):\n%s", diff)
	}
}

func TestBatching(t *testing.T) {
	store := &memStore{}
	w := ledger.New(store, ledger.Options{BatchSize: 4, After: never})
	for i := range 10 {
		w.Record(ev(fmt.Sprint(i)))
	}
	MustClose(t, w)
	if diff := cmp.Diff([]int{4, 4, 2}, store.batchSizes()); diff != "" {
		t.Errorf("batch sizes (-want +got):\n%s", diff)
	}
	if got := w.Written(); got != 10 {
		t.Errorf("Written() = %d, want 10", got)
	}
}

func TestFlushInterval(t *testing.T) {
	store := &memStore{wrote: make(chan struct{}, 1)}
	tm := newTimers()
	w := ledger.New(store, ledger.Options{BatchSize: 100, FlushInterval: time.Minute, After: tm.After})
	defer MustClose(t, w)
	w.Record(ev("a"))
	w.Record(ev("b"))
	timer := tm.next(t) // asked for when "a" arrived
	if timer.d != time.Minute {
		t.Errorf("flush timer of %v, want the FlushInterval", timer.d)
	}
	for w.QueueDepth() > 0 {
		runtime.Gosched() // let the writer take "b" too
	}
	// Nothing is written until the timer of the batch's first event fires
	// (however long that takes: the fake timer decides).
	if got := store.batchSizes(); len(got) != 0 {
		t.Fatalf("batches written before the timer fired: %v", got)
	}
	timer.c <- time.Time{}
	select {
	case <-store.wrote:
	case <-time.After(10 * time.Second): // a hang guard
		t.Fatal("nothing written after the timer fired")
	}
	if diff := cmp.Diff([]int{2}, store.batchSizes()); diff != "" {
		t.Errorf("batch sizes after the timer fired (-want +got):\n%s", diff)
	}
}

// TestFullQueueDrops blocks the store and overfills the queue: Record must
// keep returning, drop exactly the overflow, and count it.
func TestFullQueueDrops(t *testing.T) {
	const queue, extra = 8, 5
	store := &memStore{entered: make(chan struct{}, 10), block: make(chan struct{})}
	w := ledger.New(store, ledger.Options{QueueSize: queue, BatchSize: 1, After: never})
	w.Record(ev("first"))
	waitEntered(t, store) // the writer holds "first" and is stuck in the store

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
		t.Fatal("Record blocked on a full queue")
	}
	if got := w.Dropped(); got != extra {
		t.Errorf("Dropped() = %d, want %d", got, extra)
	}
	if got := w.QueueDepth(); got != queue {
		t.Errorf("QueueDepth() = %d, want %d", got, queue)
	}
	close(store.block)
	go func() {
		for range store.entered { // let the remaining calls through
		}
	}()
	MustClose(t, w)
	close(store.entered)
	if got, want := len(store.events()), 1+queue; got != want {
		t.Errorf("%d events written, want %d", got, want)
	}
	if got := w.QueueDepth(); got != 0 {
		t.Errorf("QueueDepth() after Close = %d, want 0", got)
	}
	w.Record(ev("late"))
	if got := w.Dropped(); got != extra+1 {
		t.Errorf("Dropped() after a Record on a closed Writer = %d, want %d", got, extra+1)
	}
}

func TestCloseDrains(t *testing.T) {
	store := &memStore{}
	w := ledger.New(store, ledger.Options{BatchSize: 7, After: never})
	for i := range 50 {
		w.Record(ev(fmt.Sprint(i)))
	}
	MustClose(t, w)
	if got := len(store.events()); got != 50 {
		t.Errorf("%d events written by Close, want 50", got)
	}
	MustClose(t, w) // a second Close is a no-op
}

func TestCloseTimeout(t *testing.T) {
	store := &memStore{entered: make(chan struct{}, 10), block: make(chan struct{})}
	w := ledger.New(store, ledger.Options{BatchSize: 2, After: never, Retries: 5})
	for i := range 5 {
		w.Record(ev(fmt.Sprint(i)))
	}
	waitEntered(t, store)
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // Close gives up at once
	err := w.Close(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Close(cancelled) = %v, want context.Canceled", err)
	}
	if got := w.Failed(); got != 5 {
		t.Errorf("Failed() = %d, want 5 (none written)", got)
	}
}

func TestRetry(t *testing.T) {
	tests := []struct {
		name        string
		failures    int // calls that fail before the store recovers
		wantWritten int64
		wantFailed  int64
		wantLog     string
	}{
		{"RecoversOnFirstRetry", 1, 3, 0, "retrying"},
		{"RecoversOnLastRetry", 3, 3, 0, "retrying"},
		{"GivesUp", 4, 0, 3, "usage batch dropped"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			store := &memStore{fail: func(call int) error {
				if call <= tc.failures {
					return errStore
				}
				return nil
			}}
			var logs bytes.Buffer
			var backoffs []time.Duration
			var mu sync.Mutex
			after := func(d time.Duration) <-chan time.Time {
				if d == time.Hour {
					return never(d) // the flush timer: batches fill up instead
				}
				mu.Lock()
				backoffs = append(backoffs, d)
				mu.Unlock()
				return now(d)
			}
			w := ledger.New(store, ledger.Options{BatchSize: 3, Retries: 3, RetryBackoff: time.Second, FlushInterval: time.Hour, After: after,
				Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
			for _, id := range []string{"req_1", "req_2", "req_3"} {
				e := ev(id)
				e.Model = "secret-model-name"
				w.Record(e)
			}
			MustClose(t, w)
			if w.Written() != tc.wantWritten || w.Failed() != tc.wantFailed {
				t.Errorf("Written, Failed = %d, %d; want %d, %d", w.Written(), w.Failed(), tc.wantWritten, tc.wantFailed)
			}
			wantBackoffs := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}[:min(tc.failures, 3)]
			if diff := cmp.Diff(wantBackoffs, backoffs); diff != "" {
				t.Errorf("backoffs (-want +got):\n%s", diff)
			}
			out := logs.String()
			if !strings.Contains(out, tc.wantLog) {
				t.Errorf("log has no %q:\n%s", tc.wantLog, out)
			}
			if strings.Contains(out, "secret-model-name") {
				t.Errorf("log shows event contents beyond ids:\n%s", out)
			}
			if tc.wantFailed > 0 && !strings.Contains(out, `"request_ids":["req_1","req_2","req_3"]`) {
				t.Errorf("drop log does not name the request ids:\n%s", out)
			}
		})
	}
}

// TestConcurrentRecord records from many goroutines while batches are
// written; every event is either written or counted as dropped.
func TestConcurrentRecord(t *testing.T) {
	store := &memStore{}
	w := ledger.New(store, ledger.Options{QueueSize: 64, BatchSize: 16, FlushInterval: time.Millisecond})
	const goroutines, each = 8, 500
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				w.Record(ev(fmt.Sprintf("%d_%d", g, i)))
				_ = w.QueueDepth()
			}
		})
	}
	wg.Wait()
	MustClose(t, w)
	if got := w.Written() + w.Dropped(); got != goroutines*each {
		t.Errorf("Written %d + Dropped %d = %d, want %d", w.Written(), w.Dropped(), got, goroutines*each)
	}
	if got := int64(len(store.events())); got != w.Written() {
		t.Errorf("store has %d events, Written() = %d", got, w.Written())
	}
}

func BenchmarkRecord(b *testing.B) {
	w := ledger.New(&memStore{}, ledger.Options{After: never})
	defer w.Close(context.Background())
	e := ev("r")
	e.Billing = keygate.BillingMeter
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			w.Record(e)
		}
	})
}

// TestStorageOutage: while Ping says the store is unreachable, a failed
// batch is kept and tried again (backing off up to MaxBackoff) without
// using up its retries, and is written once the store is back; a Close
// that gives up during the outage counts the batch as failed.
func TestStorageOutage(t *testing.T) {
	tests := []struct {
		name       string
		outage     int // failed calls while the store is unreachable
		giveUp     bool
		wantFailed int64
	}{
		{"WrittenWhenBack", 10, false, 0},
		{"CloseGivesUp", -1, true, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			calls := 0
			down := func() bool { return tc.outage < 0 || calls <= tc.outage }
			store := &memStore{fail: func(call int) error {
				mu.Lock()
				defer mu.Unlock()
				calls = call
				if down() {
					return errStore
				}
				return nil
			}}
			ping := func(context.Context) error {
				mu.Lock()
				defer mu.Unlock()
				if down() {
					return errStore
				}
				return nil
			}
			var backoffs []time.Duration
			tried := make(chan struct{}, 100)
			after := func(d time.Duration) <-chan time.Time {
				if d == time.Hour {
					return never(d)
				}
				mu.Lock()
				backoffs = append(backoffs, d)
				mu.Unlock()
				select {
				case tried <- struct{}{}:
				default:
				}
				return now(d)
			}
			w := ledger.New(store, ledger.Options{BatchSize: 3, Retries: 1, RetryBackoff: time.Second, MaxBackoff: 4 * time.Second,
				FlushInterval: time.Hour, After: after, Ping: ping})
			for _, id := range []string{"req_1", "req_2", "req_3"} {
				w.Record(ev(id))
			}
			ctx := context.Background()
			if tc.giveUp {
				<-tried
				c, cancel := context.WithCancel(ctx)
				cancel()
				ctx = c
			}
			err := w.Close(ctx)
			if tc.giveUp != (err != nil) {
				t.Fatalf("Close = %v, want an error: %t", err, tc.giveUp)
			}
			if w.Failed() != tc.wantFailed || w.Written()+w.Failed() != 3 {
				t.Errorf("Written, Failed = %d, %d; want %d failed of 3", w.Written(), w.Failed(), tc.wantFailed)
			}
			if tc.giveUp {
				return
			}
			want := []time.Duration{time.Second, 2 * time.Second}
			for len(want) < tc.outage {
				want = append(want, 4*time.Second)
			}
			if diff := cmp.Diff(want, backoffs); diff != "" {
				t.Errorf("backoffs (-want +got):\n%s", diff)
			}
		})
	}
}

// SPDX-License-Identifier: Apache-2.0

// Package ledger is the usage ledger's writer: a keygate.UsageRecorder that
// decides whether each call counts toward the platform's credits, and
// writes the events to the store in batches, in the
// background, so that metering never slows a proxied call down.
//
// Record never blocks: it puts the event on a bounded queue, or drops it
// (and counts the drop) when the queue is full because the store cannot
// keep up. One goroutine takes events off the queue and writes them with
// InsertUsage in batches of up to Options.BatchSize events, or whatever has
// gathered Options.FlushInterval after a batch's first event. While the
// store cannot be reached (Options.Ping fails), a failed batch waits for it
// and is written when it returns: the calls served from cached credentials
// during a storage outage are still recorded, as long as the queue holds
// them. A batch the reachable store refuses is retried a few times with
// exponential backoff and then dropped with a log line that names the
// events only by request and tenant id. Close drains the queue.
package ledger

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/keygate/keygate"
)

// Store is where the ledger writes: keygate.GovernanceStore's InsertUsage.
type Store interface {
	InsertUsage(ctx context.Context, evs []keygate.UsageEvent) error
}

// Defaults of Options.
const (
	DefaultQueueSize     = 10_000
	DefaultBatchSize     = 256
	DefaultFlushInterval = 250 * time.Millisecond
	DefaultRetries       = 3
	DefaultRetryBackoff  = 200 * time.Millisecond
	DefaultMaxBackoff    = 5 * time.Second
	DefaultWriteTimeout  = 30 * time.Second
)

// Options are the optional settings of New.
type Options struct {
	// QueueSize is how many events may wait to be written; default
	// DefaultQueueSize.
	QueueSize int
	// BatchSize caps the events of one InsertUsage; default
	// DefaultBatchSize.
	BatchSize int
	// FlushInterval is how long the first event of a batch waits for
	// others; default DefaultFlushInterval.
	FlushInterval time.Duration
	// Retries is how many times a failed batch is tried again before it
	// is dropped; default DefaultRetries (negative: never retry).
	Retries int
	// RetryBackoff is the wait before the first retry, doubled before each
	// next one up to MaxBackoff; default DefaultRetryBackoff.
	RetryBackoff time.Duration
	// MaxBackoff caps the wait between tries, also while the store is
	// unreachable; default DefaultMaxBackoff (or RetryBackoff, if that is
	// longer).
	MaxBackoff time.Duration
	// Ping reports whether the store is reachable. A batch that fails
	// while Ping fails is kept and tried again (at most every MaxBackoff)
	// until the store is back, without using up its Retries; the queue
	// keeps taking events meanwhile (and drops what overflows it). Nil:
	// every failure uses up a retry.
	Ping func(ctx context.Context) error
	// WriteTimeout bounds one InsertUsage call; default
	// DefaultWriteTimeout.
	WriteTimeout time.Duration
	// After is the timer behind FlushInterval and RetryBackoff; default
	// time.After. Tests pass a fake.
	After func(time.Duration) <-chan time.Time
	// Logger receives one line per retried or dropped batch; default:
	// discard.
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.QueueSize <= 0 {
		o.QueueSize = DefaultQueueSize
	}
	if o.BatchSize <= 0 {
		o.BatchSize = DefaultBatchSize
	}
	if o.FlushInterval <= 0 {
		o.FlushInterval = DefaultFlushInterval
	}
	if o.Retries == 0 {
		o.Retries = DefaultRetries
	}
	if o.Retries < 0 {
		o.Retries = 0
	}
	if o.RetryBackoff <= 0 {
		o.RetryBackoff = DefaultRetryBackoff
	}
	if o.MaxBackoff < o.RetryBackoff {
		o.MaxBackoff = max(DefaultMaxBackoff, o.RetryBackoff)
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = DefaultWriteTimeout
	}
	if o.After == nil {
		o.After = time.After
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Writer is the asynchronous usage ledger writer. It is safe for
// concurrent use.
type Writer struct {
	store Store
	opt   Options
	queue chan keygate.UsageEvent

	// mu orders Record against Close: Record sends under the read lock,
	// Close sets closed under the write lock, so once Close holds it no
	// event can still be on its way into the queue, and the drain misses
	// none.
	mu     sync.RWMutex
	closed bool

	stop     chan struct{} // closed by the first Close
	stopOnce sync.Once
	done     chan struct{} // closed when run returns
	ctx      context.Context
	cancel   context.CancelFunc // aborts writes when Close's context ends

	dropped atomic.Int64
	failed  atomic.Int64
	written atomic.Int64
}

var _ keygate.UsageRecorder = (*Writer)(nil)

// New starts a Writer that writes to store. Call Close to stop it.
func New(store Store, opt Options) *Writer {
	opt = opt.withDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	w := &Writer{
		store: store, opt: opt,
		queue: make(chan keygate.UsageEvent, opt.QueueSize),
		stop:  make(chan struct{}), done: make(chan struct{}),
		ctx: ctx, cancel: cancel,
	}
	go w.run()
	return w
}

// Record sets ev's billability, then queues it. It never blocks: when the
// queue is full, or the Writer is closed, the event is dropped and counted
// in Dropped.
//
// CostMicros is written as given: the recorder (the proxy) prices the
// call. Billable is true for platform-paid calls, and for tenant- and
// request-paid (BYOK) calls only when the event's Billing (the tenant's
// policy when the call was decided) is keygate.BillingMeter; anything else
// reads as keygate.BillingSkip. Under keygate.BillingSkip a BYOK call keeps
// its real CostMicros but is not Billable, so a dashboard can show what it
// would have cost apart from what the platform bills.
func (w *Writer) Record(ev keygate.UsageEvent) {
	ev.Billable = w.billable(ev)
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.closed {
		w.dropped.Add(1)
		return
	}
	select {
	case w.queue <- ev:
	default:
		w.dropped.Add(1)
	}
}

// billable applies the BYOK billing policy.
func (w *Writer) billable(ev keygate.UsageEvent) bool {
	switch ev.Source {
	case keygate.SourceTenant, keygate.SourceRequest:
		return ev.Billing == keygate.BillingMeter
	}
	return true // platform-paid (or of unknown source: fail toward billing)
}

// Dropped returns how many events Record dropped because the queue was
// full or the Writer closed.
func (w *Writer) Dropped() int64 { return w.dropped.Load() }

// Failed returns how many events were dropped because the store refused
// their batch on every try (or Close gave up on them).
func (w *Writer) Failed() int64 { return w.failed.Load() }

// Written returns how many events the store accepted.
func (w *Writer) Written() int64 { return w.written.Load() }

// QueueDepth returns how many events wait in the queue (not counting the
// batch being written).
func (w *Writer) QueueDepth() int { return len(w.queue) }

// Close stops accepting events, writes every queued one, and returns when
// done. If ctx ends first, the write in progress is cancelled, the events
// not yet written are counted in Failed, and Close returns an error
// wrapping ctx.Err(). Later calls wait for the same end.
func (w *Writer) Close(ctx context.Context) error {
	w.stopOnce.Do(func() {
		w.mu.Lock()
		w.closed = true
		w.mu.Unlock()
		close(w.stop)
	})
	select {
	case <-w.done:
		return nil
	case <-ctx.Done():
		w.cancel()
		<-w.done
		return fmt.Errorf("close usage ledger: %d events not written: %w", w.failed.Load(), ctx.Err())
	}
}

// run is the writer goroutine.
func (w *Writer) run() {
	defer close(w.done)
	defer w.cancel()
	var batch []keygate.UsageEvent
	var tick <-chan time.Time // set while a partial batch waits
	flush := func() {
		if len(batch) > 0 {
			w.write(batch)
		}
		batch, tick = nil, nil
	}
	add := func(ev keygate.UsageEvent) {
		if batch == nil {
			batch = make([]keygate.UsageEvent, 0, w.opt.BatchSize)
		}
		batch = append(batch, ev)
		if len(batch) >= w.opt.BatchSize {
			flush()
		}
	}
	for {
		select {
		case ev := <-w.queue:
			add(ev)
			if len(batch) > 0 && tick == nil {
				tick = w.opt.After(w.opt.FlushInterval)
			}
		case <-tick:
			flush()
		case <-w.stop:
			// Record can no longer queue (Close set closed first), so
			// this drains everything.
			for {
				select {
				case ev := <-w.queue:
					add(ev)
				default:
					flush()
					return
				}
			}
		}
	}
}

// write stores one batch, retrying with backoff, and drops it with a log
// line when every try fails or Close gives up. Tries made while the store
// is unreachable do not count.
func (w *Writer) write(batch []keygate.UsageEvent) {
	backoff := w.opt.RetryBackoff
	for try := 0; ; {
		err := w.insert(batch)
		if err == nil {
			w.written.Add(int64(len(batch)))
			return
		}
		outage := w.ctx.Err() == nil && w.unreachable()
		if !outage && (try >= w.opt.Retries || w.ctx.Err() != nil) {
			w.failed.Add(int64(len(batch)))
			w.opt.Logger.LogAttrs(context.Background(), slog.LevelError, "usage batch dropped",
				slog.Int("events", len(batch)), slog.Int("tries", try+1), slog.String("error", err.Error()),
				slog.Any("request_ids", ids(batch, func(ev keygate.UsageEvent) string { return ev.RequestID })),
				slog.Any("tenants", ids(batch, func(ev keygate.UsageEvent) string { return string(ev.Tenant) })))
			return
		}
		if !outage {
			try++
		}
		w.opt.Logger.LogAttrs(context.Background(), slog.LevelWarn, "usage batch write failed, retrying",
			slog.Int("events", len(batch)), slog.Int("try", try), slog.Bool("store_unreachable", outage),
			slog.Duration("backoff", backoff), slog.String("error", err.Error()))
		select {
		case <-w.opt.After(backoff):
		case <-w.ctx.Done():
		}
		backoff = min(backoff*2, w.opt.MaxBackoff)
	}
}

// pingTimeout bounds one Options.Ping.
const pingTimeout = time.Second

// unreachable reports whether Options.Ping says the store cannot be
// reached.
func (w *Writer) unreachable() bool {
	if w.opt.Ping == nil {
		return false
	}
	ctx, cancel := context.WithTimeout(w.ctx, pingTimeout)
	defer cancel()
	return w.opt.Ping(ctx) != nil
}

func (w *Writer) insert(batch []keygate.UsageEvent) error {
	if err := w.ctx.Err(); err != nil {
		return errors.New("ledger closing: gave up")
	}
	ctx, cancel := context.WithTimeout(w.ctx, w.opt.WriteTimeout)
	defer cancel()
	return w.store.InsertUsage(ctx, batch)
}

// maxLoggedIDs caps the ids a log line lists.
const maxLoggedIDs = 20

// ids returns the distinct non-empty ids of batch, at most maxLoggedIDs.
func ids(batch []keygate.UsageEvent, id func(keygate.UsageEvent) string) []string {
	var out []string
	seen := map[string]bool{}
	for _, ev := range batch {
		s := id(ev)
		if s == "" || seen[s] {
			continue
		}
		if len(out) == maxLoggedIDs {
			out = append(out, "...")
			break
		}
		seen[s] = true
		out = append(out, s)
	}
	return out
}

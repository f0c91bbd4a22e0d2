// SPDX-License-Identifier: Apache-2.0

package loadtest

import (
	"context"
	"fmt"
	"maps"
	"sync"
	"sync/atomic"
	"time"
)

// Mode is how load is offered.
type Mode string

// Load modes.
const (
	// Closed: Concurrency clients each send their next request as soon as
	// the previous one is answered. Measures the maximum throughput.
	Closed Mode = "closed"
	// Open: requests are sent at a fixed Rate whatever the answers do;
	// latency counts from each request's intended send time.
	Open Mode = "open"
)

// Load is how a run offers its requests. A run ends after Duration or
// MaxRequests measured requests, whichever comes first.
type Load struct {
	Mode        Mode          `json:"mode"`
	Concurrency int           `json:"concurrency,omitempty"` // closed loop; open loop: cap on requests in flight
	Rate        float64       `json:"rate,omitempty"`        // open loop, requests per second
	Duration    time.Duration `json:"duration_ns"`
	MaxRequests int           `json:"max_requests,omitempty"`
	// Warmup runs closed-loop at Concurrency, unmeasured, before the
	// measured phase (connections, caches, JIT-free but not GC-free).
	Warmup time.Duration `json:"warmup_ns,omitempty"`
}

// Usage is the CPU and memory a process used during a run.
type Usage struct {
	CPUSeconds float64 `json:"cpu_seconds"`
	// CPUPer1k is CPU seconds per 1,000 requests.
	CPUPer1k float64 `json:"cpu_s_per_1k_req"`
	// PeakRSSMiB is VmHWM after the run, reset before its warmup.
	PeakRSSMiB float64 `json:"peak_rss_mib,omitempty"`
	RSSMiB     float64 `json:"rss_mib,omitempty"`
}

// Result is one target's numbers in one run.
type Result struct {
	Target   string `json:"target"`
	Requests uint64 `json:"requests"`
	// Errors are the calls that failed: every answer other than 200
	// counts, so a target that answers errors fast is not reported as
	// fast. ErrorKinds counts them by status or kind of failure.
	Errors     uint64            `json:"errors"`
	ErrorKinds map[string]uint64 `json:"error_kinds,omitempty"`
	FirstError string            `json:"first_error,omitempty"`
	// UpstreamAnswered is how many calls the upstream fake answered during
	// the measured runs (where the target reports it): fewer than Requests
	// means some answers did not come from the fake.
	UpstreamAnswered *uint64      `json:"upstream_answered,omitempty"`
	Seconds          float64      `json:"seconds"`
	RPS              float64      `json:"rps"`
	Latency          Percentiles  `json:"latency"`
	TTFB             *Percentiles `json:"ttfb,omitempty"`
	ChunkGap         *Percentiles `json:"chunk_gap,omitempty"`
	// AddedVsDirect is this target's latency minus the direct target's in
	// the same scenario; AddedVsBaseline minus the baseline's.
	AddedVsDirect   *Percentiles `json:"added_vs_direct,omitempty"`
	AddedVsBaseline *Percentiles `json:"added_vs_baseline,omitempty"`
	Server          *Usage       `json:"server,omitempty"`
	// AllocsPerRequest is the server's heap allocations per request
	// (where the target reports them).
	AllocsPerRequest float64 `json:"allocs_per_request,omitempty"`
	Generator        Usage   `json:"generator"`
}

// counters accumulate a run's outcome.
type counters struct {
	lat, ttfb, gaps *Histogram
	ok, errs        atomic.Uint64
	mu              sync.Mutex
	firstErr        error
	kinds           map[string]uint64
}

func newCounters() *counters {
	return &counters{lat: NewHistogram(), ttfb: NewHistogram(), gaps: NewHistogram(), kinds: map[string]uint64{}}
}

func (c *counters) add(s sample) {
	if s.err != nil {
		c.errs.Add(1)
		kind := errorKind(s.err)
		c.mu.Lock()
		if c.firstErr == nil {
			c.firstErr = s.err
		}
		c.kinds[kind]++
		c.mu.Unlock()
		return
	}
	c.ok.Add(1)
	c.lat.Record(s.total)
	if s.ttfb > 0 {
		c.ttfb.Record(s.ttfb)
	}
}

// Measure drives target with workload w under load l and measures it: the
// generator's own CPU, and the server's CPU, peak RSS and allocations when
// the target names its process. Errors are returned only when the run
// could not be made at all; failed requests are counted in the result.
func Measure(ctx context.Context, t Target, w Workload, l Load) (Result, error) {
	a := NewAccumulator(t.Name, w)
	if err := a.Measure(ctx, t, l); err != nil {
		return Result{}, err
	}
	return a.Result(), nil
}

// Accumulator sums the runs of one target (rounds of a scenario,
// interleaved with the other targets' so that a noisy neighbour hurts them
// all alike) into one Result.
type Accumulator struct {
	name    string
	w       Workload
	c       *counters
	elapsed time.Duration
	self    time.Duration
	server  time.Duration
	hasProc bool
	peak    int64
	rss     int64
	mallocs uint64
	hasMall bool
	up      uint64
	hasUp   bool
}

// NewAccumulator returns an empty accumulator for target name.
func NewAccumulator(name string, w Workload) *Accumulator {
	return &Accumulator{name: name, w: w, c: newCounters()}
}

// Measure runs one round of l against t and adds it.
func (a *Accumulator) Measure(ctx context.Context, t Target, l Load) error {
	conns := l.Concurrency
	if conns <= 0 {
		conns = 64
	}
	client := newClient(conns)
	defer client.CloseIdleConnections()
	cl, err := newCaller(t, a.w, client)
	if err != nil {
		return err
	}
	return a.measure(ctx, t, l, cl, conns)
}

func (a *Accumulator) measure(ctx context.Context, t Target, l Load, cl *caller, conns int) error {
	var err error
	if t.PID > 0 {
		_ = ResetPeak(t.PID) // best effort: without it the peak counts from the start
	}
	if l.Warmup > 0 {
		closedLoop(ctx, cl, conns, l.Warmup, 0, newCounters())
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	var cpu0 time.Duration
	var mallocs0 uint64
	if t.PID > 0 {
		if cpu0, err = CPUTime(t.PID); err != nil {
			return err
		}
	}
	if t.Mallocs != nil {
		if mallocs0, err = t.Mallocs(ctx); err != nil {
			return fmt.Errorf("allocations of %s: %w", t.Name, err)
		}
	}
	var up0 uint64
	if t.Upstream != nil {
		if up0, err = t.Upstream(ctx); err != nil {
			return fmt.Errorf("upstream calls during %s: %w", t.Name, err)
		}
	}
	self0 := SelfCPUTime()
	began := time.Now()
	switch l.Mode {
	case Open:
		if l.Rate <= 0 {
			return fmt.Errorf("open loop needs a rate")
		}
		openLoop(ctx, cl, l.Rate, conns, l.Duration, l.MaxRequests, a.c)
	default:
		closedLoop(ctx, cl, conns, l.Duration, l.MaxRequests, a.c)
	}
	a.elapsed += time.Since(began)
	a.self += SelfCPUTime() - self0
	if t.PID > 0 {
		cpu1, err := CPUTime(t.PID)
		if err != nil {
			return err
		}
		mem, err := ReadMemory(t.PID)
		if err != nil {
			return err
		}
		a.hasProc = true
		a.server += cpu1 - cpu0
		a.peak = max(a.peak, mem.Peak)
		a.rss = mem.RSS
	}
	if t.Upstream != nil {
		up1, err := t.Upstream(ctx)
		if err != nil {
			return fmt.Errorf("upstream calls during %s: %w", t.Name, err)
		}
		a.hasUp = true
		a.up += up1 - up0
	}
	if t.Mallocs != nil {
		m1, err := t.Mallocs(ctx)
		if err != nil {
			return fmt.Errorf("allocations of %s: %w", t.Name, err)
		}
		a.hasMall = true
		a.mallocs += m1 - mallocs0
	}
	return nil
}

// Result returns the sum of the rounds measured.
func (a *Accumulator) Result() Result {
	c := a.c
	r := Result{
		Target:   a.name,
		Requests: c.ok.Load(),
		Errors:   c.errs.Load(),
		Seconds:  a.elapsed.Seconds(),
		Latency:  c.lat.Summary(),
	}
	if c.firstErr != nil {
		r.FirstError = c.firstErr.Error()
	}
	if len(c.kinds) > 0 {
		r.ErrorKinds = maps.Clone(c.kinds)
	}
	if a.hasUp {
		up := a.up
		r.UpstreamAnswered = &up
	}
	if r.Seconds > 0 {
		r.RPS = float64(r.Requests) / r.Seconds
	}
	total := float64(r.Requests + r.Errors)
	per1k := func(d time.Duration) float64 {
		if total == 0 {
			return 0
		}
		return d.Seconds() / total * 1000
	}
	r.Generator = Usage{CPUSeconds: a.self.Seconds(), CPUPer1k: per1k(a.self)}
	if a.w.Kind == KindStream {
		ttfb, gaps := c.ttfb.Summary(), c.gaps.Summary()
		r.TTFB, r.ChunkGap = &ttfb, &gaps
	}
	if a.hasProc {
		r.Server = &Usage{CPUSeconds: a.server.Seconds(), CPUPer1k: per1k(a.server), PeakRSSMiB: mib(a.peak), RSSMiB: mib(a.rss)}
	}
	if a.hasMall && total > 0 {
		r.AllocsPerRequest = float64(a.mallocs) / total
	}
	return r
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// drainTimeout bounds how long a closed loop waits, after its end, for the
// calls still in flight; calls not answered by then are cut.
const drainTimeout = 30 * time.Second

// closedLoop runs conns workers, each sending its next request when the
// last is answered, until d has passed or max requests were sent (max 0:
// no limit). At the end no new call is sent, and the calls in flight are
// waited for and counted rather than cut: a server keeps working on a call
// its client dropped, and that work would land in the next run's CPU (the
// warm-up's in the measured run) with no call to charge it to. For a slow
// server (hundreds of ms per call, 64 in flight) in a short run, those
// calls are a large share of the calls counted.
func closedLoop(ctx context.Context, cl *caller, conns int, d time.Duration, max int, c *counters) {
	end := time.Now().Add(d)
	ctx, cancel := context.WithDeadline(ctx, end.Add(drainTimeout))
	defer cancel()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range conns {
		wg.Go(func() {
			buf := make([]byte, 32<<10)
			for ctx.Err() == nil && time.Now().Before(end) {
				i := int(next.Add(1) - 1)
				if max > 0 && i >= max {
					return
				}
				start := time.Now()
				s := cl.do(ctx, i, start, buf, c.gaps)
				if s.err != nil && ctx.Err() != nil {
					return // cut by the run's context or the drain timeout, not a failure
				}
				c.add(s)
			}
		})
	}
	wg.Wait()
}

// openLoop sends requests at rate per second for d (or max requests),
// each at its intended time, and measures each from that time: a request
// that had to wait for the generator or for a free slot is charged the
// wait. At most inflight requests are outstanding.
func openLoop(ctx context.Context, cl *caller, rate float64, inflight int, d time.Duration, max int, c *counters) {
	n := int(rate * d.Seconds())
	if max > 0 && n > max {
		n = max
	}
	interval := time.Duration(float64(time.Second) / rate)
	slots := make(chan struct{}, inflight)
	bufs := sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}
	var wg sync.WaitGroup
	t0 := time.Now().Add(time.Millisecond)
	for i := 0; i < n && ctx.Err() == nil; i++ {
		intended := t0.Add(time.Duration(i) * interval)
		if wait := time.Until(intended); wait > 0 {
			time.Sleep(wait)
		}
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return
		}
		wg.Go(func() {
			defer func() { <-slots }()
			b := bufs.Get().(*[]byte)
			s := cl.do(ctx, i, intended, *b, c.gaps)
			bufs.Put(b)
			if s.err != nil && ctx.Err() != nil {
				return
			}
			c.add(s)
		})
	}
	wg.Wait()
}

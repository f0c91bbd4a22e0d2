// SPDX-License-Identifier: Apache-2.0

package ledger_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/ledger"
)

// memStore records the batches it is given. If block is set, every
// InsertUsage first signals entered and then waits for block (or its
// context). fail, if set, decides whether a call fails.
type memStore struct {
	mu      sync.Mutex
	batches [][]keygate.UsageEvent
	calls   int
	entered chan struct{}
	block   chan struct{}
	fail    func(call int) error
	wrote   chan struct{} // if set, signalled after each batch is kept
}

func (s *memStore) InsertUsage(ctx context.Context, evs []keygate.UsageEvent) error {
	if s.block != nil {
		s.entered <- struct{}{}
		select {
		case <-s.block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.fail != nil {
		if err := s.fail(s.calls); err != nil {
			return err
		}
	}
	s.batches = append(s.batches, slices.Clone(evs))
	if s.wrote != nil {
		s.wrote <- struct{}{}
	}
	return nil
}

// events returns every event written, in order.
func (s *memStore) events() []keygate.UsageEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []keygate.UsageEvent
	for _, b := range s.batches {
		out = append(out, b...)
	}
	return out
}

func (s *memStore) batchSizes() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []int
	for _, b := range s.batches {
		out = append(out, len(b))
	}
	return out
}

var errStore = errors.New("database is locked")

// timers is a fake Options.After: every request is sent on reqs, and the
// test fires it (or not) by hand.
type timers struct{ reqs chan timer }

type timer struct {
	d time.Duration
	c chan time.Time
}

func newTimers() *timers { return &timers{reqs: make(chan timer, 100)} }

func (f *timers) After(d time.Duration) <-chan time.Time {
	t := timer{d: d, c: make(chan time.Time, 1)}
	f.reqs <- t
	return t.c
}

// next waits for the writer's next timer request.
func (f *timers) next(tb testing.TB) timer {
	tb.Helper()
	select {
	case t := <-f.reqs:
		return t
	case <-time.After(10 * time.Second): // a hang guard, not a timing assertion
		tb.Fatal("the writer asked for no timer")
		return timer{}
	}
}

// never is an Options.After whose timers never fire, so that only a full
// batch or Close writes.
func never(time.Duration) <-chan time.Time { return nil }

// now is an Options.After whose timers fire at once.
func now(time.Duration) <-chan time.Time {
	c := make(chan time.Time, 1)
	c <- time.Time{}
	return c
}

// MustClose closes w and fails tb on error.
func MustClose(tb testing.TB, w *ledger.Writer) {
	tb.Helper()
	if err := w.Close(context.Background()); err != nil {
		tb.Fatalf("Close: %v", err)
	}
}

// waitEntered waits until s's InsertUsage has been entered.
func waitEntered(tb testing.TB, s *memStore) {
	tb.Helper()
	waitEnteredCh(tb, s.entered)
}

// SPDX-License-Identifier: Apache-2.0

package keyhealth_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/keyhealth"
	"github.com/keygate/keygate/internal/keyvault"
)

// fakeVault holds n keys: key i is "valid" if i is even, rejected if odd.
type fakeVault struct {
	keys     []keygate.ProviderKey
	mu       sync.Mutex
	reported map[string]keygate.KeyStatus
}

func newVault(n int) *fakeVault {
	v := &fakeVault{reported: map[string]keygate.KeyStatus{}}
	for i := 0; i < n; i++ {
		v.keys = append(v.keys, keygate.ProviderKey{ID: fmt.Sprintf("pk_%d", i), Owner: keygate.TenantID(fmt.Sprintf("tn_%d", i)), Provider: "openai", Version: 1})
	}
	return v
}

func (v *fakeVault) AllKeys(context.Context) ([]keygate.ProviderKey, error) { return v.keys, nil }

func (v *fakeVault) Resolve(_ context.Context, owner keygate.TenantID, _ string) (keygate.Secret, keygate.ProviderKey, error) {
	for _, k := range v.keys {
		if k.Owner == owner {
			return keygate.NewSecret(k.ID), k, nil
		}
	}
	return keygate.Secret{}, keygate.ProviderKey{}, keygate.Errorf(keygate.CodeNotFound, "none")
}

func (v *fakeVault) ReportStatus(_ context.Context, _ keyvault.Change, k keygate.ProviderKey, s keygate.KeyStatus, _ string) (bool, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.reported[k.ID] = s
	return true, nil
}

// gatedProber blocks every check until release is closed and records the
// peak number of checks running at once, and per key.
type gatedProber struct {
	release          chan struct{}
	started          chan struct{} // if set, told of every check as it starts
	running, peak    atomic.Int64
	mu               sync.Mutex
	perKey, perKeyMx map[string]int
}

func (p *gatedProber) Check(_ context.Context, _ string, key keygate.Secret) (keyhealth.Result, error) {
	n := p.running.Add(1)
	for {
		old := p.peak.Load()
		if n <= old || p.peak.CompareAndSwap(old, n) {
			break
		}
	}
	id := key.Reveal()
	p.mu.Lock()
	p.perKey[id]++
	if p.perKey[id] > p.perKeyMx[id] {
		p.perKeyMx[id] = p.perKey[id]
	}
	p.mu.Unlock()
	if p.started != nil {
		p.started <- struct{}{}
	}
	<-p.release
	p.mu.Lock()
	p.perKey[id]--
	p.mu.Unlock()
	p.running.Add(-1)
	var i int
	fmt.Sscanf(id, "pk_%d", &i)
	if i%2 == 1 {
		return keyhealth.Result{Status: keyhealth.Rejected, Error: "rejected (HTTP 401)"}, nil
	}
	return keyhealth.Result{Status: keyhealth.Valid}, nil
}

func TestCheckAllConcurrencyAndOnePerKey(t *testing.T) {
	v := newVault(20)
	// Room for every check of both rounds, so no check waits on the test.
	p := &gatedProber{release: make(chan struct{}), started: make(chan struct{}, 40), perKey: map[string]int{}, perKeyMx: map[string]int{}}
	c := keyhealth.NewMonitor(v, p, keyhealth.Options{Concurrency: 3})
	ctx := context.Background()
	var wg sync.WaitGroup
	counts := make([]int, 2)
	for i := range counts { // two rounds at once: keys are never checked twice at a time
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			counts[i], _ = c.CheckAll(ctx)
		}(i)
	}
	for range 3 { // three checks hold the three slots until released
		<-p.started
	}
	close(p.release)
	wg.Wait()
	if peak := p.peak.Load(); peak > 3 {
		t.Errorf("peak concurrency %d, want at most 3", peak)
	}
	for id, mx := range p.perKeyMx {
		if mx > 1 {
			t.Errorf("%s checked %d times at once", id, mx)
		}
	}
	if counts[0]+counts[1] < 20 {
		t.Errorf("checked %v keys in the two rounds, want every key at least once", counts)
	}
	for _, k := range v.keys {
		var i int
		fmt.Sscanf(k.ID, "pk_%d", &i)
		want := keygate.KeyStatusValid
		if i%2 == 1 {
			want = keygate.KeyStatusInvalid
		}
		if v.reported[k.ID] != want {
			t.Errorf("%s reported %q, want %q", k.ID, v.reported[k.ID], want)
		}
	}
}

func TestNextDelayJitter(t *testing.T) {
	for _, r := range []float64{0, 0.25, 0.5, 0.999} {
		c := keyhealth.NewMonitor(newVault(0), nil, keyhealth.Options{Interval: time.Hour, Jitter: 0.2, Rand: func() float64 { return r }})
		d := c.NextDelay()
		if d < 48*time.Minute || d > 72*time.Minute {
			t.Errorf("rand %v: delay %v outside 1h ± 20%%", r, d)
		}
	}
	lo := keyhealth.NewMonitor(newVault(0), nil, keyhealth.Options{Interval: time.Hour, Jitter: 0.2, Rand: func() float64 { return 0 }}).NextDelay()
	hi := keyhealth.NewMonitor(newVault(0), nil, keyhealth.Options{Interval: time.Hour, Jitter: 0.2, Rand: func() float64 { return 0.999 }}).NextDelay()
	if lo != 48*time.Minute || hi <= lo {
		t.Errorf("jitter does not spread: %v .. %v", lo, hi)
	}
}

// TestRunOnFakeClock: Run waits one jittered interval per round (asked of
// the fake clock), checks every key each round, and stops with ctx.
func TestRunOnFakeClock(t *testing.T) {
	v := newVault(4)
	p := &gatedProber{release: make(chan struct{}), perKey: map[string]int{}, perKeyMx: map[string]int{}}
	close(p.release)
	ticks := make(chan chan time.Time)
	var asked []time.Duration
	var mu sync.Mutex
	after := func(d time.Duration) <-chan time.Time {
		mu.Lock()
		asked = append(asked, d)
		mu.Unlock()
		ch := make(chan time.Time, 1)
		ticks <- ch
		return ch
	}
	c := keyhealth.NewMonitor(v, p, keyhealth.Options{Interval: 6 * time.Hour, Jitter: 0.1, After: after, Rand: func() float64 { return 0.5 }})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- c.Run(ctx) }()
	for round := 0; round < 3; round++ {
		tick := <-ticks
		if got := p.peak.Load(); round == 0 && got != 0 {
			t.Fatal("checked before the first interval passed")
		}
		tick <- time.Time{}
	}
	<-ticks // the fourth wait has begun: three rounds are done
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, d := range asked {
		if d != 6*time.Hour {
			t.Errorf("waited %v, want 6h (rand 0.5 means no jitter)", d)
		}
	}
	if len(v.reported) != 4 {
		t.Errorf("reported %d keys", len(v.reported))
	}
}

// SPDX-License-Identifier: Apache-2.0

package auth_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/auth"
)

// fakeClock is a clock that moves only when told.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type throttled struct {
	addr, surface string
	failures      int
	until         time.Time
}

func TestThrottleWindow(t *testing.T) {
	clock := &fakeClock{t: timeNow()}
	var events []throttled
	th := auth.NewThrottle(auth.ThrottleOptions{Max: 3, Window: time.Minute, Now: clock.Now,
		OnThrottled: func(addr, surface string, n int, until time.Time) {
			events = append(events, throttled{addr, surface, n, until})
		}})
	const a, b = "192.0.2.1", "192.0.2.2"
	th.Fail(a, auth.SurfaceGateway)
	clock.Advance(10 * time.Second)
	th.Fail(a, auth.SurfaceGateway)
	if w := th.Wait(a); w != 0 {
		t.Fatalf("below the threshold: wait %v", w)
	}
	th.Fail(a, auth.SurfaceAPI) // the third in the window
	if w := th.Wait(a); w != 50*time.Second {
		t.Errorf("at the threshold: wait %v, want the rest of the window, 50s", w)
	}
	if w := th.Wait(b); w != 0 {
		t.Errorf("another address waits %v", w)
	}
	th.Fail(a, auth.SurfaceAPI) // more failures while throttled: no second event
	want := []throttled{{a, auth.SurfaceAPI, 3, timeNow().Add(time.Minute)}}
	if diff := cmp.Diff(want, events, cmp.AllowUnexported(throttled{})); diff != "" {
		t.Errorf("throttled events (-want +got):\n%s", diff)
	}
	clock.Advance(50 * time.Second) // the window ends
	if w := th.Wait(a); w != 0 {
		t.Errorf("after the window: wait %v", w)
	}
	// A new window counts from zero, and is sampled again once.
	for range 3 {
		th.Fail(a, auth.SurfaceGateway)
	}
	if w := th.Wait(a); w != time.Minute {
		t.Errorf("second window: wait %v, want 1m", w)
	}
	if len(events) != 2 {
		t.Errorf("%d throttled events, want one per window (2)", len(events))
	}
}

// TestThrottleBounded: the table never holds more addresses than its
// capacity; the address whose window started first goes.
func TestThrottleBounded(t *testing.T) {
	clock := &fakeClock{t: timeNow()}
	th := auth.NewThrottle(auth.ThrottleOptions{Max: 2, Capacity: 100, Now: clock.Now})
	th.Fail("first", auth.SurfaceGateway)
	th.Fail("first", auth.SurfaceGateway)
	for i := range 10_000 {
		clock.Advance(time.Millisecond)
		th.Fail(fmt.Sprintf("198.51.100.%d", i), auth.SurfaceGateway)
		if n := th.Tracked(); n > 100 {
			t.Fatalf("%d addresses tracked, capacity 100", n)
		}
	}
	if w := th.Wait("first"); w != 0 {
		t.Errorf("the oldest address was kept (wait %v) past the capacity", w)
	}
}

// TestGuard: a throttled address is refused with auth_throttled and its
// wait, even with a valid token, without the token being checked;
// unauthorized and token_expired count as failures, other errors do not.
func TestGuard(t *testing.T) {
	clock := &fakeClock{t: timeNow()}
	var counted, refused []string
	th := auth.NewThrottle(auth.ThrottleOptions{Max: 2, Window: time.Minute, Now: clock.Now,
		OnFailure: func(s string) { counted = append(counted, s) }, OnRefused: func(s string) { refused = append(refused, s) }})
	valid, _, _ := auth.Mint(rand.Reader, auth.AdminTokenPrefix)
	checked := 0
	answers := map[string]error{
		"unauthorized": keygate.Errorf(keygate.CodeUnauthorized, "no"),
		"expired":      keygate.Errorf(keygate.CodeTokenExpired, "expired"),
		"unavailable":  keygate.Errorf(keygate.CodeUnavailable, "storage down"),
	}
	var answer error
	g := auth.Guard(th, auth.SurfaceAPI, func(_ context.Context, tok keygate.Secret) (string, error) {
		checked++
		if answer != nil {
			return "", answer
		}
		return "principal", nil
	})
	var wait time.Duration
	ctx := auth.WithClient(context.Background(), &auth.Client{Addr: "203.0.113.9", Refused: auth.RefusalFunc(func(w time.Duration) { wait = w })})

	answer = answers["unavailable"]
	_, _ = g(ctx, valid)
	answer = answers["unauthorized"]
	_, _ = g(ctx, valid)
	if _, err := g(context.Background(), valid); keygate.ErrorCode(err) != keygate.CodeUnauthorized {
		t.Fatalf("without a client: %v", err) // not counted: no address
	}
	clock.Advance(15 * time.Second)
	answer = answers["expired"]
	_, _ = g(ctx, valid) // the second failure: throttled now
	answer = nil
	before := checked
	p, err := g(ctx, valid)
	if keygate.ErrorCode(err) != keygate.CodeAuthThrottled || p != "" {
		t.Fatalf("throttled address with a valid token: %q, %v; want auth_throttled", p, err)
	}
	if keygate.HTTPStatus(keygate.ErrorCode(err)) != 429 || wait != 45*time.Second {
		t.Errorf("status %d, Retry-After %v; want 429 after 45s", keygate.HTTPStatus(keygate.ErrorCode(err)), wait)
	}
	if checked != before {
		t.Error("the token of a throttled address was checked")
	}
	if diff := cmp.Diff([]string{auth.SurfaceAPI, auth.SurfaceAPI}, counted); diff != "" {
		t.Errorf("failures counted (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{auth.SurfaceAPI}, refused); diff != "" {
		t.Errorf("refusals counted (-want +got):\n%s", diff)
	}
	clock.Advance(45 * time.Second)
	if p, err := g(ctx, valid); err != nil || p != "principal" {
		t.Errorf("after the window: %q, %v", p, err)
	}
	if got := auth.RetryAfter(1500 * time.Millisecond); got != "2" {
		t.Errorf("RetryAfter(1.5s) = %s, want 2", got)
	}
}

// SPDX-License-Identifier: Apache-2.0

package auth

import (
	"container/list"
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/keygate/keygate"
)

// Surfaces of authentication, as the throttle's callbacks and metrics name
// them.
const (
	SurfaceAPI     = "api"     // admin tokens: the management API and the BYOK guide
	SurfaceGateway = "gateway" // gateway tokens: the proxy
)

// ThrottleOptions are the settings of a Throttle; zero values take the
// defaults.
type ThrottleOptions struct {
	// Max is how many failed authentications one client address may make
	// in a Window before it is throttled; default 20.
	Max int
	// Window is how long failures are counted, from an address's first
	// failure, and how long a throttled address waits at most; default 1
	// minute.
	Window time.Duration
	// Capacity bounds how many addresses are tracked; default 10,000. Past
	// it, the address whose window started first is forgotten.
	Capacity int
	// Now reads the time; default time.Now.
	Now keygate.Clock
	// OnFailure, if set, is called for each failed authentication.
	OnFailure func(surface string)
	// OnRefused, if set, is called for each request refused because its
	// address is throttled.
	OnRefused func(surface string)
	// OnThrottled, if set, is called once per address and window, when
	// the address reaches Max failures, with the end of its wait: the
	// sampled audit event.
	OnThrottled func(addr, surface string, failures int, until time.Time)
}

// Throttle counts failed authentications per client address, in a bounded
// in-memory table, and refuses every authentication of an address that
// reached the threshold until its window ends: a valid token too, since
// checking tokens for a throttled address would let its guesses go on. It
// is safe for concurrent use. One process counts its own failures: N
// replicas allow N times the threshold.
type Throttle struct {
	opt ThrottleOptions

	mu    sync.Mutex
	addrs map[string]*list.Element // of *throttleEntry
	order *list.List               // oldest window first
}

type throttleEntry struct {
	addr  string
	start time.Time // of the window
	fails int
}

// NewThrottle returns a Throttle with opt.
func NewThrottle(opt ThrottleOptions) *Throttle {
	if opt.Max <= 0 {
		opt.Max = 20
	}
	if opt.Window <= 0 {
		opt.Window = time.Minute
	}
	if opt.Capacity <= 0 {
		opt.Capacity = 10_000
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Throttle{opt: opt, addrs: map[string]*list.Element{}, order: list.New()}
}

// Wait returns how long addr must wait before it may authenticate again:
// 0 if it may now.
func (t *Throttle) Wait(addr string) time.Duration {
	now := t.opt.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	el, ok := t.addrs[addr]
	if !ok {
		return 0
	}
	e := el.Value.(*throttleEntry)
	end := e.start.Add(t.opt.Window)
	if e.fails < t.opt.Max || !now.Before(end) {
		return 0
	}
	return end.Sub(now)
}

// Fail counts a failed authentication of addr on surface.
func (t *Throttle) Fail(addr, surface string) {
	if t.opt.OnFailure != nil {
		t.opt.OnFailure(surface)
	}
	now := t.opt.Now()
	t.mu.Lock()
	el, ok := t.addrs[addr]
	var e *throttleEntry
	switch {
	case !ok:
		if t.order.Len() >= t.opt.Capacity {
			oldest := t.order.Front()
			delete(t.addrs, oldest.Value.(*throttleEntry).addr)
			t.order.Remove(oldest)
		}
		e = &throttleEntry{addr: addr, start: now}
		t.addrs[addr] = t.order.PushBack(e)
	default:
		e = el.Value.(*throttleEntry)
		if !now.Before(e.start.Add(t.opt.Window)) { // a new window
			e.start, e.fails = now, 0
			t.order.MoveToBack(el)
		}
	}
	e.fails++
	reached := e.fails == t.opt.Max
	until := e.start.Add(t.opt.Window)
	t.mu.Unlock()
	if reached && t.opt.OnThrottled != nil {
		t.opt.OnThrottled(addr, surface, t.opt.Max, until)
	}
}

// Tracked returns how many addresses the table holds.
func (t *Throttle) Tracked() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.order.Len()
}

// Client is what the server knows of a request's client, for the throttle.
type Client struct {
	// Addr is the client's address (its IP).
	Addr string
	// Refused, if set, is told the wait when an authentication is refused
	// as throttled (the server sets Retry-After).
	Refused Refusal
}

// Refusal is told how long a refused client must wait.
type Refusal interface {
	Refused(wait time.Duration)
}

// RefusalFunc is a func that is a Refusal.
type RefusalFunc func(wait time.Duration)

// Refused calls f.
func (f RefusalFunc) Refused(wait time.Duration) { f(wait) }

type clientKey struct{}

// WithClient returns ctx carrying c.
func WithClient(ctx context.Context, c *Client) context.Context {
	return context.WithValue(ctx, clientKey{}, c)
}

// ClientFrom returns the Client in ctx, or nil.
func ClientFrom(ctx context.Context) *Client {
	c, _ := ctx.Value(clientKey{}).(*Client)
	return c
}

// Guard returns authenticate throttled by t for surface: a request whose
// client address (ClientFrom) is throttled is refused with auth_throttled
// (429) before its token is looked at, and an unauthorized or
// token_expired answer counts as a failure of its address. A request
// without a Client in its context is not throttled. A nil t returns
// authenticate.
func Guard[T any](t *Throttle, surface string, authenticate func(context.Context, keygate.Secret) (T, error)) func(context.Context, keygate.Secret) (T, error) {
	if t == nil {
		return authenticate
	}
	return func(ctx context.Context, tok keygate.Secret) (T, error) {
		c := ClientFrom(ctx)
		if c == nil {
			return authenticate(ctx, tok)
		}
		if wait := t.Wait(c.Addr); wait > 0 {
			if t.opt.OnRefused != nil {
				t.opt.OnRefused(surface)
			}
			if c.Refused != nil {
				c.Refused.Refused(wait)
			}
			var zero T
			return zero, keygate.Errorf(keygate.CodeAuthThrottled, "Too many failed authentications from this address; retry in %s seconds.", RetryAfter(wait))
		}
		p, err := authenticate(ctx, tok)
		if keygate.IsCode(err, keygate.CodeUnauthorized) || keygate.IsCode(err, keygate.CodeTokenExpired) {
			t.Fail(c.Addr, surface)
		}
		return p, err
	}
}

// RetryAfter returns wait as the whole seconds of a Retry-After header,
// rounded up, at least 1.
func RetryAfter(wait time.Duration) string {
	s := int64((wait + time.Second - 1) / time.Second)
	return fmt.Sprint(max(s, 1))
}

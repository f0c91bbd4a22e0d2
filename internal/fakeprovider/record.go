// SPDX-License-Identifier: Apache-2.0

package fakeprovider

import (
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/keygate/keygate"
)

// Request is what the fake recorded about one request it received.
type Request struct {
	ID       int    // 1, 2, ... in arrival order
	Provider string // the catalog name from the path prefix
	Method   string
	// Path is the path after the provider prefix, as the real provider
	// would see it ("/v1/chat/completions").
	Path     string
	RawQuery string
	Header   http.Header
	Body     []byte
	// Key is the key extracted with the provider's auth scheme; zero when
	// none was sent in the expected header and form.
	Key        keygate.Secret
	Authorized bool // the key was accepted
	Status     int  // the status answered; 0 while in flight or if none was written
	ReceivedAt time.Time
	// CanceledAt is when the request's context was cancelled (the client
	// went away) before the fake finished answering; zero otherwise.
	CanceledAt time.Time
}

func (r *Request) copy() Request {
	c := *r
	c.Header = r.Header.Clone()
	c.Body = slices.Clone(r.Body)
	return c
}

func (r *Request) setAuthorized(mu *sync.Mutex, ok bool) {
	mu.Lock()
	defer mu.Unlock()
	r.Authorized = ok
}

func (f *Fake) record(r *Request) {
	f.mu.Lock()
	f.nextID++
	r.ID = f.nextID
	f.requests = append(f.requests, r)
	c := r.copy()
	f.mu.Unlock()
	if f.hook != nil {
		f.hook(c)
	}
}

func (f *Fake) setStatus(r *Request, status int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r.Status = status
}

func (f *Fake) markCanceled(r *Request) {
	f.mu.Lock()
	r.CanceledAt = f.now()
	c := r.copy()
	f.mu.Unlock()
	select {
	case f.canceled <- c:
	default: // nobody is listening and the buffer is full: the record still has it
	}
}

// Requests returns copies of every recorded request, in arrival order.
func (f *Fake) Requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Request, len(f.requests))
	for i, r := range f.requests {
		out[i] = r.copy()
	}
	return out
}

// LastRequest returns the most recent request, and false if there is none.
func (f *Fake) LastRequest() (Request, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.requests) == 0 {
		return Request{}, false
	}
	return f.requests[len(f.requests)-1].copy(), true
}

// Canceled delivers each request whose client went away before the fake
// finished answering, at the moment it is noticed (CanceledAt set). The
// channel is buffered (256) and never closed; when it is full, further
// cancellations are only visible in Requests.
func (f *Fake) Canceled() <-chan Request { return f.canceled }

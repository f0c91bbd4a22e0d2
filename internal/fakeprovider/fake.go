// SPDX-License-Identifier: Apache-2.0

package fakeprovider

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/provider"
)

// maxBody caps what the fake reads and records of a request body.
const maxBody = 16 << 20

// Fake is the fake provider: an http.Handler serving every catalog provider
// under /{provider}/. Its configuration methods are safe to call while it
// serves.
type Fake struct {
	cat  *provider.Catalog
	now  keygate.Clock
	hook func(Request)

	mu       sync.Mutex
	revoked  map[string]bool
	accepted map[string]bool // nil: every key not revoked
	faults   map[string]*Fault
	echoes   map[string]Echo
	requests []*Request
	nextID   int
	canceled chan Request
	closed   chan struct{}
	once     sync.Once
}

// Option configures a Fake.
type Option func(*Fake)

// WithClock sets the clock that stamps recorded requests (default
// time.Now).
func WithClock(now keygate.Clock) Option { return func(f *Fake) { f.now = now } }

// WithRequestHook calls hook with a copy of each request as soon as it is
// recorded, before it is answered, so a test can act while the request is
// in flight. hook runs on the request's goroutine and must not block long.
func WithRequestHook(hook func(Request)) Option { return func(f *Fake) { f.hook = hook } }

// WithCatalog serves the providers of cat instead of provider.Default().
func WithCatalog(cat *provider.Catalog) Option { return func(f *Fake) { f.cat = cat } }

// New returns a Fake. It serves the providers of provider.Default() unless
// WithCatalog says otherwise; it panics only if the embedded catalog is
// broken, which the provider tests rule out.
func New(opts ...Option) *Fake {
	f := &Fake{
		now:      time.Now,
		revoked:  map[string]bool{},
		faults:   map[string]*Fault{},
		canceled: make(chan Request, 256),
		closed:   make(chan struct{}),
	}
	for _, o := range opts {
		o(f)
	}
	if f.cat == nil {
		cat, err := provider.Default()
		if err != nil {
			panic(fmt.Sprintf("fakeprovider: %v", err))
		}
		f.cat = cat
	}
	return f
}

// Catalog returns the catalog the fake serves.
func (f *Fake) Catalog() *provider.Catalog { return f.cat }

// Revoke makes the given keys rejected with the provider's 401.
func (f *Fake) Revoke(keys ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, k := range keys {
		f.revoked[k] = true
	}
}

// Accept restricts the accepted keys to the given ones (plus any later
// Accept calls); revoked keys stay rejected. By default every key that is
// not revoked is accepted.
func (f *Fake) Accept(keys ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.accepted == nil {
		f.accepted = map[string]bool{}
	}
	for _, k := range keys {
		f.accepted[k] = true
	}
}

// Reset forgets revoked and accepted keys, faults and recorded requests.
func (f *Fake) Reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.revoked = map[string]bool{}
	f.accepted = nil
	f.faults = map[string]*Fault{}
	f.echoes = nil
	f.requests = nil
}

// Close releases every stalled or delayed handler so a server can shut
// down. The fake answers 503 to requests that arrive afterwards.
func (f *Fake) Close() { f.once.Do(func() { close(f.closed) }) }

// ServeHTTP implements http.Handler: it records the request, checks the
// key with the provider's auth scheme, applies faults, and answers.
func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	p, ok := f.cat.Lookup(name)
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]any{"error": map[string]any{
			"message": fmt.Sprintf("fakeprovider: no provider %q; paths start with /{provider}/ (known: %s)",
				name, strings.Join(f.cat.Names(), ", ")),
		}})
		return
	}
	path := "/" + rest
	body, _ := io.ReadAll(io.LimitReader(r.Body, maxBody))
	key, hasKey := p.KeyFromHeader(r.Header)
	rec := &Request{
		Provider:   p.Name,
		Method:     r.Method,
		Path:       path,
		RawQuery:   r.URL.RawQuery,
		Header:     r.Header.Clone(),
		Body:       body,
		Key:        key,
		ReceivedAt: f.now(),
	}
	f.record(rec)

	// The server cancels the request context when the handler returns, so
	// a cancellation counts only if it comes first. A context closes its
	// Done channel before it runs its AfterFuncs: a handler that saw Done
	// and returned may stop the AfterFunc before it ran, so the deferred
	// check counts that cancellation itself.
	ctx := r.Context()
	stop := context.AfterFunc(ctx, func() { f.markCanceled(rec) })
	sw := &statusWriter{ResponseWriter: w}
	defer func() {
		if stop() && ctx.Err() != nil {
			f.markCanceled(rec)
		}
		f.setStatus(rec, sw.status)
	}()

	select {
	case <-f.closed:
		http.Error(sw, "fakeprovider: closed", http.StatusServiceUnavailable)
		return
	default:
	}

	x := &exchange{f: f, p: p, w: sw, r: r, path: path, rawBody: body, ctx: r.Context(), rid: rec.ID, key: key.Reveal()}
	echo, err := f.echoFor(p.Name, r.Header.Get(EchoHeader))
	if err != nil {
		x.fail(http.StatusBadRequest, err.Error())
		return
	}
	if hasKey {
		x.reflect = echo
	}
	if x.reflect.Header {
		h := sw.Header()
		h.Set("X-Echo-Key", x.key)
		h.Set("X-Echo-Key-Base64", base64.StdEncoding.EncodeToString([]byte(x.key)))
		h.Set("X-Echo-Key-Url", url.QueryEscape(x.key))
		h.Set("Trailer", EchoTrailer)
		defer h.Set(EchoTrailer, echoText(x.key))
	}
	if !hasKey || !f.keyAccepted(key) {
		rec.setAuthorized(&f.mu, false)
		msg := "Invalid API key."
		switch {
		case !hasKey:
			msg = fmt.Sprintf("Missing API key: send it in the %s header.", p.Auth.Header)
		case x.reflect.Error:
			msg = "Invalid API key. " + echoText(x.key)
		}
		x.fail(http.StatusUnauthorized, msg)
		return
	}
	rec.setAuthorized(&f.mu, true)
	if x.reflect.Error {
		x.fail(http.StatusBadRequest, "Incorrect API key provided. "+echoText(x.key))
		return
	}

	fault, err := f.faultFor(p.Name, r.Header.Get(FaultHeader))
	if err != nil {
		x.fail(http.StatusBadRequest, err.Error())
		return
	}
	x.fault = fault
	if fault.Encoding != "" {
		sw.Header().Set("Content-Encoding", fault.Encoding)
	}
	if !x.wait(fault.Delay) {
		return
	}
	if fault.Status != 0 {
		if fault.RetryAfter != "" {
			sw.Header().Set("Retry-After", fault.RetryAfter)
		}
		x.fail(fault.Status, http.StatusText(fault.Status))
		return
	}
	if len(body) > 0 && r.Method != http.MethodGet {
		m, err := decodeBody(body)
		if err != nil && strings.Contains(r.Header.Get("Content-Type"), "json") {
			x.fail(http.StatusBadRequest, "The request body is not valid JSON.")
			return
		}
		x.body = m
	}
	if x.body == nil {
		x.body = map[string]any{}
	}
	f.route(x)
}

func (f *Fake) keyAccepted(key keygate.Secret) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := key.Reveal()
	if f.revoked[k] {
		return false
	}
	return f.accepted == nil || f.accepted[k]
}

// exchange is one request being answered.
type exchange struct {
	f       *Fake
	rid     int // the recorded request's ID
	p       provider.Provider
	w       *statusWriter
	r       *http.Request
	ctx     context.Context
	path    string
	rawBody []byte
	body    map[string]any
	fault   Fault
	// key is the key the request carried; reflect says where the answer
	// reflects it.
	key     string
	reflect Echo
}

// wait blocks for d (if positive) and reports false if the request was
// cancelled or the fake closed meanwhile.
func (x *exchange) wait(d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-x.ctx.Done():
		return false
	case <-x.f.closed:
		return false
	}
}

// stall blocks until the client goes away or the fake closes.
func (x *exchange) stall() {
	select {
	case <-x.ctx.Done():
	case <-x.f.closed:
	}
}

// json answers a non-streaming request, applying StallAfter (wait before
// answering) and CutAfter (send half the body, then drop the connection).
func (x *exchange) json(status int, v any) {
	if x.fault.StallAfter > 0 {
		x.stall()
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("fakeprovider: marshal answer: %v", err))
	}
	if x.fault.CutAfter > 0 {
		x.w.Header().Set("Content-Type", "application/json")
		x.w.Header().Set("Content-Length", fmt.Sprint(len(b)))
		x.w.WriteHeader(status)
		_, _ = x.w.Write(b[:len(b)/2])
		x.w.Flush()
		panic(http.ErrAbortHandler)
	}
	x.w.Header().Set("Content-Type", "application/json")
	x.w.WriteHeader(status)
	x.write(b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	_ = json.NewEncoder(&buf).Encode(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// statusWriter remembers the status and keeps flushing available.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusWriter) Flush() {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	_ = http.NewResponseController(s.ResponseWriter).Flush()
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

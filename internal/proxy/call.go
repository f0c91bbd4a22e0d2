// SPDX-License-Identifier: Apache-2.0

package proxy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/provider"
	"github.com/keygate/keygate/internal/quota"
	"github.com/keygate/keygate/internal/reqid"
	"github.com/keygate/keygate/internal/resolver"
	"github.com/keygate/keygate/internal/usage"
)

// call is the state of one proxied call, carried in the request context
// from the route handler through the reverse proxy's hooks.
type call struct {
	route    string // usage route family
	dialect  dialect
	provider provider.Provider
	// path is the upstream path relative to the provider's base URL;
	// rawQuery its query string.
	path     string
	rawQuery string
	// body is the request body when keygate read it (to find the model);
	// nil means the caller's body is streamed through as it arrives.
	body []byte
	// stripUsage: keygate added stream_options.include_usage, so the
	// usage-only chunk is removed from the caller's stream.
	stripUsage bool
	model      string
	// endUser is the call's end user (keygate.UsageEvent.EndUser), ""
	// when it named none.
	endUser string
	// maxOut is the body's output cap (head.MaxOut), when hasMaxOut.
	maxOut    int64
	hasMaxOut bool
	usage     provider.UsageDialect
	caller    resolver.Caller
	// decision is what resolution decided; cred is the credential in use
	// (the fallback after a retry).
	decision resolver.Decision
	cred     resolver.Credential
	start    time.Time
	info     *reqid.Info
	reqID    string

	// sent is when the upstream request left; upstream the provider's
	// time to first header.
	sent     time.Time
	upstream time.Duration
	endSpan  func(keygate.UsageEvent)
	ticket   *quota.Ticket

	// Set by modifyResponse.
	status   int
	streamed bool
	meter    *usage.Meter
	once     sync.Once
}

type callKey struct{}

func callFrom(ctx context.Context) *call {
	c, _ := ctx.Value(callKey{}).(*call)
	return c
}

// begin starts a call: it authenticates the gateway token and fills what is
// known from the request. It writes the error and returns nil when the
// caller may not proceed.
func (p *Proxy) begin(w http.ResponseWriter, r *http.Request, route string, d dialect) *call {
	c := &call{route: route, dialect: d, start: p.d.Now(), info: reqid.InfoFrom(r.Context()), reqID: reqid.From(r.Context()), rawQuery: r.URL.RawQuery}
	tok, fromQuery, err := gatewayToken(r)
	if err != nil {
		p.fail(w, r, c, err)
		return nil
	}
	if fromQuery {
		q := r.URL.Query()
		q.Del("key")
		c.rawQuery = q.Encode()
	}
	caller, err := p.d.Resolver.Authenticate(r.Context(), tok)
	if err != nil {
		p.fail(w, r, c, err)
		return nil
	}
	c.caller = caller
	c.info.Tenant = string(caller.Tenant)
	if c.endUser, err = p.headerEndUser(r); err != nil {
		p.fail(w, r, c, err)
		return nil
	}
	return c
}

// useFallback switches c to the platform key for a retry, opening it now.
// It fails when the platform has no key for the provider or it cannot be
// opened; c then keeps its credential.
func (c *call) useFallback(ctx context.Context) error {
	cred, ok, err := c.decision.Fallback(ctx)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("the platform has no %s key", c.provider.Name)
	}
	c.cred = cred
	c.info.KeySource = string(c.cred.Source)
	return nil
}

// fail answers with err in the call's dialect and logs internal errors
// (and a stored key that does not decrypt, with its cause) in full on the
// server.
func (p *Proxy) fail(w http.ResponseWriter, r *http.Request, c *call, err error) {
	code := keygate.ErrorCode(err)
	if code == keygate.CodeInternal || code == keygate.CodeUnavailable || code == keygate.CodeKeyUnreadable {
		p.d.Logger.ErrorContext(r.Context(), "gateway error", "request_id", c.reqID, "path", r.URL.Path, "err", err)
	}
	if p.d.Observer != nil {
		p.d.Observer.ObserveGatewayError(c.route, code)
	}
	writeError(w, r, c.dialect, err)
}

// readBody reads the whole request body up to the limit.
func (p *Proxy) readBody(r *http.Request) ([]byte, error) {
	if r.ContentLength > p.d.MaxBodyBytes {
		return nil, keygate.Errorf(keygate.CodeBodyTooLarge, "The request body is larger than %d bytes.", p.d.MaxBodyBytes)
	}
	b, err := readAll(http.MaxBytesReader(nil, r.Body, p.d.MaxBodyBytes), r.ContentLength)
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return nil, keygate.Errorf(keygate.CodeBodyTooLarge, "The request body is larger than %d bytes.", p.d.MaxBodyBytes)
	case keygate.IsCode(err, keygate.CodeRequestTimeout):
		return nil, err // the body did not arrive in time (408)
	case err != nil:
		return nil, keygate.Errorf(keygate.CodeInvalidRequest, "The request body could not be read.")
	}
	return b, nil
}

// readAll is io.ReadAll that, when the length is announced, reads into
// one buffer of that size (plus one byte to see the end) instead of
// growing and copying from 512 bytes: a large prompt is copied once.
func readAll(r io.Reader, n int64) ([]byte, error) {
	if n <= 0 || n > 64<<20 {
		return io.ReadAll(r)
	}
	b := make([]byte, 0, n+1)
	for {
		m, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+m]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
		if len(b) == cap(b) {
			// Longer than announced: let ReadAll grow it (the server
			// would have refused a body longer than its Content-Length,
			// so this is only a defensive path).
			rest, err := io.ReadAll(r)
			return append(b, rest...), err
		}
	}
}

func parseHead(body []byte) (head, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return head{}, keygate.Errorf(keygate.CodeInvalidJSON, "The request body is empty; a JSON object is required.")
	}
	h, err := scanHead(body)
	var dup *duplicateField
	switch {
	case errors.As(err, &dup):
		// Only the member's own name: the key as sent, or its value,
		// could be anything, a key included.
		return h, keygate.Errorf(keygate.CodeInvalidRequest, "The request body has %s more than once or under a key in another case; send it once, spelled exactly %q, so that keygate and the provider read the same value.", dup.name, dup.name[strings.LastIndexByte(dup.name, '.')+1:])
	case err != nil:
		return h, keygate.Errorf(keygate.CodeInvalidJSON, "The request body is not valid JSON for this endpoint.")
	}
	if h.Model == "" {
		return h, keygate.Errorf(keygate.CodeInvalidRequest, "model is required.")
	}
	return h, nil
}

// forward resolves the credential for c's provider and sends the call
// through the reverse proxy.
func (p *Proxy) forward(w http.ResponseWriter, r *http.Request, c *call) {
	c.info.Provider = c.provider.Name
	c.info.Model = c.model
	// The token's scope is checked before any key is read or checked.
	if err := c.caller.CheckScope(c.provider.Name, c.model); err != nil {
		p.fail(w, r, c, err)
		return
	}
	var requestKey keygate.Secret
	if v := r.Header.Get(headerProviderKey); v != "" {
		requestKey = keygate.NewSecret(v)
		if err := p.d.Catalog.CheckKeyFormat(c.provider.Name, requestKey); err != nil {
			p.fail(w, r, c, err)
			return
		}
	}
	d, err := p.d.Resolver.Resolve(r.Context(), c.caller, c.provider.Name, requestKey)
	if err != nil {
		p.fail(w, r, c, err)
		return
	}
	c.decision, c.cred = d, d.Credential
	c.info.KeySource = string(c.cred.Source)
	if !p.admit(w, r, c) {
		return
	}
	ctx := r.Context()
	if p.d.StartSpan != nil {
		ctx, c.endSpan = p.d.StartSpan(ctx, "keygate "+c.route)
	}
	p.rp.ServeHTTP(w, r.WithContext(context.WithValue(ctx, callKey{}, c)))
}

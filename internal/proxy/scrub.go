// SPDX-License-Identifier: Apache-2.0

package proxy

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/scrub"
)

// Where a credential was scrubbed, the "where" label of the scrub metric.
const (
	scrubHeader = "header"
	scrubBody   = "body"
)

// errEncodedAnswer refuses an answer whose body keygate cannot read: the
// transport decodes the compression it asked for (the caller's
// Accept-Encoding is never forwarded), so a body still encoded is one the
// provider compressed unasked, where a reflected key could not be found.
var errEncodedAnswer = errors.New("the provider sent a body in an encoding keygate did not ask for")

// scrubResponse removes the call's credentials from everything of resp
// that reaches the caller: header names and values now, the body as it
// streams, and trailers when the body ends. keys are the credentials the
// call sent upstream (the tenant's and, after a retry, the platform's). A
// match is replaced by a marker of the same length, so Content-Length
// stays true. It fails, and the caller gets a 502, when the body is in an
// encoding keygate cannot read.
func (p *Proxy) scrubResponse(ctx context.Context, resp *http.Response, c *call, keys ...keygate.Secret) error {
	if ce := resp.Header.Get("Content-Encoding"); ce != "" && !strings.EqualFold(ce, "identity") {
		return errEncodedAnswer
	}
	s := scrub.New(keys...)
	if s.Empty() {
		return nil
	}
	b := &scrubbedBody{rc: resp.Body, s: s, resp: resp, scrubReport: scrubReport{p: p, ctx: ctx, c: c}}
	if n := scrubHeaders(s, resp.Header); n > 0 {
		b.found(scrubHeader, n)
	}
	b.Reader = scrub.NewReader(resp.Body, s, b.foundInBody)
	resp.Body = b
	return nil
}

// scrubReport counts a call's scrubs and logs the first of each kind: a
// provider that echoes keys is worth an operator's attention (the log says
// where, never what).
type scrubReport struct {
	p                      *Proxy
	ctx                    context.Context
	c                      *call
	loggedHead, loggedBody bool
}

func (r *scrubReport) found(where string, n int) {
	if r.p.d.Observer != nil {
		r.p.d.Observer.ObserveScrubs(r.c.provider.Name, where, n)
	}
	logged := &r.loggedHead
	if where == scrubBody {
		logged = &r.loggedBody
	}
	if !*logged {
		*logged = true
		r.p.d.Logger.WarnContext(r.ctx, "the provider's answer carried the call's credential; keygate replaced it",
			"request_id", r.c.reqID, "provider", r.c.provider.Name, "where", where, "key_source", string(r.c.cred.Source))
	}
}

func (r *scrubReport) foundInBody(n int) { r.found(scrubBody, n) }

// scrubHeaders replaces every needle of s in h's values and drops a header
// whose name holds one. It returns the number of needles found.
func scrubHeaders(s *scrub.Scrubber, h http.Header) int {
	found := 0
	for k, vs := range h {
		if _, n := s.String(k); n > 0 {
			delete(h, k)
			found += n
			continue
		}
		for i, v := range vs {
			if v2, n := s.String(v); n > 0 {
				vs[i] = v2
				found += n
			}
		}
	}
	return found
}

// scrubbedBody is the provider's body with the credentials scrubbed as it
// streams; at its end it scrubs the trailers, which the transport fills in
// just before it reports the end of the body and the reverse proxy copies
// just after.
type scrubbedBody struct {
	*scrub.Reader
	scrubReport
	rc   io.ReadCloser
	s    *scrub.Scrubber
	resp *http.Response
	done bool
}

func (b *scrubbedBody) Read(buf []byte) (int, error) {
	n, err := b.Reader.Read(buf)
	if err != nil && !b.done && len(b.resp.Trailer) > 0 {
		b.done = true
		if m := scrubHeaders(b.s, b.resp.Trailer); m > 0 {
			b.found(scrubHeader, m)
		}
	}
	return n, err
}

func (b *scrubbedBody) Close() error { return b.rc.Close() }

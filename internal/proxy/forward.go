// SPDX-License-Identifier: Apache-2.0

package proxy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/keyvault"
	"github.com/keygate/keygate/internal/reqid"
	"github.com/keygate/keygate/internal/usage"
)

// rewrite builds the upstream request: the provider's URL (only ever the
// operator-configured base URL), the caller's headers without any
// credential, the provider's fixed headers, and the resolved key in the
// provider's own auth scheme.
func (p *Proxy) rewrite(pr *httputil.ProxyRequest) {
	c := callFrom(pr.In.Context())
	p.prepare(pr.Out, c)
	c.sent = p.d.Now()
}

// prepare points out at c's provider with c's credential.
func (p *Proxy) prepare(out *http.Request, c *call) {
	base := p.bases[c.provider.Name]
	out.URL = &url.URL{Scheme: base.Scheme, Host: base.Host, Path: base.Path + c.path, RawQuery: c.rawQuery}
	out.Host = ""
	p.cleanRequestHeader(out.Header)
	c.provider.ApplyHeaders(out.Header)
	c.provider.SetAuth(out.Header, c.cred.Key)
	if c.body != nil {
		body := c.body
		out.Body = io.NopCloser(bytes.NewReader(body))
		out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		out.ContentLength = int64(len(body))
		out.Header.Del("Content-Length")
	}
}

// retryable reports whether a failed answer on the tenant's key may be
// retried on the platform key (fallback_on_error).
func retryable(status int) bool {
	return status == http.StatusUnauthorized || status == http.StatusForbidden ||
		status == http.StatusTooManyRequests || status >= 500
}

// modifyResponse runs once the provider's headers are in: it records key
// health, retries on the platform key where the policy allows it, strips
// credential headers, scrubs the keys the call sent from the headers and
// the body (scrub.go), and meters the body as it streams.
func (p *Proxy) modifyResponse(resp *http.Response) error {
	c := callFrom(resp.Request.Context())
	c.upstream = p.d.Now().Sub(c.sent)
	p.observe(c, resp.StatusCode)
	keys := [2]keygate.Secret{c.cred.Key}
	if c.decision.HasFallback() && c.cred.Source == keygate.SourceTenant && retryable(resp.StatusCode) && (c.body != nil || resp.Request.Body == nil) {
		if alt, err := p.retryOnFallback(resp.Request, c); err == nil {
			resp.Body.Close()
			*resp = *alt
			p.observe(c, resp.StatusCode)
			keys[1] = c.cred.Key
		} else {
			p.d.Logger.WarnContext(resp.Request.Context(), "fallback to the platform key failed", "request_id", c.reqID, "err", err)
		}
	}
	c.status = resp.StatusCode
	p.cleanResponseHeader(resp.Header)
	// Before the meter: what the caller and the ledger see never holds the
	// key, and usage is read from bytes the scrub leaves as they were.
	if err := p.scrubResponse(resp.Request.Context(), resp, c, keys[:]...); err != nil {
		return err
	}
	resp.Header.Set(headerKeySource, string(c.cred.Source))
	c.streamed = strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream")
	c.meter = usage.NewMeter(c.usage, c.streamed)
	resp.Body = &meteredBody{rc: resp.Body, c: c, p: p, ctx: resp.Request.Context()}
	if c.stripUsage && c.streamed {
		resp.Body = usage.NewEventFilter(resp.Body, usage.StripUsageChunk)
	}
	return nil
}

// retryOnFallback sends the call again with the fallback credential.
func (p *Proxy) retryOnFallback(prev *http.Request, c *call) (*http.Response, error) {
	if err := c.useFallback(prev.Context()); err != nil {
		return nil, err
	}
	out := prev.Clone(prev.Context())
	p.prepare(out, c)
	resp, err := p.transports[c.provider.Name].RoundTrip(out)
	if err != nil {
		return nil, fmt.Errorf("retry on platform key: %w", err)
	}
	return resp, nil
}

// observe turns the provider's answer into key health (keyhealth.Live
// decides: a tenant's own key follows its answers, a shared key turns
// invalid only once a check confirms repeated rejections). Whatever must
// be written or checked runs in the background, never on the call's path.
func (p *Proxy) observe(c *call, status int) {
	k := c.cred.Meta
	if p.health == nil || k.ID == "" || c.cred.Source == keygate.SourceRequest {
		return
	}
	var to keygate.KeyStatus
	var why string
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		to, why = keygate.KeyStatusInvalid, fmt.Sprintf("%s rejected the key on a live call (HTTP %d)", c.provider.DisplayName, status)
	case status >= 200 && status < 300:
		to = keygate.KeyStatusValid
	default:
		return
	}
	change := keyvault.Change{Actor: keygate.Actor{ID: "gateway", Name: "live traffic"}, RequestID: c.reqID}
	if work := p.health.Observe(change, k, c.cred.Key, to, why); work != nil {
		p.d.Background(work)
	}
}

// endStatus decides the status a call ended with, and whether the client
// cut it (canceled). answered is the provider's status (0 when no answer
// came); clientGone reports whether the client's request context has
// ended; err is the error that ended the call before an answer (nil for a
// call with an answer); complete reports whether the provider's answer was
// read to its end. In order:
//
//   - the client went away (or the transport says the call was
//     canceled) before the answer was complete: 499, canceled;
//   - the provider could not be reached or failed before answering: 502;
//   - otherwise the provider's status.
//
// A client that hangs up after the last byte (SDKs close the connection
// as soon as they have the final event) did not cut the call.
func endStatus(answered int, clientGone bool, err error, complete bool) (status int, canceled bool) {
	switch {
	case keygate.IsCode(err, keygate.CodeRequestTimeout):
		// The body was still arriving at its deadline (a passthrough body
		// is read as it is forwarded): the failed read also cancels the
		// request's context, but the client is there to be told.
		return http.StatusRequestTimeout, false
	case !complete && (clientGone || errors.Is(err, context.Canceled)):
		return reqid.StatusClientClosed, true
	case err != nil:
		return http.StatusBadGateway, false
	}
	return answered, false
}

// end settles c once it is over: it decides its status with endStatus,
// tells the access log when the client cut the call, and records its
// usage. It reports whether the client cut the call.
func (p *Proxy) end(ctx context.Context, c *call, err error, complete bool) (canceled bool) {
	c.status, canceled = endStatus(c.status, ctx.Err() != nil, err, complete)
	if canceled {
		c.info.Status = c.status
	}
	p.finish(c, canceled)
	return canceled
}

// errorHandler answers when the provider could not be reached or the
// client went away before the answer. A client that went away gets nothing
// (there is no one to write to): the access log says 499.
func (p *Proxy) errorHandler(w http.ResponseWriter, r *http.Request, err error) {
	c := callFrom(r.Context())
	if p.end(r.Context(), c, err, false) {
		return
	}
	p.d.Logger.WarnContext(r.Context(), "upstream request failed", "request_id", c.reqID, "provider", c.provider.Name, "err", err)
	w.Header().Set(headerKeySource, string(c.cred.Source))
	if keygate.IsCode(err, keygate.CodeRequestTimeout) {
		// A passthrough body that did not arrive in time: the caller's
		// fault, not the provider's.
		writeError(w, r, c.dialect, err)
		return
	}
	writeError(w, r, c.dialect, keygate.Errorf(keygate.CodeUpstreamError, "%s could not be reached.", c.provider.DisplayName))
}

// meteredBody passes the provider's body through to the caller and to the
// usage meter; when the proxy closes it (the end of the body, or the
// client leaving mid-stream) the call's usage is recorded.
type meteredBody struct {
	rc  io.ReadCloser
	c   *call
	p   *Proxy
	ctx context.Context
	// eof: the provider's answer was read to its end, so a client that
	// hangs up afterwards (SDKs close the connection as soon as they have
	// the last event) did not cut the call.
	eof bool
}

func (b *meteredBody) Read(buf []byte) (int, error) {
	n, err := b.rc.Read(buf)
	if n > 0 {
		_, _ = b.c.meter.Write(buf[:n])
	}
	if err == io.EOF {
		b.eof = true
	}
	return n, err
}

func (b *meteredBody) Close() error {
	err := b.rc.Close()
	b.p.end(b.ctx, b.c, nil, b.eof)
	return err
}

// pricedModel is the model a call is priced as: the one sent upstream
// (a "provider/model" name without its provider, as the provider's price
// list has it), or, when keygate did not read the body (a passthrough
// call), the one the provider answered with.
func pricedModel(c *call, answered string) string {
	if c.model == "" {
		return answered
	}
	return upstreamModel(c)
}

// finish records the call's usage once.
func (p *Proxy) finish(c *call, canceled bool) {
	c.once.Do(func() {
		ev := keygate.UsageEvent{
			RequestID:  c.reqID,
			Time:       c.start,
			Tenant:     c.caller.Tenant,
			EndUser:    c.endUser,
			TokenID:    c.caller.TokenID,
			Provider:   c.provider.Name,
			Model:      c.model,
			Route:      c.route,
			Source:     c.cred.Source,
			KeyID:      c.cred.Meta.ID,
			KeyVersion: c.cred.Meta.Version,
			Billing:    c.decision.Billing(),
			Status:     c.status,
			Latency:    p.d.Now().Sub(c.start),
			Streamed:   c.streamed,
			Canceled:   canceled,
		}
		if c.meter != nil {
			_ = c.meter.Close()
			if n, ok := c.meter.Counts(); ok {
				ev.InputTokens, ev.OutputTokens, ev.CachedTokens = n.Input, n.Output, n.Cached
				if ev.Model == "" {
					ev.Model = n.Model
				}
			}
		}
		ev.Priced = keygate.PricedNone
		if p.d.Pricing != nil {
			// The one place a call is priced: the ledger records this
			// cost as it is, and the quota settles it. A model without a
			// price is costed at its provider's fallback price (estimated).
			ev.CostMicros, ev.Priced = p.d.Pricing.Quote(c.provider.Name, pricedModel(c, ev.Model), ev.InputTokens, ev.OutputTokens, ev.CachedTokens)
		}
		// A key pasted into the model field is not kept: the ledger, /usage,
		// metrics and traces see the marker.
		ev.Model = p.d.Catalog.RedactModel(ev.Model)
		p.settle(c, ev)
		p.d.Usage.Record(ev)
		if p.d.Observer != nil {
			p.d.Observer.ObserveCall(ev, c.upstream)
		}
		if c.endSpan != nil {
			c.endSpan(ev)
		}
	})
}

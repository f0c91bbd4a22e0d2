package proxy

import (
	"context"
	"net/http"
	"strconv"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/quota"
)

// Quota admits calls under budgets and rate limits.
type Quota interface {
	Admit(ctx context.Context, c quota.Call) (*quota.Ticket, error)
}

// Pricer turns tokens into micro-USD.
type Pricer interface {
	Cost(provider, model string, input, output, cached int64) (int64, bool)
}

// defaultMaxOutput is the output estimate of a call that sets no max
// tokens: generous, so a hard budget is not overrun by one call.
const defaultMaxOutput = 4096

// estimate is what a call may use at most: its input (about four bytes a
// token) and its max output tokens, and their cost by the price table.
func (p *Proxy) estimate(c *call) (tokens, micros int64) {
	in := int64(len(c.body)+3) / 4
	out := int64(defaultMaxOutput)
	if len(c.body) > 0 {
		// Read from the body by parseHead, in the same pass that found
		// the model.
		if c.hasMaxOut {
			out = c.maxOut
		}
		if c.route == "embeddings" {
			out = 0
		}
	}
	tokens = in + out
	if p.d.Pricing != nil {
		micros, _ = p.d.Pricing.Cost(c.provider.Name, upstreamModel(c), in, out, 0)
	}
	return tokens, micros
}

// upstreamModel is the model name as the provider knows it.
func upstreamModel(c *call) string {
	m := c.model
	if i := len(c.provider.Name); len(m) > i && m[:i] == c.provider.Name && m[i] == '/' {
		return m[i+1:]
	}
	return m
}

// admit checks the tenant's budgets and rate limits for c (as the call's
// decision read them), and the calling token's own (its scope's), and
// holds a reservation until the call settles: a call must fit both. It writes the 429 (with Retry-After)
// and returns false when the call may not proceed.
func (p *Proxy) admit(w http.ResponseWriter, r *http.Request, c *call) bool {
	if p.d.Quota == nil {
		return true
	}
	t := c.decision.Tenant
	qc := quota.Call{Tenant: c.caller.Tenant, User: c.endUser, Provider: c.provider.Name, Source: c.cred.Source, Budget: t.Budget, Limits: t.Limits,
		Token: c.caller.TokenID, TokenScope: c.caller.Scope}
	if !quota.Covers(&qc) {
		return true
	}
	qc.EstimateTokens, qc.EstimateMicros = p.estimate(c)
	ticket, err := p.d.Quota.Admit(r.Context(), qc)
	if err != nil {
		if d, ok := quota.AsDenied(err); ok {
			w.Header().Set("Retry-After", strconv.FormatInt(d.RetryAfterSeconds(), 10))
			w.Header().Set(headerKeySource, string(c.cred.Source))
			if p.d.Observer != nil {
				kind := "rate"
				if d.Err.Code == keygate.CodeBudgetExceeded {
					kind = "budget"
				}
				p.d.Observer.ObserveRejection(kind, c.provider.Name)
			}
		}
		p.fail(w, r, c, err)
		return false
	}
	c.ticket = ticket
	return true
}

// settle commits the call's real usage to its reservation (or releases it
// when the call produced nothing).
func (p *Proxy) settle(c *call, ev keygate.UsageEvent) {
	if c.ticket == nil {
		return
	}
	tokens := ev.InputTokens + ev.OutputTokens
	var err error
	if tokens == 0 && ev.CostMicros == 0 && (ev.Status >= 400 || ev.Status == 0) {
		err = c.ticket.Release(context.Background())
	} else {
		err = c.ticket.Settle(context.Background(), tokens, ev.CostMicros)
	}
	if err != nil {
		p.d.Logger.Warn("settle quota", "request_id", c.reqID, "err", err)
	}
}

// SPDX-License-Identifier: Apache-2.0

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

// Pricer turns tokens into micro-USD (pricing.Table, pricing.Live): the
// cost at the model's price, or at the provider's fallback price, and which
// (keygate.PricedExact, PricedEstimated, PricedNone).
type Pricer interface {
	Quote(provider, model string, input, output, cached int64) (micros int64, priced string)
}

// What the proxy does with a platform-paid call whose model has no price
// (Deps.Unpriced).
const (
	// UnpricedEstimate (the default) admits it, costed at the provider's
	// fallback price and marked estimated; a provider with no price at
	// all is refused under a hard money budget.
	UnpricedEstimate = "estimate"
	// UnpricedRefuse refuses it (422 model_unpriced) before it reaches the
	// provider.
	UnpricedRefuse = "refuse"
)

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
		micros, _ = p.d.Pricing.Quote(c.provider.Name, upstreamModel(c), in, out, 0)
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
	if err := p.checkPriced(c); err != nil {
		p.fail(w, r, c, err)
		return false
	}
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

// checkPriced refuses (model_unpriced) a platform-paid call keygate cannot
// price: under UnpricedRefuse, one that names a model without a price;
// always, one to a provider without any price when the tenant has a hard
// money budget, which such a call could overrun unseen. Tenant- and
// request-paid calls are never refused for pricing (the platform does not
// pay for them); nor is a model listing, which costs nothing.
func (p *Proxy) checkPriced(c *call) error {
	if c.cred.Source != keygate.SourcePlatform || p.d.Pricing == nil || c.route == "models" {
		return nil
	}
	_, priced := p.d.Pricing.Quote(c.provider.Name, upstreamModel(c), 1, 1, 0)
	b := &c.decision.Tenant.Budget
	switch {
	case priced == keygate.PricedNone && b.Hard && (b.DailyUSDMicros != nil || b.MonthlyUSDMicros != nil):
		return keygate.Errorf(keygate.CodeModelUnpriced,
			"keygate has no price for calls to %s and the tenant's spending is capped in dollars; the platform does not pay for calls it cannot cost.", c.provider.Name)
	case priced != keygate.PricedExact && p.d.Unpriced == UnpricedRefuse && c.model != "":
		return keygate.Errorf(keygate.CodeModelUnpriced,
			"Model %q has no price at %s, and this gateway refuses platform-paid calls to models it has no price for.", p.d.Catalog.RedactModel(c.model), c.provider.Name)
	}
	return nil
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

// SPDX-License-Identifier: Apache-2.0

package quota

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/keygate/keygate"
)

// Options are the optional settings of a Service.
type Options struct {
	// ReserveTTL is how long a reservation counts when its call is never
	// settled or released (the replica died mid-call). It must exceed the
	// longest call. Default 10 minutes.
	ReserveTTL time.Duration
	// SettleTimeout, if set, bounds a Settle or Release. They run even
	// when the call's context is cancelled (a client that went away still
	// used tokens), so without it only the Counter's own I/O timeouts
	// bound them (go-redis: 3s per read or write by default). Default 0:
	// a deadline costs allocations on the hot path.
	SettleTimeout time.Duration
	// FailOpen admits calls when the Counter cannot be reached (logging
	// the error) instead of refusing them with CodeUnavailable. Off by
	// default: a hard budget that cannot be checked is not enforced.
	FailOpen bool
	// OnSoftExceeded is called when an admitted call passes a soft budget
	// limit. Default: a warning in the log.
	OnSoftExceeded func(tenant keygate.TenantID, limit string)
	Now            keygate.Clock
	Logger         *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.ReserveTTL <= 0 {
		o.ReserveTTL = 10 * time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.OnSoftExceeded == nil {
		log := o.Logger
		o.OnSoftExceeded = func(tenant keygate.TenantID, limit string) {
			log.Warn("soft budget exceeded", "tenant", tenant, "limit", limit)
		}
	}
	return o
}

// Service admits calls under budgets and rate limits and settles them. One
// per process; safe for concurrent use. Several Services (replicas) are
// exact together when they share a Counter backend (Redis).
type Service struct {
	counter Counter
	opt     Options
	prefix  string // random per process: reservation ids never collide across replicas
	seq     atomic.Uint64
	keys    interner
	noop    *Ticket // the shared ticket of calls that no limit covers
}

// New returns a Service counting with c.
func New(c Counter, opts Options) *Service {
	var rnd [8]byte
	_, _ = rand.Read(rnd[:]) // crypto/rand.Read never fails
	s := &Service{counter: c, opt: opts.withDefaults(), prefix: hex.EncodeToString(rnd[:]) + "-"}
	s.noop = &Ticket{s: s}
	s.noop.done.Store(true) // never counts, so sharing it is safe
	return s
}

// Admit decides whether c may go ahead. When it may, the returned Ticket
// holds c's reservations and must be ended with Settle or Release (an
// abandoned ticket's reservations expire after Options.ReserveTTL). A call
// that no limit covers gets a ticket that counts nothing, at no cost.
//
// Errors: a *Denied wrapping *keygate.Error with CodeBudgetExceeded (a
// hard budget limit does not fit the estimate) or CodeRateLimited (an RPM
// or TPM limit is reached); CodeUnavailable when the Counter cannot be
// reached and Options.FailOpen is off.
func (s *Service) Admit(ctx context.Context, c Call) (*Ticket, error) {
	now := c.Now
	if now.IsZero() {
		now = s.opt.Now()
	}
	if !covered(&c) {
		return s.noop, nil
	}
	t := &Ticket{s: s, tenant: c.Tenant, token: c.Token}
	t.addBudgets(&c, now, s.opt.ReserveTTL+time.Hour)
	t.addRates(&c)
	var idb [40]byte
	t.id = string(strconv.AppendUint(append(idb[:0], s.prefix...), s.seq.Add(1), 36))
	res, err := s.counter.Admit(ctx, keygate.QuotaRequest{
		ID:         t.id,
		Now:        now,
		ReserveTTL: s.opt.ReserveTTL,
		Budgets:    t.budgets[:t.nb],
		Rates:      t.rates[:t.nr],
	})
	if err != nil {
		if s.opt.FailOpen {
			s.opt.Logger.Error("quota counter unreachable; admitting (fail open)", "tenant", c.Tenant, "err", err)
			t.done.Store(true)
			return t, nil
		}
		return nil, fmt.Errorf("admit call of %s: %w: %w", c.Tenant,
			keygate.Errorf(keygate.CodeUnavailable, "Budgets and rate limits cannot be checked right now."), err)
	}
	if !res.Admitted() {
		t.done.Store(true)
		return nil, t.denied(res, now)
	}
	if res.Over != "" {
		for i := range t.nb {
			if t.budgets[i].Key == res.Over {
				t.over = t.bmeta[i].limit
				s.opt.OnSoftExceeded(c.Tenant, t.over)
				break
			}
		}
	}
	return t, nil
}

// denied builds the error for a refusal.
func (t *Ticket) denied(res keygate.QuotaResult, now time.Time) error {
	for i := range t.nb {
		if t.budgets[i].Key != res.Refused {
			continue
		}
		m := t.bmeta[i]
		name := "daily"
		if m.limit == LimitMonthlyUSD || m.limit == LimitMonthlyTokens {
			name = "monthly"
		}
		amount := formatUSD(t.budgets[i].Limit)
		if m.tokens {
			name += " token"
			amount = strconv.FormatInt(t.budgets[i].Limit, 10) + " tokens"
		}
		whose, token := "The", ""
		if m.token {
			whose, token = "This gateway token's own", t.token
		}
		msg := keygate.Errorf(keygate.CodeBudgetExceeded, "%s %s budget (%s) is used up; it resets at %s.",
			whose, name, amount, m.resetAt.Format(time.RFC3339))
		if m.perUser {
			// Never the user's id: the platform knows which user it sent.
			msg = keygate.Errorf(keygate.CodeBudgetExceeded,
				"The per-user %s limit (%s for each end user) is used up for this end user; it resets at %s.",
				name, amount, m.resetAt.Format(time.RFC3339))
		}
		return &Denied{
			Err:        msg,
			Limit:      m.limit,
			Token:      token,
			RetryAfter: max(m.resetAt.Sub(now), time.Second),
			ResetAt:    m.resetAt,
		}
	}
	for i := range t.nr {
		if t.rates[i].Key != res.Refused {
			continue
		}
		m := t.rmeta[i]
		unit := "requests"
		if m.limit == LimitTPM {
			unit = "tokens"
		}
		scope := ""
		if m.provider != "" {
			scope = " for " + m.provider
		}
		d := &Denied{Limit: m.limit, Provider: m.provider, RetryAfter: max(res.RetryAfter, time.Millisecond)}
		whose := "The"
		if m.token {
			whose, d.Token = "This gateway token's own", t.token
		}
		d.Err = keygate.Errorf(keygate.CodeRateLimited, "%s rate limit of %d %s per minute%s is reached; retry in %ds.",
			whose, t.rates[i].Limit, unit, scope, d.RetryAfterSeconds())
		return d
	}
	return fmt.Errorf("admit call of %s: counter refused unknown counter %q", t.tenant, res.Refused)
}

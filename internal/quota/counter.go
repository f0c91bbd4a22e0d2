// SPDX-License-Identifier: Apache-2.0

// Package quota decides whether a call may go ahead under its tenant's
// budgets and rate limits, and settles it afterwards: admission after the
// key is resolved and before the provider is called, settlement with the
// call's real usage (docs/governance.md).
//
// The Service holds the arithmetic: which limits apply to a call (by key
// source and provider), the UTC day and month windows, the estimate that is
// reserved before the call and the actual usage committed after it, and the
// 429 errors (Denied) with their Retry-After and reset times. The counting
// itself is a Counter: internal/inmem counts in memory for a single node,
// internal/redis counts in Redis for several replicas. Both run the
// conformance suite in quota/quotatest.
//
// # Budgets
//
// A budget limit is a counter per (tenant, unit, window): committed usage
// plus the reservations of calls in flight. Admission succeeds only if
// committed + reserved + estimate <= limit for every hard limit, atomically
// across replicas; Settle replaces the reservation by the actual usage and
// Release drops it. A reservation that is neither settled nor released (its
// replica died) stops counting after Options.ReserveTTL. Usage counts in the
// window in which the call was admitted. Soft budgets are counted the same
// way but never refuse: Ticket.Over and Options.OnSoftExceeded report them.
//
// # Rate limits
//
// Requests and tokens per minute are GCRA counters per (tenant, provider),
// or per tenant for a limit with no provider. A request costs 1 RPM unit at
// admission. Tokens are not known before the call, so a call costs its token
// estimate at admission (capped at the TPM limit, so that a call larger than
// the limit waits for a full minute instead of never fitting), and Settle
// corrects the counter by actual minus charged tokens: an underestimate
// becomes debt that delays the next calls, an overestimate is given back.
// Release gives the whole token charge back but keeps the request counted.
//
// # Which calls count
//
// A limit whose AppliesTo is keygate.AppliesToPlatform (or empty) checks and
// counts only platform-paid calls; keygate.AppliesToAll checks and counts
// every call.
package quota

import (
	"context"

	"github.com/keygate/keygate"
)

// Counter counts budgets and rates atomically. Implementations must be safe
// for concurrent use, and, when several Service instances share one, exact
// across them: an admission is all or nothing, and no interleaving of
// admissions may take a counter past a limit that Enforce or GCRA guards.
// The conformance suite in quota/quotatest states the contract in full.
type Counter interface {
	// Admit checks every counter of r and, only if all of them admit,
	// reserves r's budget amounts under r.ID (until r.Now+r.ReserveTTL) and
	// consumes r's rate costs. A refusal is a result, not an error; errors
	// mean the counter could not be reached or r is invalid.
	Admit(ctx context.Context, r keygate.QuotaRequest) (keygate.QuotaResult, error)
	// Settle ends the reservation r.ID: in each budget counter it drops the
	// reservation (if it has not expired) and commits r.Budgets[i].Amount;
	// each rate counter's level moves by its Cost (a correction, possibly
	// negative, never below zero).
	Settle(ctx context.Context, r keygate.QuotaRequest) error
}

// SPDX-License-Identifier: Apache-2.0

package keygate

import "time"

// QuotaRequest is one atomic operation on quota counters: the vocabulary
// shared by the quota service (internal/quota), which decides what to count,
// and the counter backends (internal/inmem for one node, internal/redis for
// several replicas), which count it. It lives in the root package because
// adapters import only the root.
//
// At admission, every budget counter is checked and then every rate
// counter; the request is admitted only if all of them admit, and only then
// is anything reserved or consumed (all or nothing). At settlement the same
// counters are named again with the real amounts.
type QuotaRequest struct {
	// ID names the reservation; unique per admission (the quota service
	// makes it from a random per-process prefix and a sequence number).
	ID string
	// Now is the caller's clock. Replicas sharing counters need clocks
	// synchronized (NTP); skew only shifts window edges and expiries by the
	// skew.
	Now time.Time
	// ReserveTTL is how long a reservation stands when it is neither settled
	// nor released (its replica died): after Now+ReserveTTL it no longer
	// counts. Used at admission only.
	ReserveTTL time.Duration
	Budgets    []QuotaBudget
	Rates      []QuotaRate
}

// QuotaBudget is one budget counter in one window (a UTC day or month, in
// micro-USD or tokens). Its state is what has been committed plus what is
// reserved by calls in flight.
type QuotaBudget struct {
	// Key names the counter and its window ("{tn_1}:b:usd:d:20260105").
	// Backends add their own prefix.
	Key string
	// Limit is the most that committed+reserved may reach. Used at
	// admission only.
	Limit int64
	// Amount is the estimate to reserve at admission, and the actual usage
	// to commit at settlement (0 on release).
	Amount int64
	// Enforce refuses an admission that does not fit (hard budget). When
	// false the counter only measures (soft budget), and QuotaResult.Over
	// reports that the limit is passed.
	Enforce bool
	// ExpireAt is when the counter may be forgotten: after its window has
	// ended and every reservation in it has been settled or has expired.
	ExpireAt time.Time
}

// QuotaFits reports whether amount fits a budget counter whose committed
// plus reserved total is used: used+amount <= limit, where an amount of 0
// counts as 1 so that a spent budget refuses even calls with no estimate.
// Every backend uses this rule.
func QuotaFits(used, amount, limit int64) bool {
	return used+max(amount, 1) <= limit
}

// QuotaRate is one GCRA (generic cell rate algorithm) rate counter: at most
// Limit units per Period, with bursts of up to Limit units.
//
// Backends keep the counter's level in exact integer units of
// cost×Period(ms), draining at Limit units per millisecond, so a burst of
// exactly Limit units is admitted and one more unit is not, whatever Limit
// is: an admission of cost c fits iff level + c×Period <= Limit×Period.
type QuotaRate struct {
	// Key names the counter ("{tn_1}:r:openai:rpm"). Backends add their
	// own prefix.
	Key    string
	Limit  int64
	Period time.Duration // whole milliseconds; a minute for RPM and TPM
	// Cost is what the admission consumes (1 for requests, the token
	// estimate for tokens). A cost above Limit never fits: the quota
	// service clamps it. At settlement Cost is the correction to apply,
	// actual minus estimate, negative to give units back; the level never
	// goes below zero.
	Cost int64
}

// QuotaResult is the answer of an admission.
type QuotaResult struct {
	// Refused is the Key of the budget or rate counter that refused the
	// request, "" when it was admitted. Budgets are checked first.
	Refused string
	// RetryAfter is, for a rate refusal, how long until the cost fits if
	// nothing else is admitted meanwhile.
	RetryAfter time.Duration
	// Over is the Key of the first non-enforced budget counter that does
	// not fit this admission (a soft budget is passed), "" if none.
	Over string
}

// Admitted reports whether the request was admitted.
func (r QuotaResult) Admitted() bool { return r.Refused == "" }

// Validate reports a request that no backend can count: a rate counter
// without a positive Limit or with a Period under a millisecond, or an
// empty key. The quota service never builds one; backends check anyway.
func (r QuotaRequest) Validate() error {
	for _, b := range r.Budgets {
		if b.Key == "" {
			return Errorf(CodeInvalidRequest, "A quota budget counter has no key.")
		}
	}
	for _, q := range r.Rates {
		if q.Key == "" || q.Limit <= 0 || q.Period < time.Millisecond {
			return Errorf(CodeInvalidRequest, "Quota rate counter %q needs a key, a positive limit and a period of at least 1ms.", q.Key)
		}
	}
	return nil
}

// SPDX-License-Identifier: Apache-2.0

package quota

import (
	"errors"
	"time"

	"github.com/keygate/keygate"
)

// Limit names, as Denied.Limit and Ticket.Over report them.
const (
	LimitDailyUSD      = "daily_usd"
	LimitMonthlyUSD    = "monthly_usd"
	LimitDailyTokens   = "daily_tokens"
	LimitMonthlyTokens = "monthly_tokens"
	// The per-end-user daily limits (keygate.Budget.PerUserDailyUSDMicros
	// and PerUserDailyTokens).
	LimitUserDailyUSD    = "per_user_daily_usd"
	LimitUserDailyTokens = "per_user_daily_tokens"
	LimitRPM             = "rpm"
	LimitTPM             = "tpm"
)

// Denied is the error of a refused admission. It wraps a *keygate.Error
// with CodeBudgetExceeded or CodeRateLimited (so keygate.ErrorCode and
// keygate.ErrorMessage see through it) and carries what the transport needs
// for the 429: the Retry-After and, for budgets, the reset time.
type Denied struct {
	Err *keygate.Error
	// Limit is the limit that refused: LimitDailyUSD ... LimitTPM.
	Limit string
	// Provider is the provider of a refusing rate limit ("" when the limit
	// covers every provider, and for budgets).
	Provider string
	// Token is the gateway token whose own budget or rate limit (its
	// scope's) refused, "" when the tenant's did.
	Token string
	// RetryAfter is how long to wait before the call can fit: until the
	// window resets for a budget, until enough rate capacity drains for a
	// rate limit. Always positive.
	RetryAfter time.Duration
	// ResetAt is the start of the budget's next window (UTC midnight or
	// first of the month); zero for rate limits.
	ResetAt time.Time
}

// Error implements error with the wrapped error's code and message.
func (d *Denied) Error() string { return d.Err.Error() }

// Unwrap returns the *keygate.Error.
func (d *Denied) Unwrap() error { return d.Err }

// RetryAfterSeconds is RetryAfter rounded up to whole seconds, at least 1:
// the value of a Retry-After header.
func (d *Denied) RetryAfterSeconds() int64 {
	s := int64((d.RetryAfter + time.Second - 1) / time.Second)
	return max(s, 1)
}

// AsDenied returns the *Denied in err's chain, if any.
func AsDenied(err error) (*Denied, bool) {
	var d *Denied
	ok := errors.As(err, &d)
	return d, ok
}

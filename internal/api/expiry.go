// SPDX-License-Identifier: Apache-2.0

package api

import (
	"strconv"
	"strings"
	"time"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/auth"
)

// Bounds of a token's lifetime when it is given one.
const (
	minTokenLifetime = time.Minute
	maxTokenLifetime = 3650 * 24 * time.Hour // ten years
)

// expiryRequest is the part of a token-create body that sets its expiry:
// expires_in (a duration: "90d", "12h", "30m") or expires_at (an RFC 3339
// time), not both; neither means the token never expires.
type expiryRequest struct {
	ExpiresIn *string `json:"expires_in"`
	ExpiresAt *string `json:"expires_at"`
}

// expiry returns when the token expires (zero: never), or an
// invalid_request naming the field. The values are short and not secret,
// but are not echoed all the same.
func (e expiryRequest) expiry(now time.Time) (time.Time, error) {
	var at time.Time
	switch {
	case e.ExpiresIn != nil && e.ExpiresAt != nil:
		return time.Time{}, keygate.Errorf(keygate.CodeInvalidRequest, "Set expires_in or expires_at, not both.")
	case e.ExpiresIn != nil:
		d, ok := parseLifetime(*e.ExpiresIn)
		if !ok {
			return time.Time{}, keygate.Errorf(keygate.CodeInvalidRequest, "expires_in must be a duration such as 90d, 12h or 30m.")
		}
		if d < minTokenLifetime || d > maxTokenLifetime {
			return time.Time{}, keygate.Errorf(keygate.CodeInvalidRequest, "expires_in must be between 1m and 3650d.")
		}
		at = now.Add(d)
	case e.ExpiresAt != nil:
		t, err := time.Parse(time.RFC3339, *e.ExpiresAt)
		if err != nil {
			return time.Time{}, keygate.Errorf(keygate.CodeInvalidRequest, "expires_at must be an RFC 3339 time such as 2026-03-31T00:00:00Z.")
		}
		if d := t.Sub(now); d < minTokenLifetime || d > maxTokenLifetime {
			return time.Time{}, keygate.Errorf(keygate.CodeInvalidRequest, "expires_at must be between 1 minute and 3650 days from now.")
		}
		at = t
	default:
		return time.Time{}, nil
	}
	return at.UTC(), nil
}

// within caps expires, the expiry a caller asked for a token it creates, at
// the caller's own expiry (zero: never): a token without an expiry made by
// an expiring token expires with it, and one asked to outlive it is
// refused, so that an expiring token cannot mint itself a lasting one.
func within(expires time.Time, p auth.Principal) (time.Time, error) {
	if p.ExpiresAt.IsZero() {
		return expires, nil
	}
	if expires.IsZero() {
		return p.ExpiresAt.UTC(), nil
	}
	if expires.After(p.ExpiresAt) {
		return time.Time{}, keygate.Errorf(keygate.CodeInvalidRequest, "expires_in/expires_at: a token cannot outlive the admin token that creates it, which expires at %s.", p.ExpiresAt.UTC().Format(time.RFC3339))
	}
	return expires, nil
}

// parseLifetime parses "<n>d" (whole days) or a Go duration ("12h",
// "90m", "1h30m").
func parseLifetime(s string) (time.Duration, bool) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 || n > 100_000 {
			return 0, false
		}
		return time.Duration(n) * 24 * time.Hour, true
	}
	d, err := time.ParseDuration(s)
	return d, err == nil
}

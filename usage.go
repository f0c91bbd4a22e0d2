// SPDX-License-Identifier: Apache-2.0

package keygate

import "time"

// UsageEvent is the metering record of one proxied call.
type UsageEvent struct {
	RequestID string
	Time      time.Time // when the call started
	Tenant    TenantID
	// EndUser is the platform's id of the end user the call was made for
	// (OpenAI's user, Anthropic's metadata.user_id or the X-Keygate-User
	// header; see ValidEndUser), "" when the call named none.
	EndUser string
	// TokenID is the gateway token that made the call ("gt_...").
	TokenID  string
	Provider string
	Model    string
	// Route is the gateway route family: "chat", "completions",
	// "embeddings", "responses", "messages", "models", "passthrough".
	Route      string
	Source     KeySource
	KeyID      string // empty for request keys
	KeyVersion int
	// Billing is the tenant's BYOK billing policy (BillingSkip or
	// BillingMeter) when the call was decided; the ledger sets Billable
	// from it. Not stored.
	Billing string
	// Tokens as the provider reported them; zero when it reported none.
	InputTokens  int64
	OutputTokens int64
	CachedTokens int64
	Status       int // the HTTP status the caller got; 499 when it went away
	Latency      time.Duration
	Streamed     bool
	Canceled     bool
	// CostMicros is the call's cost in millionths of a US dollar by the
	// price table: at the model's price, or at its provider's fallback
	// price when the model has none (Priced says which).
	CostMicros int64
	// Priced says how CostMicros was found: PricedExact, PricedEstimated
	// or PricedNone. Empty is PricedExact (events written before it
	// existed).
	Priced string
	// Billable reports whether the cost counts toward the platform's
	// credits: always for platform-paid calls; for tenant- and
	// request-paid calls only under the tenant's byok_billing "meter"
	// (Billing).
	Billable bool
}

// How a call was priced (UsageEvent.Priced). Persisted: never rename.
const (
	PricedExact     = "priced"    // at the model's price in the table
	PricedEstimated = "estimated" // the model has no price: at its provider's conservative fallback price
	PricedNone      = "unpriced"  // the provider has no price at all: cost 0
)

// UsageRecorder receives usage events. Record must not block the caller:
// implementations queue and write in the background.
type UsageRecorder interface {
	Record(ev UsageEvent)
}

// MaxEndUserLen is the longest end-user id keygate records.
const MaxEndUserLen = 128

// ValidEndUser reports whether s may be recorded as an end user
// (UsageEvent.EndUser): 1 to MaxEndUserLen characters of A-Z, a-z, 0-9 and
// . _ : @ + - (enough for opaque ids, "org:user" pairs, emails and
// truncated hashes; nothing that needs escaping in a log line, a CSV cell
// or a counter key). The gateway also refuses a value shaped like a
// credential, which this root check cannot see.
func ValidEndUser(s string) bool {
	if len(s) == 0 || len(s) > MaxEndUserLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '.', c == '_', c == ':', c == '@', c == '+', c == '-':
		default:
			return false
		}
	}
	return true
}

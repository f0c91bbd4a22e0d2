package keygate

import "time"

// UsageEvent is the metering record of one proxied call.
type UsageEvent struct {
	RequestID string
	Time      time.Time // when the call started
	Tenant    TenantID
	Provider  string
	Model     string
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

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
	// Tokens as the provider reported them; zero when it reported none.
	InputTokens  int64
	OutputTokens int64
	CachedTokens int64
	Status       int // the HTTP status the caller got; 499 when it went away
	Latency      time.Duration
	Streamed     bool
	Canceled     bool
}

// UsageRecorder receives usage events. Record must not block the caller:
// implementations queue and write in the background.
type UsageRecorder interface {
	Record(ev UsageEvent)
}

// SPDX-License-Identifier: Apache-2.0

package keygate

import (
	"context"
	"time"
)

// BYOK billing policies: whether tenant- and request-paid usage counts
// toward platform credits. Persisted: never rename.
const (
	BillingSkip  = "skip"  // BYOK calls cost the platform nothing (cost 0 in credits)
	BillingMeter = "meter" // BYOK calls are still counted, for platform tracking
)

// Budget applies-to values. Persisted: never rename.
const (
	AppliesToPlatform = "platform" // only platform-paid calls count and are limited
	AppliesToAll      = "all"      // every call counts and is limited
)

// Budget is a tenant's spending limits. A nil limit is no limit. Money is
// in micro-USD (millionths of a dollar), tokens are input+output tokens.
type Budget struct {
	Tenant           TenantID
	DailyUSDMicros   *int64
	MonthlyUSDMicros *int64
	DailyTokens      *int64
	MonthlyTokens    *int64
	// PerUserDailyUSDMicros and PerUserDailyTokens cap what each end user
	// (UsageEvent.EndUser) of the tenant may use in a UTC day, counted
	// over the same calls as the budget (AppliesTo). Calls that name no
	// end user are not capped per user. Hard or soft as the budget is.
	PerUserDailyUSDMicros *int64
	PerUserDailyTokens    *int64
	// Hard budgets refuse calls (429 budget_exceeded) once spent; soft
	// ones only alert.
	Hard bool
	// AppliesTo is AppliesToPlatform (default) or AppliesToAll.
	AppliesTo string
	// BYOKBilling is BillingSkip (default) or BillingMeter.
	BYOKBilling string
	UpdatedAt   time.Time // zero when never set
}

// RateLimit caps a tenant's requests and tokens per minute, for one
// provider or (Provider "") for all. Zero means no cap.
type RateLimit struct {
	Provider  string
	RPM       int64
	TPM       int64
	AppliesTo string // AppliesToPlatform (default) or AppliesToAll
}

// UsageQuery selects usage for aggregation. Zero fields do not filter.
type UsageQuery struct {
	Tenant TenantID // empty: every tenant (platform-wide)
	From   time.Time
	To     time.Time // exclusive
	// User keeps only the calls of this end user (UsageEvent.EndUser).
	User string
	// GroupBy lists the dimensions of the rows: any of "tenant",
	// "provider", "model", "key_source", "user", "token", "day". Empty:
	// one total row. Grouping or filtering by user, or grouping by token,
	// reads the ledger's events, not its rollups.
	GroupBy []string
}

// UsageRow is one aggregated row. Dimensions not grouped by are empty.
type UsageRow struct {
	Tenant       TenantID
	Provider     string
	Model        string
	Source       KeySource
	User         string    // the end user, "" for calls that named none
	Token        string    // the gateway token id, when grouped by token
	Day          time.Time // UTC midnight, when grouped by day
	Requests     int64
	InputTokens  int64
	OutputTokens int64
	CachedTokens int64
	CostMicros   int64
	// BillableCostMicros is the part of CostMicros that counts toward
	// platform credits.
	BillableCostMicros int64
	// EstimatedRequests and UnpricedRequests are the calls among Requests
	// costed at their provider's fallback price, and not costed at all
	// (UsageEvent.Priced).
	EstimatedRequests int64
	UnpricedRequests  int64
}

// GovernanceStore is the part of the Store contract for metering and
// limits: the usage ledger and its rollups, budgets and rate limits.
type GovernanceStore interface {
	// InsertUsage appends a batch of usage events to the ledger and adds
	// them to the hourly and daily rollups, in one transaction.
	InsertUsage(ctx context.Context, evs []UsageEvent) error
	// QueryUsage aggregates usage (from the rollups where the grouping
	// allows) for q, ordered by the grouped dimensions.
	QueryUsage(ctx context.Context, q UsageQuery) ([]UsageRow, error)

	// GetBudget returns the tenant's budget (no limits, AppliesTo
	// platform, BYOKBilling skip, zero UpdatedAt if never set); not_found
	// for an unknown tenant.
	GetBudget(ctx context.Context, tenant TenantID) (Budget, error)
	// PutBudget replaces the tenant's budget, with ev.
	PutBudget(ctx context.Context, b Budget, ev AuditEvent) (Budget, error)
	// GetRateLimits returns the tenant's rate limits (none if never set).
	GetRateLimits(ctx context.Context, tenant TenantID) ([]RateLimit, error)
	// PutRateLimits replaces the tenant's rate limits, with ev.
	PutRateLimits(ctx context.Context, tenant TenantID, limits []RateLimit, ev AuditEvent) ([]RateLimit, error)

	// ImportPrices stores p (Source, Digest, Entries, Skipped, Actor,
	// Prices set by the caller) as the newest price list, with ev, and
	// returns it with its Version and ImportedAt; it announces
	// ChangePrices. When the newest stored list has p's Digest it stores
	// nothing, appends nothing, announces nothing and returns that list
	// (importing the same file twice is idempotent).
	ImportPrices(ctx context.Context, p PriceImport, ev AuditEvent) (PriceImport, error)
	// ListPriceImports returns the stored price lists, newest first,
	// without their Prices.
	ListPriceImports(ctx context.Context) ([]PriceImport, error)
	// LatestPriceImport returns the newest price list with its Prices;
	// not_found if none was imported.
	LatestPriceImport(ctx context.Context) (PriceImport, error)
}

// PriceImport is one imported price list: a version of what overlays the
// built-in price table (the newest is in effect).
type PriceImport struct {
	Version    int64 // 1, 2, ... in import order; set by the store
	ImportedAt time.Time
	Source     string // the file's format: "litellm", "openrouter"
	Digest     string // hex SHA-256 of the file imported
	Entries    int    // prices imported
	Skipped    int    // entries of the file not imported (other providers, units)
	Actor      string // the name of the admin token that imported it
	// Prices is the list in keygate's price-file shape (JSON), read and
	// checked by the pricing package; the store keeps it as is.
	Prices []byte
}

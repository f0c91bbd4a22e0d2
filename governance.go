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
}

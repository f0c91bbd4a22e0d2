// SPDX-License-Identifier: Apache-2.0

package client

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/keygate/keygate"
)

// Usage dimensions: the values of UsageQuery.GroupBy.
const (
	GroupTenant    = "tenant" // platform-wide reports only
	GroupProvider  = "provider"
	GroupModel     = "model"
	GroupKeySource = "key_source"
	GroupUser      = "user" // the end user a call named
	GroupDay       = "day"
	GroupToken     = "token" // the gateway token that made the calls
)

// UsageQuery selects a usage report. Zero times leave the server's
// defaults (the last 30 days, in whole hours).
type UsageQuery struct {
	// Tenant (id or name) reports one tenant's usage; empty reports the
	// whole platform (platform admins only).
	Tenant string
	From   time.Time // inclusive
	To     time.Time // exclusive
	// User keeps only the calls of this end user (rows and totals).
	User string
	// GroupBy names the dimensions of the rows, in order: GroupProvider,
	// GroupModel, GroupKeySource, GroupUser, GroupDay, GroupToken, and
	// GroupTenant platform-wide. None gives one row with the totals.
	GroupBy []string
}

// UsageRow is one row of a usage report: the calls of one group. Only the
// grouped dimensions are set. Costs are decimal strings of US dollars.
type UsageRow struct {
	Tenant       keygate.TenantID  `json:"tenant,omitempty"`
	Provider     string            `json:"provider,omitempty"`
	Model        string            `json:"model,omitempty"`
	KeySource    keygate.KeySource `json:"key_source,omitempty"`
	User         string            `json:"user,omitempty"`  // "" also for calls naming no end user
	Token        string            `json:"token,omitempty"` // gateway token id, when grouped by token
	Day          string            `json:"day,omitempty"`   // YYYY-MM-DD, UTC
	Requests     int64             `json:"requests"`
	InputTokens  int64             `json:"input_tokens"`
	OutputTokens int64             `json:"output_tokens"`
	CachedTokens int64             `json:"cached_tokens"`
	CostUSD      string            `json:"cost_usd"`
	// BillableCostUSD is what counts toward the platform's credits.
	BillableCostUSD string `json:"billable_cost_usd"`
	// Priced is "priced", "estimated" (some calls at their provider's
	// fallback price) or "unpriced" (some calls with no price at all).
	Priced            string `json:"priced"`
	EstimatedRequests int64  `json:"estimated_requests"`
	UnpricedRequests  int64  `json:"unpriced_requests"`
}

// UsageTotals is one side of a usage report: the calls the platform paid,
// or those the tenants' own (or per-request) keys paid. CostUSD is a decimal
// string, or "N/A" for the platform cost of a tenant in BYOK mode whose
// billing policy is skip.
type UsageTotals struct {
	Requests     int64  `json:"requests"`
	InputTokens  int64  `json:"input_tokens"`
	OutputTokens int64  `json:"output_tokens"`
	CostUSD      string `json:"cost_usd"`
}

// UsageReport is the API's usage object. Tenant, Mode ("platform" or
// "byok"), BYOKBilling and Budget are set for a tenant's report only.
type UsageReport struct {
	Tenant       keygate.TenantID `json:"tenant,omitempty"`
	From         time.Time        `json:"from"`
	To           time.Time        `json:"to"`
	GroupBy      []string         `json:"group_by"`
	User         string           `json:"user,omitempty"`
	Rows         []UsageRow       `json:"rows"`
	PlatformPaid UsageTotals      `json:"platform_paid"`
	TenantPaid   UsageTotals      `json:"tenant_paid"`
	Mode         string           `json:"mode,omitempty"`
	BYOKBilling  string           `json:"byok_billing,omitempty"`
	Budget       *Budget          `json:"budget,omitempty"`
}

// Usage returns the usage report q selects: a tenant's, or with an empty
// q.Tenant the platform-wide one (forbidden for tenant tokens). The server
// answers invalid_request for an unknown dimension (or tenant outside the
// platform-wide report), for a User that is not an end-user id and for To
// not after From, and not_found for an
// unknown tenant. Rows and GroupBy are never nil.
func (c *Client) Usage(ctx context.Context, q UsageQuery) (UsageReport, error) {
	var r UsageReport
	path := "/usage"
	if q.Tenant != "" {
		path = "/tenants/" + pathEscape(q.Tenant) + "/usage"
	}
	v := url.Values{}
	if !q.From.IsZero() {
		v.Set("from", q.From.UTC().Format(time.RFC3339))
	}
	if !q.To.IsZero() {
		v.Set("to", q.To.UTC().Format(time.RFC3339))
	}
	if q.User != "" {
		v.Set("user", q.User)
	}
	if len(q.GroupBy) > 0 {
		v.Set("group_by", strings.Join(q.GroupBy, ","))
	}
	_, err := c.do(ctx, call{method: http.MethodGet, path: path, query: v, out: &r})
	if r.Rows == nil {
		r.Rows = []UsageRow{}
	}
	if r.GroupBy == nil {
		r.GroupBy = []string{}
	}
	return r, err
}

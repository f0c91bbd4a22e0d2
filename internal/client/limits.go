// SPDX-License-Identifier: Apache-2.0

package client

import (
	"context"
	"net/http"

	"github.com/keygate/keygate"
)

// RateLimit is one of a tenant's rate limits: requests and tokens per
// minute for one provider, or, with an empty Provider, for every provider
// together. Zero is no cap.
type RateLimit struct {
	Provider string `json:"provider"`
	RPM      int64  `json:"rpm"`
	TPM      int64  `json:"tpm"`
	// AppliesTo is keygate.AppliesToPlatform or keygate.AppliesToAll;
	// empty is left out of a request, so the server applies its default
	// (platform).
	AppliesTo string `json:"applies_to,omitempty"`
}

// RateLimits is the API's limits object: every rate limit of a tenant.
type RateLimits struct {
	Tenant keygate.TenantID `json:"tenant"`
	Limits []RateLimit      `json:"limits"`
}

// For returns the limit of provider ("" for all providers together) and
// whether the tenant has one.
func (l RateLimits) For(provider string) (RateLimit, bool) {
	for _, r := range l.Limits {
		if r.Provider == provider {
			return r, true
		}
	}
	return RateLimit{}, false
}

// GetLimits returns the rate limits of tenant (id or name), none when it
// never set any. not_found for an unknown tenant.
func (c *Client) GetLimits(ctx context.Context, tenant string) (RateLimits, error) {
	var l RateLimits
	path, err := tenantPath(tenant, "limits")
	if err != nil {
		return l, err
	}
	_, err = c.do(ctx, call{method: http.MethodGet, path: path, out: &l})
	if l.Limits == nil {
		l.Limits = []RateLimit{}
	}
	return l, err
}

// PutLimits replaces every rate limit of tenant with limits (nil or empty
// removes them all) and returns what the server stored. Only platform admins
// may set limits. The server answers unknown_provider for a provider outside
// its catalog, invalid_request for a provider listed twice, a negative
// number or an unknown applies_to, and not_found for an unknown tenant. There
// is no compare-and-swap: of two concurrent read-modify-write cycles, the
// later PUT wins.
func (c *Client) PutLimits(ctx context.Context, tenant string, limits []RateLimit) (RateLimits, error) {
	var out RateLimits
	path, err := tenantPath(tenant, "limits")
	if err != nil {
		return out, err
	}
	if limits == nil {
		limits = []RateLimit{}
	}
	body, err := jsonBody(struct {
		Limits []RateLimit `json:"limits"`
	}{limits})
	if err != nil {
		return out, err
	}
	_, err = c.do(ctx, call{method: http.MethodPut, path: path, body: body, out: &out})
	if out.Limits == nil {
		out.Limits = []RateLimit{}
	}
	return out, err
}

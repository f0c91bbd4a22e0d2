// SPDX-License-Identifier: Apache-2.0

package client

import (
	"context"
	"net/http"
	"time"

	"github.com/keygate/keygate"
)

// PolicyRule is how a tenant's calls to one provider (or to every provider
// without a rule of its own) pick their credential: the API's rule object.
type PolicyRule struct {
	// Mode is tenant_then_platform, tenant_only or platform_only; empty
	// is left out of a request, so the server applies its default.
	Mode keygate.PolicyMode `json:"mode,omitempty"`
	// AllowRequestKeys lets a call bring its own key (X-Provider-Key).
	AllowRequestKeys bool `json:"allow_request_keys"`
	// FallbackOnError retries once on the platform key when the tenant's
	// key fails before the first byte.
	FallbackOnError bool `json:"fallback_on_error"`
}

// Policy is the API's policy object: a tenant's default rule and its
// overrides per provider.
type Policy struct {
	Tenant    keygate.TenantID      `json:"tenant"`
	Default   PolicyRule            `json:"default"`
	Providers map[string]PolicyRule `json:"providers"`
	// UpdatedAt is nil while the tenant has never set a policy (it has the
	// server's defaults).
	UpdatedAt *time.Time `json:"updated_at"`
}

// For returns the rule that applies to provider: its override, else the
// default.
func (p Policy) For(provider string) PolicyRule {
	if r, ok := p.Providers[provider]; ok {
		return r
	}
	return p.Default
}

// policyPath returns the policy of tenant.
func policyPath(tenant string) (string, error) {
	if err := required("tenant", tenant); err != nil {
		return "", err
	}
	return "/tenants/" + pathEscape(tenant) + "/policy", nil
}

// GetPolicy returns the tenant's policy (id or name); a tenant that never set
// one gets the server's defaults with a nil UpdatedAt. not_found for an
// unknown tenant.
func (c *Client) GetPolicy(ctx context.Context, tenant string) (Policy, error) {
	var p Policy
	path, err := policyPath(tenant)
	if err != nil {
		return p, err
	}
	_, err = c.do(ctx, call{method: http.MethodGet, path: path, out: &p})
	return p, err
}

// PutPolicy replaces the tenant's whole policy with p.Default and
// p.Providers (p.Tenant and p.UpdatedAt are ignored) and returns the policy
// the server stored. The server answers invalid_request for an unknown mode,
// unknown_provider for an override of a provider outside its catalog, and
// not_found for an unknown tenant. There is no compare-and-swap: of two
// concurrent read-modify-write cycles, the later PUT wins.
func (c *Client) PutPolicy(ctx context.Context, tenant string, p Policy) (Policy, error) {
	var out Policy
	path, err := policyPath(tenant)
	if err != nil {
		return out, err
	}
	providers := p.Providers
	if providers == nil {
		providers = map[string]PolicyRule{}
	}
	body, err := jsonBody(struct {
		Default   PolicyRule            `json:"default"`
		Providers map[string]PolicyRule `json:"providers"`
	}{p.Default, providers})
	if err != nil {
		return out, err
	}
	_, err = c.do(ctx, call{method: http.MethodPut, path: path, body: body, out: &out})
	return out, err
}

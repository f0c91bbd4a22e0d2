// SPDX-License-Identifier: Apache-2.0

package client

import (
	"context"
	"net/http"
	"time"

	"github.com/keygate/keygate"
)

// Tenant is the API's tenant object.
type Tenant struct {
	ID          keygate.TenantID `json:"id"`
	Name        string           `json:"name"`
	BYOKEnabled bool             `json:"byok_enabled"`
	// KeyAdmins says who among the tenant's own admin tokens may change its
	// keys: owner_and_admin or owner_only.
	KeyAdmins keygate.KeyAdmins `json:"key_admins"`
	CreatedAt time.Time         `json:"created_at"`
	UpdatedAt time.Time         `json:"updated_at"`
}

// CreateTenantParams is the body of CreateTenant. A nil BYOKEnabled leaves the
// server's default.
type CreateTenantParams struct {
	Name        string `json:"name"`
	BYOKEnabled *bool  `json:"byok_enabled,omitempty"`
}

// TenantUpdate is the body of UpdateTenant; nil and empty fields stay as
// they are. Only a platform admin may set BYOKEnabled (a tenant owner who
// sends it gets forbidden); KeyAdmins may also be set by the tenant's owner.
type TenantUpdate struct {
	BYOKEnabled *bool             `json:"byok_enabled,omitempty"`
	KeyAdmins   keygate.KeyAdmins `json:"key_admins,omitempty"`
}

// TenantList is the API's answer to GET /tenants.
type TenantList struct {
	Tenants []Tenant `json:"tenants"`
}

// CreateTenant creates a tenant. The server answers conflict if the name is
// taken and invalid_request if it is not a valid tenant name.
func (c *Client) CreateTenant(ctx context.Context, p CreateTenantParams) (Tenant, error) {
	var t Tenant
	body, err := jsonBody(p)
	if err != nil {
		return t, err
	}
	_, err = c.do(ctx, call{method: http.MethodPost, path: "/tenants", body: body, out: &t})
	return t, err
}

// ListTenants returns every tenant the token may see.
func (c *Client) ListTenants(ctx context.Context) ([]Tenant, error) {
	var l TenantList
	_, err := c.do(ctx, call{method: http.MethodGet, path: "/tenants", out: &l})
	return l.Tenants, err
}

// GetTenant returns the tenant with id or name ref; not_found if none.
func (c *Client) GetTenant(ctx context.Context, ref string) (Tenant, error) {
	var t Tenant
	if err := required("tenant", ref); err != nil {
		return t, err
	}
	_, err := c.do(ctx, call{method: http.MethodGet, path: "/tenants/" + pathEscape(ref), out: &t})
	return t, err
}

// UpdateTenant applies u to the tenant ref and returns it. The server answers
// not_found if there is no such tenant, forbidden if the token may not
// change a field it sent, and invalid_request if u sets nothing or an
// unknown KeyAdmins.
func (c *Client) UpdateTenant(ctx context.Context, ref string, u TenantUpdate) (Tenant, error) {
	var t Tenant
	if err := required("tenant", ref); err != nil {
		return t, err
	}
	body, err := jsonBody(u)
	if err != nil {
		return t, err
	}
	_, err = c.do(ctx, call{method: http.MethodPatch, path: "/tenants/" + pathEscape(ref), body: body, out: &t})
	return t, err
}

// DeleteTenant deletes the tenant ref with its keys and tokens (its audit
// events stay); not_found if none.
func (c *Client) DeleteTenant(ctx context.Context, ref string) error {
	if err := required("tenant", ref); err != nil {
		return err
	}
	_, err := c.do(ctx, call{method: http.MethodDelete, path: "/tenants/" + pathEscape(ref)})
	return err
}

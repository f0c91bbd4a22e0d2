// SPDX-License-Identifier: Apache-2.0

package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/keygate/keygate"
)

// AdminToken is the API's admin token object (never the token itself).
type AdminToken struct {
	ID   string       `json:"id"`
	Name string       `json:"name"`
	Role keygate.Role `json:"role"`
	// Tenant is the tenant the role applies to; empty for platform_admin.
	Tenant    keygate.TenantID `json:"tenant"`
	CreatedBy string           `json:"created_by"`
	CreatedAt time.Time        `json:"created_at"`
	RevokedAt *time.Time       `json:"revoked_at"`
	// ExpiresAt is when the token stops working; nil: never.
	ExpiresAt *time.Time `json:"expires_at"`
	// LastUsedAt is when the token last authenticated, recorded at most
	// once an hour; nil: not yet recorded.
	LastUsedAt *time.Time `json:"last_used_at"`
}

// NewAdminToken is a token just created: its metadata and the token, which
// the server shows only this once. Token redacts like every Secret (also when
// the struct is marshalled); reveal it only to show it to its creator.
type NewAdminToken struct {
	AdminToken
	Token keygate.Secret
}

// CreateAdminTokenParams is the body of CreateAdminToken. Tenant (id or name)
// is required for the tenant roles and must be empty for platform_admin.
type CreateAdminTokenParams struct {
	Name   string       `json:"name"`
	Role   keygate.Role `json:"role"`
	Tenant string       `json:"tenant,omitempty"`
	// ExpiresIn ("90d", "12h"), if set, makes the token expire.
	ExpiresIn string `json:"expires_in,omitempty"`
}

// AdminTokenList is the API's answer to GET /admin-tokens.
type AdminTokenList struct {
	Tokens []AdminToken `json:"tokens"`
}

// CreateAdminToken mints an admin token. The server answers invalid_request
// for an unknown role or a tenant that does not fit it, and forbidden when the
// caller may not grant that role.
func (c *Client) CreateAdminToken(ctx context.Context, p CreateAdminTokenParams) (NewAdminToken, error) {
	var nt NewAdminToken
	body, err := jsonBody(p)
	if err != nil {
		return nt, err
	}
	// Decode the token as a plain string, then move it into a Secret at
	// once; Secret has no unmarshaller on purpose.
	var out struct {
		AdminToken
		Token string `json:"token"`
	}
	if _, err := c.do(ctx, call{method: http.MethodPost, path: "/admin-tokens", body: body, out: &out}); err != nil {
		return nt, err
	}
	if out.Token == "" {
		return nt, &Error{Method: http.MethodPost, Path: "/api/v1/admin-tokens", Status: http.StatusCreated,
			Err: fmt.Errorf("the answer has no token")}
	}
	nt.AdminToken = out.AdminToken
	nt.Token = keygate.NewSecret(out.Token)
	return nt, nil
}

// ListAdminTokens returns the admin tokens, of one tenant (id or name) or all
// of them (tenant empty), newest first.
func (c *Client) ListAdminTokens(ctx context.Context, tenant string) ([]AdminToken, error) {
	var l AdminTokenList
	var q url.Values
	if tenant != "" {
		q = url.Values{"tenant": {tenant}}
	}
	_, err := c.do(ctx, call{method: http.MethodGet, path: "/admin-tokens", query: q, out: &l})
	return l.Tokens, err
}

// RevokeAdminToken revokes the admin token id ("at_..."); not_found if it does
// not exist or is already revoked.
func (c *Client) RevokeAdminToken(ctx context.Context, id string) error {
	if err := required("token id", id); err != nil {
		return err
	}
	_, err := c.do(ctx, call{method: http.MethodDelete, path: "/admin-tokens/" + pathEscape(id)})
	return err
}

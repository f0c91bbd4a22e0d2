// SPDX-License-Identifier: Apache-2.0

package client

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/keygate/keygate"
)

// GatewayToken is the API's gateway token object: what identifies a tenant's
// app to the gateway, never the token itself.
type GatewayToken struct {
	ID     string           `json:"id"` // "gt_..."
	Name   string           `json:"name"`
	Tenant keygate.TenantID `json:"tenant"`
	// Prefix is the first characters of the token ("kg_AbC1"), enough to
	// tell tokens apart, not to use one.
	Prefix    string     `json:"prefix"`
	CreatedBy string     `json:"created_by"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at"`
	// ExpiresAt is when the token stops working; nil: never.
	ExpiresAt *time.Time `json:"expires_at"`
	// LastUsedAt is when the token last authenticated, recorded at most
	// once an hour; nil: not yet recorded.
	LastUsedAt *time.Time `json:"last_used_at"`
	// Scope is what the token may call and spend inside its tenant's
	// settings.
	Scope TokenScope `json:"scope"`
}

// TokenScope is a gateway token's scope: the providers and models it may
// call (models as exact ids or prefixes ending in "*") and its own budget
// (amounts in US dollars as decimal strings, "5" or "0.25") and rate
// limits. Empty lists, nil and 0 restrict nothing; the tenant's policy,
// budget and limits still bind.
type TokenScope struct {
	Providers     []string `json:"providers"`
	Models        []string `json:"models"`
	DailyUSD      *string  `json:"daily_usd"`
	MonthlyUSD    *string  `json:"monthly_usd"`
	DailyTokens   *int64   `json:"daily_tokens"`
	MonthlyTokens *int64   `json:"monthly_tokens"`
	RPM           int64    `json:"rpm"`
	TPM           int64    `json:"tpm"`
}

// IsZero reports whether s restricts nothing.
func (s TokenScope) IsZero() bool {
	return len(s.Providers) == 0 && len(s.Models) == 0 && s.DailyUSD == nil && s.MonthlyUSD == nil &&
		s.DailyTokens == nil && s.MonthlyTokens == nil && s.RPM == 0 && s.TPM == 0
}

// CreateGatewayTokenParams is the body of CreateGatewayTokenWith. An empty
// Name gets the server's default name ("default"); ExpiresIn ("90d",
// "12h"), if set, makes the token expire.
type CreateGatewayTokenParams struct {
	Name      string `json:"name"`
	ExpiresIn string `json:"expires_in,omitempty"`
	// Scope, if set, narrows what the token may call and spend.
	Scope *TokenScope `json:"scope,omitempty"`
}

// NewGatewayToken is a gateway token just created: its metadata and the token
// ("kg_..."), which the server shows only this once. Token redacts like every
// Secret (also when the struct is marshalled); reveal it only to show it to
// its creator.
type NewGatewayToken struct {
	GatewayToken
	Token keygate.Secret
}

// GatewayTokenList is the API's answer to GET /tenants/{tenant}/tokens.
type GatewayTokenList struct {
	Tokens []GatewayToken `json:"tokens"`
}

// tokensPath returns the gateway tokens of tenant, or one of them.
func tokensPath(tenant, id string) (string, error) {
	if err := required("tenant", tenant); err != nil {
		return "", err
	}
	p := "/tenants/" + pathEscape(tenant) + "/tokens"
	if id != "" {
		p += "/" + pathEscape(id)
	}
	return p, nil
}

// CreateGatewayToken mints a gateway token named name for the tenant (id or
// name) and returns it with the token, which is never shown again. An empty
// name gets the server's default name ("default"). The server answers
// not_found for an unknown tenant, invalid_request for a name it refuses
// (over 100 characters), and forbidden when the caller may not act on the
// tenant.
func (c *Client) CreateGatewayToken(ctx context.Context, tenant, name string) (NewGatewayToken, error) {
	return c.CreateGatewayTokenWith(ctx, tenant, CreateGatewayTokenParams{Name: name})
}

// CreateGatewayTokenWith is CreateGatewayToken with every setting of the
// new token; the server also answers invalid_request for an expiry it
// refuses (not a duration, under 1m or over 3650d).
func (c *Client) CreateGatewayTokenWith(ctx context.Context, tenant string, params CreateGatewayTokenParams) (NewGatewayToken, error) {
	var nt NewGatewayToken
	p, err := tokensPath(tenant, "")
	if err != nil {
		return nt, err
	}
	body, err := jsonBody(params)
	if err != nil {
		return nt, err
	}
	// Decode the token as a plain string, then move it into a Secret at
	// once; Secret has no unmarshaller on purpose.
	var out struct {
		GatewayToken
		Token string `json:"token"`
	}
	status, err := c.do(ctx, call{method: http.MethodPost, path: p, body: body, out: &out})
	if err != nil {
		return nt, err
	}
	if out.Token == "" {
		return nt, &Error{Method: http.MethodPost, Path: "/api/v1" + p, Status: status, Err: errors.New("the answer has no token")}
	}
	nt.GatewayToken = out.GatewayToken
	nt.Token = keygate.NewSecret(out.Token)
	return nt, nil
}

// ListGatewayTokens returns the tenant's gateway tokens, revoked ones
// included, newest first; not_found for an unknown tenant.
func (c *Client) ListGatewayTokens(ctx context.Context, tenant string) ([]GatewayToken, error) {
	p, err := tokensPath(tenant, "")
	if err != nil {
		return nil, err
	}
	var l GatewayTokenList
	_, err = c.do(ctx, call{method: http.MethodGet, path: p, out: &l})
	return l.Tokens, err
}

// RevokeGatewayToken revokes the tenant's gateway token id ("gt_..."); the
// gateway refuses it from then on. not_found if the tenant has no such token
// or it is already revoked.
func (c *Client) RevokeGatewayToken(ctx context.Context, tenant, id string) error {
	if err := required("token id", id); err != nil {
		return err
	}
	p, err := tokensPath(tenant, id)
	if err != nil {
		return err
	}
	_, err = c.do(ctx, call{method: http.MethodDelete, path: p})
	return err
}

// SetGatewayTokenScope replaces the scope of the tenant's gateway token id
// ("gt_...") with s (the zero scope clears it) and returns the token; the
// gateway serves its next call under the new scope. forbidden unless the
// caller is an owner or admin of the tenant or a platform admin;
// unknown_provider or invalid_request for a scope the server refuses;
// not_found if the tenant has no such token or it is revoked.
func (c *Client) SetGatewayTokenScope(ctx context.Context, tenant, id string, s TokenScope) (GatewayToken, error) {
	var t GatewayToken
	if err := required("token id", id); err != nil {
		return t, err
	}
	p, err := tokensPath(tenant, id)
	if err != nil {
		return t, err
	}
	body, err := jsonBody(s)
	if err != nil {
		return t, err
	}
	_, err = c.do(ctx, call{method: http.MethodPut, path: p + "/scope", body: body, out: &t})
	return t, err
}

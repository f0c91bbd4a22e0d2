// SPDX-License-Identifier: Apache-2.0

package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/auth"
)

type gatewayTokenJSON struct {
	ID        string           `json:"id"`
	Name      string           `json:"name"`
	Tenant    keygate.TenantID `json:"tenant"`
	Prefix    string           `json:"prefix"`
	CreatedBy string           `json:"created_by"`
	CreatedAt time.Time        `json:"created_at"`
	RevokedAt *time.Time       `json:"revoked_at"`
	// ExpiresAt is null for a token that never expires.
	ExpiresAt *time.Time `json:"expires_at"`
	// LastUsedAt is when the token last authenticated, to the hour; null
	// if not yet recorded.
	LastUsedAt *time.Time `json:"last_used_at"`
	// Scope is what the token may call and spend inside its tenant's
	// settings.
	Scope tokenScopeJSON `json:"scope"`
	// Token is set only in the answer to create, once.
	Token string `json:"token,omitempty"`
}

func toGatewayTokenJSON(t keygate.GatewayToken) gatewayTokenJSON {
	out := gatewayTokenJSON{ID: t.ID, Name: t.Name, Tenant: t.Tenant, Prefix: t.Prefix, CreatedBy: t.CreatedBy, CreatedAt: t.CreatedAt,
		ExpiresAt: optTime(t.ExpiresAt), LastUsedAt: optTime(t.LastUsedAt), Scope: toTokenScopeJSON(t.Scope)}
	if !t.RevokedAt.IsZero() {
		r := t.RevokedAt
		out.RevokedAt = &r
	}
	return out
}

// gatewayTokenPrefixLen is how much of a gateway token is kept for display:
// "kg_" and four characters, far too little to guess the rest.
const gatewayTokenPrefixLen = 7

func (a *API) handleGatewayTokenCreate(c *call) (int, any, error) {
	var req struct {
		Name string `json:"name"`
		expiryRequest
		// Scope, if given, narrows what the token may call and spend.
		Scope *tokenScopeRequest `json:"scope"`
	}
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	var scope keygate.TokenScope
	if req.Scope != nil {
		var err error
		if scope, err = a.scope(req.Scope); err != nil {
			return 0, nil, err
		}
	}
	if err := keygate.ValidateName("name", req.Name); err != nil {
		return 0, nil, err
	}
	req.Name = strings.TrimSpace(req.Name)
	if req.Name == "" {
		req.Name = "default"
	}
	if len(req.Name) > 100 {
		return 0, nil, keygate.Errorf(keygate.CodeInvalidRequest, "name is at most 100 characters.")
	}
	expires, err := req.expiry(a.d.Now())
	if err == nil {
		expires, err = within(expires, c.p)
	}
	if err != nil {
		return 0, nil, err
	}
	tok, hash, err := auth.Mint(a.d.Rand, auth.GatewayTokenPrefix)
	if err != nil {
		return 0, nil, err
	}
	id, err := auth.NewID(a.d.Rand, "gt_")
	if err != nil {
		return 0, nil, err
	}
	ev := c.event(c.tenant.ID, keygate.ActionTokenCreated)
	info := map[string]any{"kind": "gateway", "token_id": id, "name": req.Name}
	if !expires.IsZero() {
		info["expires_at"] = expires
	}
	if !scope.IsZero() {
		info["scope"] = toTokenScopeJSON(scope)
	}
	detail, _ := json.Marshal(info)
	ev.Detail = string(detail)
	t, err := a.d.Store.CreateGatewayToken(c.r.Context(), keygate.GatewayToken{
		ID: id, Name: req.Name, Tenant: c.tenant.ID, Hash: hash, Prefix: tok.Reveal()[:gatewayTokenPrefixLen], CreatedBy: c.p.TokenID, ExpiresAt: expires, Scope: scope,
	}, ev)
	if err != nil {
		return 0, nil, err
	}
	out := toGatewayTokenJSON(t)
	out.Token = tok.Reveal()
	return http.StatusCreated, out, nil
}

func (a *API) handleGatewayTokenList(c *call) (int, any, error) {
	ts, err := a.d.Store.ListGatewayTokens(c.r.Context(), c.tenant.ID)
	if err != nil {
		return 0, nil, err
	}
	out := make([]gatewayTokenJSON, 0, len(ts))
	for _, t := range ts {
		out = append(out, toGatewayTokenJSON(t))
	}
	return http.StatusOK, map[string]any{"tokens": out}, nil
}

func (a *API) handleGatewayTokenRevoke(c *call) (int, any, error) {
	id := c.r.PathValue("id")
	ev := c.event(c.tenant.ID, keygate.ActionTokenRevoked)
	detail, _ := json.Marshal(map[string]any{"kind": "gateway", "token_id": id})
	ev.Detail = string(detail)
	if err := a.d.Store.RevokeGatewayToken(c.r.Context(), c.tenant.ID, id, ev); err != nil {
		return 0, nil, a.notFoundRef(err, "Gateway token %s does not exist or is already revoked.", id)
	}
	return http.StatusNoContent, nil, nil
}

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

type adminTokenJSON struct {
	ID        string           `json:"id"`
	Name      string           `json:"name"`
	Role      keygate.Role     `json:"role"`
	Tenant    keygate.TenantID `json:"tenant"`
	CreatedBy string           `json:"created_by"`
	CreatedAt time.Time        `json:"created_at"`
	RevokedAt *time.Time       `json:"revoked_at"`
	// ExpiresAt is null for a token that never expires.
	ExpiresAt *time.Time `json:"expires_at"`
	// LastUsedAt is when the token last authenticated, to the hour; null
	// if not yet recorded.
	LastUsedAt *time.Time `json:"last_used_at"`
	// Token is set only in the answer to create, once.
	Token string `json:"token,omitempty"`
}

func toAdminTokenJSON(t keygate.AdminToken) adminTokenJSON {
	out := adminTokenJSON{ID: t.ID, Name: t.Name, Role: t.Role, Tenant: t.Tenant, CreatedBy: t.CreatedBy, CreatedAt: t.CreatedAt,
		ExpiresAt: optTime(t.ExpiresAt), LastUsedAt: optTime(t.LastUsedAt)}
	if !t.RevokedAt.IsZero() {
		r := t.RevokedAt
		out.RevokedAt = &r
	}
	return out
}

type adminTokenCreateRequest struct {
	Name   string       `json:"name"`
	Role   keygate.Role `json:"role"`
	Tenant string       `json:"tenant"`
	expiryRequest
}

// handleAdminTokenCreate mints an admin token. Platform admins may mint any
// role; a tenant owner may mint owner, admin and member tokens of its own
// tenant.
func (a *API) handleAdminTokenCreate(c *call) (int, any, error) {
	var req adminTokenCreateRequest
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	if err := keygate.ValidateName("name", req.Name); err != nil {
		return 0, nil, err
	}
	req.Name = strings.TrimSpace(req.Name)
	if req.Name == "" || len(req.Name) > 100 {
		return 0, nil, keygate.Errorf(keygate.CodeInvalidRequest, "name is required (at most 100 characters).")
	}
	if !req.Role.Valid() {
		return 0, nil, keygate.Errorf(keygate.CodeInvalidRequest, "role must be one of platform_admin, owner, admin, member.")
	}
	expires, err := req.expiry(a.d.Now())
	if err == nil {
		expires, err = within(expires, c.p)
	}
	if err != nil {
		return 0, nil, err
	}
	var tenant keygate.TenantID
	if req.Role == keygate.RolePlatformAdmin {
		if req.Tenant != "" {
			return 0, nil, keygate.Errorf(keygate.CodeInvalidRequest, "A platform_admin token has no tenant.")
		}
		if !c.p.Can(auth.RightPlatformTokens, "") {
			return 0, nil, keygate.Errorf(keygate.CodeForbidden, "Only a platform admin may create platform_admin tokens.")
		}
	} else {
		if req.Tenant == "" {
			return 0, nil, keygate.Errorf(keygate.CodeInvalidRequest, "A %s token needs a tenant.", req.Role)
		}
		t, err := a.tenantFor(c, req.Tenant, auth.RightTokenManage)
		if err != nil {
			return 0, nil, err
		}
		tenant = t.ID
	}
	tok, hash, err := auth.Mint(a.d.Rand, auth.AdminTokenPrefix)
	if err != nil {
		return 0, nil, err
	}
	id, err := auth.NewID(a.d.Rand, "at_")
	if err != nil {
		return 0, nil, err
	}
	ev := c.event(tenant, keygate.ActionTokenCreated)
	info := map[string]any{"kind": "admin", "token_id": id, "name": req.Name, "role": req.Role}
	if !expires.IsZero() {
		info["expires_at"] = expires
	}
	detail, _ := json.Marshal(info)
	ev.Detail = string(detail)
	t, err := a.d.Store.CreateAdminToken(c.r.Context(), keygate.AdminToken{
		ID: id, Name: req.Name, Role: req.Role, Tenant: tenant, Hash: hash, CreatedBy: c.p.TokenID, ExpiresAt: expires,
	}, ev)
	if err != nil {
		return 0, nil, err
	}
	out := toAdminTokenJSON(t)
	out.Token = tok.Reveal()
	return http.StatusCreated, out, nil
}

// tenantFor resolves ref and checks that the caller holds right on it,
// answering forbidden (not not_found) to tenant tokens naming another tenant.
func (a *API) tenantFor(c *call, ref string, right auth.Right) (keygate.Tenant, error) {
	forbidden := keygate.Errorf(keygate.CodeForbidden, "This token may not do that.")
	if c.p.Role != keygate.RolePlatformAdmin {
		if c.p.Tenant == "" {
			return keygate.Tenant{}, forbidden
		}
		t, err := a.d.Store.GetTenant(c.r.Context(), string(c.p.Tenant))
		if err != nil || (ref != string(t.ID) && ref != t.Name) || !c.p.CanOn(right, t) {
			return keygate.Tenant{}, forbidden
		}
		return t, nil
	}
	return a.d.Store.GetTenant(c.r.Context(), ref)
}

func (a *API) handleAdminTokenList(c *call) (int, any, error) {
	var tenant keygate.TenantID
	if ref := c.r.URL.Query().Get("tenant"); ref != "" {
		t, err := a.tenantFor(c, ref, auth.RightTokenManage)
		if err != nil {
			return 0, nil, err
		}
		tenant = t.ID
	} else if !c.p.Can(auth.RightPlatformTokens, "") {
		if !c.p.Can(auth.RightTokenManage, c.p.Tenant) {
			return 0, nil, keygate.Errorf(keygate.CodeForbidden, "This token may not do that.")
		}
		tenant = c.p.Tenant
	}
	ts, err := a.d.Store.ListAdminTokens(c.r.Context(), tenant)
	if err != nil {
		return 0, nil, err
	}
	out := make([]adminTokenJSON, 0, len(ts))
	for _, t := range ts {
		out = append(out, toAdminTokenJSON(t))
	}
	return http.StatusOK, map[string]any{"tokens": out}, nil
}

func (a *API) handleAdminTokenRevoke(c *call) (int, any, error) {
	id := c.r.PathValue("id")
	var scope keygate.TenantID
	if !c.p.Can(auth.RightPlatformTokens, "") {
		if !c.p.Can(auth.RightTokenManage, c.p.Tenant) {
			return 0, nil, keygate.Errorf(keygate.CodeForbidden, "This token may not do that.")
		}
		scope = c.p.Tenant
	}
	ts, err := a.d.Store.ListAdminTokens(c.r.Context(), scope)
	if err != nil {
		return 0, nil, err
	}
	var found *keygate.AdminToken
	for i := range ts {
		if ts[i].ID == id {
			found = &ts[i]
		}
	}
	if found == nil || !found.RevokedAt.IsZero() {
		return 0, nil, keygate.Errorf(keygate.CodeNotFound, "No active admin token %s.", a.ref(id))
	}
	ev := c.event(found.Tenant, keygate.ActionTokenRevoked)
	detail, _ := json.Marshal(map[string]any{"kind": "admin", "token_id": found.ID, "name": found.Name, "role": found.Role})
	ev.Detail = string(detail)
	if err := a.d.Store.RevokeAdminToken(c.r.Context(), id, ev); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}

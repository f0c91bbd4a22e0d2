// SPDX-License-Identifier: Apache-2.0

package api

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/auth"
)

type tenantJSON struct {
	ID          keygate.TenantID  `json:"id"`
	Name        string            `json:"name"`
	BYOKEnabled bool              `json:"byok_enabled"`
	KeyAdmins   keygate.KeyAdmins `json:"key_admins"`
	CreatedAt   time.Time         `json:"created_at"`
	UpdatedAt   time.Time         `json:"updated_at"`
}

func toTenantJSON(t keygate.Tenant) tenantJSON {
	return tenantJSON{ID: t.ID, Name: t.Name, BYOKEnabled: t.BYOKEnabled, KeyAdmins: t.KeyAdmins.OrDefault(), CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt}
}

type tenantCreateRequest struct {
	Name        string `json:"name"`
	BYOKEnabled *bool  `json:"byok_enabled"`
}

func (a *API) handleTenantCreate(c *call) (int, any, error) {
	var req tenantCreateRequest
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	// Plain text first, so that the message never echoes a control
	// sequence; then the tenant name's own stricter rule.
	if err := keygate.ValidateName("name", req.Name); err != nil {
		return 0, nil, err
	}
	if err := keygate.ValidateTenantName(req.Name); err != nil {
		return 0, nil, err
	}
	byok := a.d.BYOKDefault
	if req.BYOKEnabled != nil {
		byok = *req.BYOKEnabled
	}
	id, err := auth.NewID(a.d.Rand, "tn_")
	if err != nil {
		return 0, nil, err
	}
	ev := c.event(keygate.TenantID(id), keygate.ActionTenantCreated)
	detail, _ := json.Marshal(map[string]any{"name": req.Name, "byok_enabled": byok})
	ev.Detail = string(detail)
	t, err := a.d.Store.CreateTenant(c.r.Context(), keygate.Tenant{ID: keygate.TenantID(id), Name: req.Name, BYOKEnabled: byok}, ev)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, toTenantJSON(t), nil
}

func (a *API) handleTenantList(c *call) (int, any, error) {
	out := []tenantJSON{}
	if c.p.Role == keygate.RolePlatformAdmin {
		ts, err := a.d.Store.ListTenants(c.r.Context())
		if err != nil {
			return 0, nil, err
		}
		for _, t := range ts {
			out = append(out, toTenantJSON(t))
		}
	} else if c.p.Tenant != "" {
		// A tenant's token sees its own tenant only.
		t, err := a.d.Store.GetTenant(c.r.Context(), string(c.p.Tenant))
		if err != nil && !keygate.IsCode(err, keygate.CodeNotFound) {
			return 0, nil, err
		}
		if err == nil {
			out = append(out, toTenantJSON(t))
		}
	}
	return http.StatusOK, map[string]any{"tenants": out}, nil
}

func (a *API) handleTenantGet(c *call) (int, any, error) {
	return http.StatusOK, toTenantJSON(c.tenant), nil
}

type tenantUpdateRequest struct {
	BYOKEnabled *bool   `json:"byok_enabled"`
	KeyAdmins   *string `json:"key_admins"`
}

// handleTenantUpdate serves PATCH /api/v1/tenants/{tenant}. The route needs
// RightTenantSettings (the tenant's owner, or a platform admin), which is
// enough for key_admins; byok_enabled is the platform's grant and also needs
// RightTenantUpdate, so an owner who sends it at all gets 403 and nothing
// changes. Each field that changes is its own audited update: key_admins as
// tenant.updated (detail {"key_admins":{"from":...,"to":...}}) first, then
// byok_enabled as byok.enabled or byok.disabled. A body with both fields is
// two transactions: if the second fails the first stays, and sending the
// body again is harmless.
func (a *API) handleTenantUpdate(c *call) (int, any, error) {
	var req tenantUpdateRequest
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	if req.BYOKEnabled == nil && req.KeyAdmins == nil {
		return 0, nil, keygate.Errorf(keygate.CodeInvalidRequest, "Nothing to update: set byok_enabled or key_admins.")
	}
	if req.BYOKEnabled != nil && !c.p.Can(auth.RightTenantUpdate, c.tenant.ID) {
		return 0, nil, keygate.Errorf(keygate.CodeForbidden, "Only a platform admin may change byok_enabled; a tenant's owner may change key_admins.")
	}
	t := c.tenant
	if req.KeyAdmins != nil {
		ka, err := keygate.ParseKeyAdmins(*req.KeyAdmins)
		if err != nil {
			return 0, nil, err
		}
		ev := keygate.AuditEvent{}
		if from := t.KeyAdmins.OrDefault(); ka != from {
			ev = c.event(t.ID, keygate.ActionTenantUpdated)
			detail, _ := json.Marshal(map[string]any{"key_admins": map[string]keygate.KeyAdmins{"from": from, "to": ka}})
			ev.Detail = string(detail)
		}
		if t, err = a.d.Store.UpdateTenant(c.r.Context(), t.ID, keygate.TenantUpdate{KeyAdmins: &ka}, ev); err != nil {
			return 0, nil, err
		}
	}
	if req.BYOKEnabled != nil {
		ev := keygate.AuditEvent{}
		if *req.BYOKEnabled != t.BYOKEnabled {
			action := keygate.ActionBYOKDisabled
			if *req.BYOKEnabled {
				action = keygate.ActionBYOKEnabled
			}
			ev = c.event(t.ID, action)
		}
		var err error
		if t, err = a.d.Store.UpdateTenant(c.r.Context(), t.ID, keygate.TenantUpdate{BYOKEnabled: req.BYOKEnabled}, ev); err != nil {
			return 0, nil, err
		}
	}
	return http.StatusOK, toTenantJSON(t), nil
}

func (a *API) handleTenantDelete(c *call) (int, any, error) {
	ev := c.event(c.tenant.ID, keygate.ActionTenantDeleted)
	detail, _ := json.Marshal(map[string]any{"name": c.tenant.Name})
	ev.Detail = string(detail)
	if err := a.d.Store.DeleteTenant(c.r.Context(), c.tenant.ID, ev); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}

type whoamiJSON struct {
	TokenID string           `json:"token_id"`
	Name    string           `json:"name"`
	Role    keygate.Role     `json:"role"`
	Tenant  keygate.TenantID `json:"tenant"`
	Server  BuildInfo        `json:"server"`
}

func (a *API) handleWhoAmI(c *call) (int, any, error) {
	return http.StatusOK, whoamiJSON{TokenID: c.p.TokenID, Name: c.p.Name, Role: c.p.Role, Tenant: c.p.Tenant, Server: a.d.Build}, nil
}

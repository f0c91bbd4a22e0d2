// SPDX-License-Identifier: Apache-2.0

package api

import (
	"encoding/json"
	"net/http"
	"slices"
	"time"

	"github.com/keygate/keygate"
)

type policyRuleJSON struct {
	Mode             keygate.PolicyMode `json:"mode"`
	AllowRequestKeys bool               `json:"allow_request_keys"`
	FallbackOnError  bool               `json:"fallback_on_error"`
}

type policyJSON struct {
	Tenant    keygate.TenantID          `json:"tenant"`
	Default   policyRuleJSON            `json:"default"`
	Providers map[string]policyRuleJSON `json:"providers"`
	UpdatedAt *time.Time                `json:"updated_at"`
}

func toRuleJSON(p keygate.Policy) policyRuleJSON {
	return policyRuleJSON{Mode: p.Mode, AllowRequestKeys: p.AllowRequestKeys, FallbackOnError: p.FallbackOnError}
}

func toPolicyJSON(p keygate.TenantPolicy) policyJSON {
	out := policyJSON{Tenant: p.Tenant, Default: toRuleJSON(p.Default), Providers: map[string]policyRuleJSON{}}
	for name, q := range p.Providers {
		out.Providers[name] = toRuleJSON(q)
	}
	if !p.UpdatedAt.IsZero() {
		t := p.UpdatedAt
		out.UpdatedAt = &t
	}
	return out
}

func (a *API) handlePolicyGet(c *call) (int, any, error) {
	p, err := a.d.Store.GetPolicy(c.r.Context(), c.tenant.ID)
	if err != nil {
		return 0, nil, err
	}
	p.Tenant = c.tenant.ID
	return http.StatusOK, toPolicyJSON(p), nil
}

// policyRuleRequest is one rule in a PUT; absent fields take the defaults.
type policyRuleRequest struct {
	Mode             *keygate.PolicyMode `json:"mode"`
	AllowRequestKeys *bool               `json:"allow_request_keys"`
	FallbackOnError  *bool               `json:"fallback_on_error"`
}

func (r *policyRuleRequest) policy(field string) (keygate.Policy, error) {
	p := keygate.DefaultPolicy()
	if r == nil {
		return p, nil
	}
	if r.Mode != nil {
		if !r.Mode.Valid() {
			return p, keygate.Errorf(keygate.CodeInvalidRequest, "%s.mode must be tenant_then_platform, tenant_only or platform_only.", field)
		}
		p.Mode = *r.Mode
	}
	if r.AllowRequestKeys != nil {
		p.AllowRequestKeys = *r.AllowRequestKeys
	}
	if r.FallbackOnError != nil {
		p.FallbackOnError = *r.FallbackOnError
	}
	return p, nil
}

func (a *API) handlePolicyPut(c *call) (int, any, error) {
	var req struct {
		Default   *policyRuleRequest           `json:"default"`
		Providers map[string]policyRuleRequest `json:"providers"`
	}
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	def, err := req.Default.policy("default")
	if err != nil {
		return 0, nil, err
	}
	p := keygate.TenantPolicy{Tenant: c.tenant.ID, Default: def, Providers: map[string]keygate.Policy{}}
	names := a.d.Providers.Names()
	for name, rule := range req.Providers {
		if !slices.Contains(names, name) {
			return 0, nil, keygate.Errorf(keygate.CodeUnknownProvider, "Unknown provider %s in providers.", a.ref(name))
		}
		q, err := rule.policy("providers." + name)
		if err != nil {
			return 0, nil, err
		}
		p.Providers[name] = q
	}
	ev := c.event(c.tenant.ID, keygate.ActionPolicyUpdated)
	detail, _ := json.Marshal(toPolicyJSON(p))
	ev.Detail = string(detail)
	saved, err := a.d.Store.PutPolicy(c.r.Context(), p, ev)
	if err != nil {
		return 0, nil, err
	}
	saved.Tenant = c.tenant.ID
	return http.StatusOK, toPolicyJSON(saved), nil
}

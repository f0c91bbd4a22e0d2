// SPDX-License-Identifier: Apache-2.0

package clienttest

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/client"
)

// SetPolicy stores p as the policy of tenant id, as if it had been PUT (for
// tests that need a policy without going through the client).
func (s *Server) SetPolicy(id keygate.TenantID, p client.Policy) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p.Tenant = id
	now := s.now
	p.UpdatedAt = &now
	s.policies[id] = &p
}

// writer refuses the read-only member role.
func writer(who *client.AdminToken) error {
	if who.Role == keygate.RoleMember {
		return errf(http.StatusForbidden, keygate.CodeForbidden, "A member token is read-only.")
	}
	return nil
}

func (s *Server) createGatewayToken(r *http.Request, body []byte, who *client.AdminToken) (int, any, error) {
	t, err := s.tenantFor(r, who)
	if err != nil {
		return 0, nil, err
	}
	if err := writer(who); err != nil {
		return 0, nil, err
	}
	var p client.CreateGatewayTokenParams
	if err := decode(body, &p); err != nil {
		return 0, nil, err
	}
	if p.Name == "" {
		p.Name = "default"
	}
	expires, err := s.expiry(p.ExpiresIn)
	if err != nil {
		return 0, nil, err
	}
	g := client.GatewayToken{ID: s.nextID("gt"), Name: p.Name, Tenant: t.ID, CreatedBy: who.ID, CreatedAt: s.now, ExpiresAt: expires}
	if p.Scope != nil {
		g.Scope = *p.Scope
	}
	g.Scope = normalScope(g.Scope)
	token := fmt.Sprintf("kg_fake%024d", s.seq)
	g.Prefix = token[:7]
	s.gateway[token] = &g
	s.audit(who, client.AuditEvent{Tenant: t.ID, Action: keygate.ActionTokenCreated})
	return http.StatusCreated, struct {
		client.GatewayToken
		Token string `json:"token"`
	}{g, token}, nil
}

func (s *Server) listGatewayTokens(r *http.Request, _ []byte, who *client.AdminToken) (int, any, error) {
	t, err := s.tenantFor(r, who)
	if err != nil {
		return 0, nil, err
	}
	l := client.GatewayTokenList{Tokens: []client.GatewayToken{}}
	for _, g := range s.gateway {
		if g.Tenant == t.ID {
			l.Tokens = append(l.Tokens, *g)
		}
	}
	// Newest first; ids grow with time.
	sort.Slice(l.Tokens, func(i, j int) bool { return l.Tokens[i].ID > l.Tokens[j].ID })
	return http.StatusOK, l, nil
}

func (s *Server) revokeGatewayToken(r *http.Request, _ []byte, who *client.AdminToken) (int, any, error) {
	t, err := s.tenantFor(r, who)
	if err != nil {
		return 0, nil, err
	}
	if err := writer(who); err != nil {
		return 0, nil, err
	}
	for _, g := range s.gateway {
		if g.ID == r.PathValue("id") && g.Tenant == t.ID && g.RevokedAt == nil {
			now := s.now
			g.RevokedAt = &now
			s.audit(who, client.AuditEvent{Tenant: t.ID, Action: keygate.ActionTokenRevoked})
			return http.StatusNoContent, nil, nil
		}
	}
	return 0, nil, errf(http.StatusNotFound, keygate.CodeNotFound, "No active gateway token %q for tenant %s.", r.PathValue("id"), t.ID)
}

// normalScope is sc as the server answers it: empty lists, never null.
func normalScope(sc client.TokenScope) client.TokenScope {
	if sc.Providers == nil {
		sc.Providers = []string{}
	}
	if sc.Models == nil {
		sc.Models = []string{}
	}
	return sc
}

// setGatewayTokenScope replaces a token's scope, as the server does, for
// an owner, admin or platform admin (members are refused).
func (s *Server) setGatewayTokenScope(r *http.Request, body []byte, who *client.AdminToken) (int, any, error) {
	t, err := s.tenantFor(r, who)
	if err != nil {
		return 0, nil, err
	}
	if err := writer(who); err != nil {
		return 0, nil, err
	}
	var sc client.TokenScope
	if err := decode(body, &sc); err != nil {
		return 0, nil, err
	}
	for _, g := range s.gateway {
		if g.ID == r.PathValue("id") && g.Tenant == t.ID && g.RevokedAt == nil {
			g.Scope = normalScope(sc)
			s.audit(who, client.AuditEvent{Tenant: t.ID, Action: keygate.ActionTokenScoped})
			return http.StatusOK, *g, nil
		}
	}
	return 0, nil, errf(http.StatusNotFound, keygate.CodeNotFound, "No active gateway token %q for tenant %s.", r.PathValue("id"), t.ID)
}

// policyFor returns the stored policy of id, or the defaults.
func (s *Server) policyFor(id keygate.TenantID) client.Policy {
	if p, ok := s.policies[id]; ok {
		c := *p
		c.Providers = make(map[string]client.PolicyRule, len(p.Providers))
		for k, v := range p.Providers {
			c.Providers[k] = v
		}
		return c
	}
	d := keygate.DefaultPolicy()
	return client.Policy{Tenant: id, Default: client.PolicyRule{Mode: d.Mode, AllowRequestKeys: d.AllowRequestKeys, FallbackOnError: d.FallbackOnError}, Providers: map[string]client.PolicyRule{}}
}

func (s *Server) getPolicy(r *http.Request, _ []byte, who *client.AdminToken) (int, any, error) {
	t, err := s.tenantFor(r, who)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, s.policyFor(t.ID), nil
}

// ruleRequest is one rule of a PUT, as the server decodes it: absent fields
// take the defaults.
type ruleRequest struct {
	Mode             *keygate.PolicyMode `json:"mode"`
	AllowRequestKeys *bool               `json:"allow_request_keys"`
	FallbackOnError  *bool               `json:"fallback_on_error"`
}

// rule applies the server's defaults to a decoded rule and checks its mode.
func rule(r *ruleRequest, where string) (client.PolicyRule, error) {
	out := client.PolicyRule{Mode: keygate.DefaultPolicy().Mode}
	if r == nil {
		return out, nil
	}
	if r.Mode != nil {
		if !r.Mode.Valid() {
			return out, errf(http.StatusBadRequest, keygate.CodeInvalidRequest, "%s.mode must be tenant_then_platform, tenant_only or platform_only.", where)
		}
		out.Mode = *r.Mode
	}
	if r.AllowRequestKeys != nil {
		out.AllowRequestKeys = *r.AllowRequestKeys
	}
	if r.FallbackOnError != nil {
		out.FallbackOnError = *r.FallbackOnError
	}
	return out, nil
}

func (s *Server) putPolicy(r *http.Request, body []byte, who *client.AdminToken) (int, any, error) {
	t, err := s.tenantFor(r, who)
	if err != nil {
		return 0, nil, err
	}
	if err := writer(who); err != nil {
		return 0, nil, err
	}
	var req struct {
		Default   *ruleRequest            `json:"default"`
		Providers map[string]*ruleRequest `json:"providers"`
	}
	if err := decode(body, &req); err != nil {
		return 0, nil, err
	}
	p := client.Policy{Tenant: t.ID, Providers: map[string]client.PolicyRule{}}
	if p.Default, err = rule(req.Default, "default"); err != nil {
		return 0, nil, err
	}
	for name, pr := range req.Providers {
		if _, ok := keyPrefix(name); !ok {
			return 0, nil, errf(http.StatusBadRequest, keygate.CodeUnknownProvider, "Unknown provider %q.", name)
		}
		if p.Providers[name], err = rule(pr, "providers."+name); err != nil {
			return 0, nil, err
		}
	}
	now := s.now
	p.UpdatedAt = &now
	s.policies[t.ID] = &p
	s.audit(who, client.AuditEvent{Tenant: t.ID, Action: keygate.ActionPolicyUpdated})
	return http.StatusOK, s.policyFor(t.ID), nil
}

// expiry returns when a token created now with expires_in (empty: none)
// expires: whole days ("90d") or a Go duration, as the server takes them.
func (s *Server) expiry(in string) (*time.Time, error) {
	if in == "" {
		return nil, nil
	}
	var d time.Duration
	if days, ok := strings.CutSuffix(in, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n <= 0 {
			return nil, errf(http.StatusBadRequest, keygate.CodeInvalidRequest, "expires_in must be a duration such as 90d, 12h or 30m.")
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(in); err != nil || d < time.Minute {
			return nil, errf(http.StatusBadRequest, keygate.CodeInvalidRequest, "expires_in must be a duration such as 90d, 12h or 30m.")
		}
	}
	at := s.now.Add(d)
	return &at, nil
}

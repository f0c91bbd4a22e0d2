// SPDX-License-Identifier: Apache-2.0

package clienttest

import (
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/client"
)

// Markers that decide the fake's key tests.
const (
	// RejectedMarker in a key makes its provider refuse it (as a 401).
	RejectedMarker = "revoked"
	// UnverifiableMarker in a key makes its provider unable to judge it
	// (as a 429).
	UnverifiableMarker = "flaky"
)

// FakeModels returns the models a valid key of provider can use in the fake:
// twelve made-up names, more than the CLI shows.
func FakeModels(provider string) []string {
	m := make([]string, 12)
	for i := range m {
		m[i] = fmt.Sprintf("%s-model-%02d", provider, i+1)
	}
	return m
}

// checkFormat is the fake's format check: the provider's prefix, at least 8
// characters, no whitespace. It returns invalid_key_format, never the key.
func checkFormat(provider, key string) error {
	prefix, _ := keyPrefix(provider)
	if !strings.HasPrefix(key, prefix) || len(key) < 8 || strings.ContainsAny(key, " \t\r\n") {
		return errf(http.StatusUnprocessableEntity, keygate.CodeInvalidKeyFormat, "This does not look like a %s key.", provider)
	}
	return nil
}

// verdict is what the fake provider says about key (of the right format).
func verdict(provider, key string) client.KeyTestResult {
	switch {
	case strings.Contains(key, RejectedMarker):
		return client.KeyTestResult{Status: client.KeyTestRejected, Models: []string{}, Error: provider + " rejected the key (HTTP 401)"}
	case strings.Contains(key, UnverifiableMarker):
		return client.KeyTestResult{Status: client.KeyTestUnverifiable, Models: []string{},
			Error: provider + " is rate limiting this key (HTTP 429); try again later"}
	}
	m := FakeModels(provider)
	return client.KeyTestResult{Status: client.KeyTestValid, Models: m, ModelCount: len(m)}
}

// SetKeyStatus records a health check of the current version of owner's key
// for provider (owner: a tenant id or name, or "platform"), as the server's
// background checker would: status, lastError, and the check time. It
// panics if there is no such key (a broken test).
func (s *Server) SetKeyStatus(owner, provider string, status keygate.KeyStatus, lastError string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := owner
	if owner != string(keygate.PlatformScope) {
		t, err := s.tenant(owner)
		if err != nil {
			panic(err)
		}
		id = string(t.ID)
	}
	k, ok := s.keys[id+"/"+provider]
	if !ok {
		panic(fmt.Sprintf("clienttest: no %s key of %s", provider, owner))
	}
	now := s.now
	k.Status, k.LastError, k.LastCheckedAt, k.UpdatedAt = status, lastError, &now, now
}

// DestroySuperseded erases every version that is not current, as the
// server's grace-period job does, so none can be rolled back to.
func (s *Server) DestroySuperseded() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, vs := range s.versions {
		for _, v := range vs {
			if !v.Current && v.DestroyedAt == nil {
				now := s.now
				v.DestroyedAt = &now
			}
		}
	}
}

func (s *Server) testKeys(r *http.Request, body []byte, who *client.AdminToken) (int, any, error) {
	owner, err := s.owner(r, who)
	if err != nil {
		return 0, nil, err
	}
	if err := s.keyWriter(owner, who); err != nil {
		return 0, nil, err
	}
	var req struct {
		Keys map[string]string `json:"keys"`
	}
	if err := decode(body, &req); err != nil {
		return 0, nil, err
	}
	if len(req.Keys) == 0 {
		return 0, nil, errf(http.StatusBadRequest, keygate.CodeInvalidRequest, `Send at least one key: {"keys": {"openai": "..."}}.`)
	}
	for p := range req.Keys {
		if _, ok := keyPrefix(p); !ok {
			return 0, nil, errf(http.StatusBadRequest, keygate.CodeUnknownProvider, "Unknown provider %q in keys.", p)
		}
	}
	providers := make([]string, 0, len(req.Keys))
	for p := range req.Keys {
		providers = append(providers, p)
	}
	sort.Strings(providers)
	out := client.KeyTestResults{Results: map[string]client.KeyTestResult{}}
	for _, p := range providers {
		key := req.Keys[p]
		res := client.KeyTestResult{Status: client.KeyTestRejected, Models: []string{}}
		if err := checkFormat(p, key); err != nil {
			res.Error = err.(*apiError).message
		} else {
			res = verdict(p, key)
		}
		out.Results[p] = res
		s.audit(who, client.AuditEvent{Tenant: owner, Provider: p, Action: keygate.ActionKeyTested, Hint: keygate.NewSecret(key).Hint()})
	}
	return http.StatusOK, out, nil
}

// keyOf returns the key a versions or rollback route addresses.
func (s *Server) keyOf(r *http.Request, who *client.AdminToken, provider string) (string, *client.Key, error) {
	owner, err := s.owner(r, who)
	if err != nil {
		return "", nil, err
	}
	if _, ok := keyPrefix(provider); !ok {
		return "", nil, errf(http.StatusBadRequest, keygate.CodeUnknownProvider, "Unknown provider %q.", provider)
	}
	id := string(owner) + "/" + provider
	k, ok := s.keys[id]
	if !ok {
		return "", nil, errf(http.StatusNotFound, keygate.CodeNotFound, "No %s key.", provider)
	}
	return id, k, nil
}

func (s *Server) keyVersions(r *http.Request, _ []byte, who *client.AdminToken) (int, any, error) {
	id, _, err := s.keyOf(r, who, r.PathValue("provider"))
	if err != nil {
		return 0, nil, err
	}
	vs := s.versions[id]
	out := client.KeyVersionList{Versions: make([]client.KeyVersion, 0, len(vs))}
	for i := len(vs) - 1; i >= 0; i-- {
		out.Versions = append(out.Versions, *vs[i])
	}
	return http.StatusOK, out, nil
}

// rollbackKey serves POST .../keys/{provider}:rollback; like the real
// server it reads the suffix, because a mux wildcard spans whole segments.
func (s *Server) rollbackKey(r *http.Request, _ []byte, who *client.AdminToken) (int, any, error) {
	provider, ok := strings.CutSuffix(r.PathValue("provider"), ":rollback")
	if !ok {
		return 0, nil, errf(http.StatusNotFound, keygate.CodeNotFound, "No route for %s %s.", r.Method, r.URL.Path)
	}
	if err := writer(who); err != nil {
		return 0, nil, err
	}
	id, k, err := s.keyOf(r, who, provider)
	if err != nil {
		return 0, nil, err
	}
	if err := s.keyWriter(k.Owner, who); err != nil {
		return 0, nil, err
	}
	vs := s.versions[id]
	var cur, target *client.KeyVersion
	for _, v := range vs {
		if v.Current {
			cur = v
		}
	}
	for _, v := range vs {
		if v.Version < cur.Version && v.DestroyedAt == nil {
			target = v // the newest wins: vs is oldest first
		}
	}
	owner := "tenant " + string(k.Owner)
	if k.Owner.IsPlatform() {
		owner = "the platform"
	}
	switch {
	case target == nil && cur.Version == 1:
		return 0, nil, errf(http.StatusConflict, keygate.CodeConflict, "The %s key of %s has no earlier version to roll back to.", provider, owner)
	case target == nil:
		return 0, nil, errf(http.StatusConflict, keygate.CodeConflict,
			"No earlier version of the %s key of %s can be restored: each was destroyed or replaced before the rollback window.", provider, owner)
	}
	now := s.now
	cur.Current, cur.SupersededAt = false, &now
	target.Current, target.SupersededAt = true, nil
	k.Version, k.Hint, k.Fingerprint = target.Version, target.Hint, target.Fingerprint
	k.Status, k.LastCheckedAt, k.LastError, k.UpdatedAt = keygate.KeyStatusUnknown, nil, "", now
	s.audit(who, client.AuditEvent{Tenant: k.Owner, Provider: provider, Action: keygate.ActionKeyRolledBack, KeyID: k.ID, Version: k.Version, Hint: k.Hint, Fingerprint: k.Fingerprint})
	return http.StatusOK, k, nil
}

// color is the API's traffic light for a key status.
func color(st keygate.KeyStatus) string {
	switch st {
	case keygate.KeyStatusValid:
		return client.ColorGreen
	case keygate.KeyStatusInvalid:
		return client.ColorRed
	}
	return client.ColorGrey
}

func toHealth(k *client.Key) client.KeyHealth {
	return client.KeyHealth{Owner: k.Owner, Provider: k.Provider, Status: k.Status, Color: color(k.Status), Hint: k.Hint, Version: k.Version,
		LastCheckedAt: k.LastCheckedAt, LastError: k.LastError, UpdatedAt: k.UpdatedAt}
}

func (s *Server) health(r *http.Request, _ []byte, who *client.AdminToken) (int, any, error) {
	owner, err := s.owner(r, who)
	if err != nil {
		return 0, nil, err
	}
	h := client.Health{Healthy: true, Keys: []client.KeyHealth{}}
	for _, k := range s.keys {
		if k.Owner == owner {
			h.Keys = append(h.Keys, toHealth(k))
			h.Healthy = h.Healthy && k.Status != keygate.KeyStatusInvalid
		}
	}
	sort.Slice(h.Keys, func(i, j int) bool { return h.Keys[i].Provider < h.Keys[j].Provider })
	return http.StatusOK, h, nil
}

func (s *Server) platformHealth(_ *http.Request, _ []byte, who *client.AdminToken) (int, any, error) {
	if err := platformOnly(who); err != nil {
		return 0, nil, err
	}
	h := client.PlatformHealth{Red: []client.KeyHealth{}, Total: len(s.keys)}
	for _, k := range s.keys {
		switch color(k.Status) {
		case client.ColorGreen:
			h.Counts.Green++
		case client.ColorRed:
			h.Counts.Red++
			h.Red = append(h.Red, toHealth(k))
		default:
			h.Counts.Grey++
		}
	}
	// Most recently changed first, then by owner and provider so that the
	// order is stable.
	sort.Slice(h.Red, func(i, j int) bool {
		a, b := h.Red[i], h.Red[j]
		if !a.UpdatedAt.Equal(b.UpdatedAt) {
			return a.UpdatedAt.After(b.UpdatedAt)
		}
		if a.Owner != b.Owner {
			return a.Owner < b.Owner
		}
		return a.Provider < b.Provider
	})
	return http.StatusOK, h, nil
}

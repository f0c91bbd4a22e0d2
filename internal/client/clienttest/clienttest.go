// SPDX-License-Identifier: Apache-2.0

// Package clienttest is an in-memory fake of keygate's management API
// (/api/v1), for testing the Go client and the CLI without a real server. It
// implements just enough of the API: tenants, tenant and platform keys with
// their versions, key tests, rollback and health, audit events with paging,
// chain verification, the master key, admin tokens, gateway tokens, policies,
// budgets, rate limits, usage reports (over the events given to RecordUsage)
// and whoami, with a deterministic clock. It keeps every request it received
// so tests can check what went over the wire.
//
// Key tests (POST .../keys:test, PUT ...?test=true) ask no provider: a key
// containing RejectedMarker is refused, one containing UnverifiableMarker
// cannot be judged, and any other key of the right format is valid, with the
// models of FakeModels.
//
// Import it from tests only.
package clienttest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/client"
)

// Token is the platform-admin token a new Server accepts.
const Token = "kga_platformadmintoken0000000001"

// Start returns the time of the fake clock when a Server starts; the clock
// advances one second per request.
func Start() time.Time { return time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC) }

// maxBody is the fake's request body limit.
const maxBody = 64 << 10

// Request is one request the fake received.
type Request struct {
	Method string
	Path   string
	Query  string
	// Header holds the request headers, Authorization included.
	Header http.Header
	Body   []byte
}

// Server is the fake API. Its methods are safe for concurrent use.
type Server struct {
	// URL is the server's base URL when started by NewServer.
	URL string

	mu       sync.Mutex
	now      time.Time
	seq      int
	tenants  map[keygate.TenantID]*client.Tenant
	keys     map[string]*client.Key          // owner + "/" + provider
	versions map[string][]*client.KeyVersion // same keys as keys: every version, oldest first
	events   []client.AuditEvent
	tokens   map[string]*client.AdminToken   // token → metadata
	gateway  map[string]*client.GatewayToken // token → metadata
	policies map[keygate.TenantID]*client.Policy
	budgets  map[keygate.TenantID]*client.Budget
	limits   map[keygate.TenantID][]client.RateLimit
	usage    []UsageEvent
	master   client.MasterKey
	verify   *client.AuditVerification
	failNext *failure
	requests []Request
}

type failure struct {
	status        int
	code, message string
}

// New returns a fake API that accepts Token as a platform admin, without
// starting a server: serve its Handler yourself.
func New() *Server {
	s := &Server{
		now:      Start(),
		tenants:  map[keygate.TenantID]*client.Tenant{},
		keys:     map[string]*client.Key{},
		versions: map[string][]*client.KeyVersion{},
		tokens:   map[string]*client.AdminToken{},
		gateway:  map[string]*client.GatewayToken{},
		policies: map[keygate.TenantID]*client.Policy{},
		budgets:  map[keygate.TenantID]*client.Budget{},
		limits:   map[keygate.TenantID][]client.RateLimit{},
		master:   client.MasterKey{Primary: "mk_initial", Kind: "file"},
	}
	s.tokens[Token] = &client.AdminToken{ID: "at_bootstrap", Name: "bootstrap", Role: keygate.RolePlatformAdmin, CreatedBy: "system", CreatedAt: Start()}
	return s
}

// NewServer starts a fake API server (see New) at s.URL and closes it when
// the test ends.
func NewServer(tb testing.TB) *Server {
	tb.Helper()
	s := New()
	hs := httptest.NewServer(s.Handler())
	tb.Cleanup(hs.Close)
	s.URL = hs.URL
	return s
}

// Requests returns a copy of the requests received so far, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// FailNext makes the next request fail with status and the error envelope
// {code, message}.
func (s *Server) FailNext(status int, code, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext = &failure{status, code, message}
}

// SetVerification makes GET /audit/verify answer v instead of a good chain.
func (s *Server) SetVerification(v client.AuditVerification) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.verify = &v
}

// AddToken makes token valid with the given metadata (ID, Name, Role,
// Tenant).
func (s *Server) AddToken(token string, t client.AdminToken) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t.CreatedAt = s.now
	s.tokens[token] = &t
}

// apiError is an error answer.
type apiError struct {
	status        int
	code, message string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func errf(status int, code, format string, args ...any) error {
	return &apiError{status, code, fmt.Sprintf(format, args...)}
}

// handlerFunc is a route: it runs with s.mu held and returns a status and a
// value to encode (nil for no body), or an error.
type handlerFunc func(r *http.Request, body []byte, who *client.AdminToken) (int, any, error)

// Handler returns the fake's HTTP handler, which serves /api/v1.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	route := func(pattern string, h handlerFunc) { mux.Handle(pattern, s.wrap(h)) }
	route("GET /api/v1/whoami", s.whoami)
	route("POST /api/v1/tenants", s.createTenant)
	route("GET /api/v1/tenants", s.listTenants)
	route("GET /api/v1/tenants/{tenant}", s.getTenant)
	route("PATCH /api/v1/tenants/{tenant}", s.updateTenant)
	route("DELETE /api/v1/tenants/{tenant}", s.deleteTenant)
	route("PUT /api/v1/tenants/{tenant}/keys/{provider}", s.putKey)
	route("GET /api/v1/tenants/{tenant}/keys", s.listKeys)
	route("GET /api/v1/tenants/{tenant}/keys/{provider}", s.getKey)
	route("DELETE /api/v1/tenants/{tenant}/keys/{provider}", s.deleteKey)
	route("PUT /api/v1/platform/keys/{provider}", s.putKey)
	route("GET /api/v1/platform/keys", s.listKeys)
	route("GET /api/v1/platform/keys/{provider}", s.getKey)
	route("DELETE /api/v1/platform/keys/{provider}", s.deleteKey)
	route("POST /api/v1/tenants/{tenant}/keys:test", s.testKeys)
	route("POST /api/v1/platform/keys:test", s.testKeys)
	route("GET /api/v1/tenants/{tenant}/keys/{provider}/versions", s.keyVersions)
	route("GET /api/v1/platform/keys/{provider}/versions", s.keyVersions)
	route("POST /api/v1/tenants/{tenant}/keys/{provider}", s.rollbackKey)
	route("POST /api/v1/platform/keys/{provider}", s.rollbackKey)
	route("GET /api/v1/tenants/{tenant}/health", s.health)
	route("GET /api/v1/platform/health", s.health)
	route("GET /api/v1/health", s.platformHealth)
	route("GET /api/v1/tenants/{tenant}/audit", s.listAudit)
	route("GET /api/v1/audit", s.listAudit)
	route("GET /api/v1/audit/verify", s.verifyAudit)
	route("GET /api/v1/master-key", s.masterKey)
	route("POST /api/v1/master-key/rotate", s.rotateMasterKey)
	route("POST /api/v1/admin-tokens", s.createToken)
	route("GET /api/v1/admin-tokens", s.listTokens)
	route("DELETE /api/v1/admin-tokens/{id}", s.revokeToken)
	route("POST /api/v1/tenants/{tenant}/tokens", s.createGatewayToken)
	route("GET /api/v1/tenants/{tenant}/tokens", s.listGatewayTokens)
	route("DELETE /api/v1/tenants/{tenant}/tokens/{id}", s.revokeGatewayToken)
	route("PUT /api/v1/tenants/{tenant}/tokens/{id}/scope", s.setGatewayTokenScope)
	route("GET /api/v1/tenants/{tenant}/policy", s.getPolicy)
	route("PUT /api/v1/tenants/{tenant}/policy", s.putPolicy)
	route("GET /api/v1/tenants/{tenant}/budget", s.getBudget)
	route("PUT /api/v1/tenants/{tenant}/budget", s.putBudget)
	route("GET /api/v1/tenants/{tenant}/limits", s.getLimits)
	route("PUT /api/v1/tenants/{tenant}/limits", s.putLimits)
	route("GET /api/v1/tenants/{tenant}/usage", s.getUsage)
	route("GET /api/v1/usage", s.getUsage)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, errf(http.StatusNotFound, keygate.CodeNotFound, "No route for %s %s.", r.Method, r.URL.Path))
	})
	return mux
}

func (s *Server) wrap(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
		if err != nil {
			writeError(w, errf(http.StatusBadRequest, keygate.CodeInvalidRequest, "Cannot read the body."))
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header.Clone(), Body: body})
		s.now = s.now.Add(time.Second)
		if f := s.failNext; f != nil {
			s.failNext = nil
			writeError(w, errf(f.status, f.code, "%s", f.message))
			return
		}
		if len(body) > maxBody {
			writeError(w, errf(http.StatusRequestEntityTooLarge, keygate.CodeBodyTooLarge, "The body is larger than %d bytes.", maxBody))
			return
		}
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		if tok == "" {
			tok = r.Header.Get("X-Admin-Key")
		}
		who, ok := s.tokens[tok]
		if !ok || who.RevokedAt != nil {
			writeError(w, errf(http.StatusUnauthorized, keygate.CodeUnauthorized, "A valid admin token is required."))
			return
		}
		status, v, err := h(r, body, who)
		if err != nil {
			writeError(w, err)
			return
		}
		if v == nil {
			w.WriteHeader(status)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	})
}

func writeError(w http.ResponseWriter, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		ae = &apiError{http.StatusInternalServerError, keygate.CodeInternal, "Internal error."}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(ae.status)
	var env struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	env.Error.Code, env.Error.Message = ae.code, ae.message
	_ = json.NewEncoder(w).Encode(env)
}

// decode decodes body strictly into v, as the real server does.
func decode(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errf(http.StatusBadRequest, keygate.CodeInvalidJSON, "The body is not valid JSON for this endpoint: %v.", err)
	}
	return nil
}

func (s *Server) nextID(prefix string) string {
	s.seq++
	return fmt.Sprintf("%s_%04d", prefix, s.seq)
}

// audit appends an event to the chain (hashes are fake but chained).
func (s *Server) audit(who *client.AdminToken, ev client.AuditEvent) {
	ev.Seq = int64(len(s.events) + 1)
	ev.ID = s.nextID("ev")
	ev.Time = s.now
	ev.Actor = client.Actor{ID: who.ID, Name: who.Name}
	ev.Detail = json.RawMessage(`{}`)
	if n := len(s.events); n > 0 {
		ev.PrevHash = s.events[n-1].Hash
	}
	ev.Hash = fmt.Sprintf("%064x", ev.Seq)
	s.events = append(s.events, ev)
}

func (s *Server) tenant(ref string) (*client.Tenant, error) {
	for _, t := range s.tenants {
		if string(t.ID) == ref || t.Name == ref {
			return t, nil
		}
	}
	return nil, errf(http.StatusNotFound, keygate.CodeNotFound, "Tenant %q not found.", ref)
}

// allowed reports whether who may act on tenant id.
func allowed(who *client.AdminToken, id keygate.TenantID) error {
	if who.Role == keygate.RolePlatformAdmin || who.Tenant == id {
		return nil
	}
	return errf(http.StatusForbidden, keygate.CodeForbidden, "This token may not act on tenant %s.", id)
}

func platformOnly(who *client.AdminToken) error {
	if who.Role != keygate.RolePlatformAdmin {
		return errf(http.StatusForbidden, keygate.CodeForbidden, "Only a platform admin may do this.")
	}
	return nil
}

func (s *Server) whoami(_ *http.Request, _ []byte, who *client.AdminToken) (int, any, error) {
	return http.StatusOK, client.Identity{TokenID: who.ID, Name: who.Name, Role: who.Role, Tenant: who.Tenant}, nil
}

func (s *Server) createTenant(_ *http.Request, body []byte, who *client.AdminToken) (int, any, error) {
	if err := platformOnly(who); err != nil {
		return 0, nil, err
	}
	var p client.CreateTenantParams
	if err := decode(body, &p); err != nil {
		return 0, nil, err
	}
	if err := keygate.ValidateTenantName(p.Name); err != nil {
		return 0, nil, errf(http.StatusBadRequest, keygate.CodeInvalidRequest, "%s", keygate.ErrorMessage(err))
	}
	if _, err := s.tenant(p.Name); err == nil {
		return 0, nil, errf(http.StatusConflict, keygate.CodeConflict, "A tenant named %q exists.", p.Name)
	}
	t := &client.Tenant{ID: keygate.TenantID(s.nextID("tn")), Name: p.Name, BYOKEnabled: true, KeyAdmins: keygate.KeyAdminsOwnerAndAdmin, CreatedAt: s.now, UpdatedAt: s.now}
	if p.BYOKEnabled != nil {
		t.BYOKEnabled = *p.BYOKEnabled
	}
	s.tenants[t.ID] = t
	s.audit(who, client.AuditEvent{Tenant: t.ID, Action: keygate.ActionTenantCreated})
	return http.StatusCreated, t, nil
}

func (s *Server) listTenants(_ *http.Request, _ []byte, who *client.AdminToken) (int, any, error) {
	l := client.TenantList{Tenants: []client.Tenant{}}
	for _, t := range s.tenants {
		if allowed(who, t.ID) == nil {
			l.Tenants = append(l.Tenants, *t)
		}
	}
	sort.Slice(l.Tenants, func(i, j int) bool { return l.Tenants[i].Name < l.Tenants[j].Name })
	return http.StatusOK, l, nil
}

// tenantFor resolves {tenant} and checks access.
func (s *Server) tenantFor(r *http.Request, who *client.AdminToken) (*client.Tenant, error) {
	t, err := s.tenant(r.PathValue("tenant"))
	if err != nil {
		return nil, err
	}
	return t, allowed(who, t.ID)
}

func (s *Server) getTenant(r *http.Request, _ []byte, who *client.AdminToken) (int, any, error) {
	t, err := s.tenantFor(r, who)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, t, nil
}

func (s *Server) updateTenant(r *http.Request, body []byte, who *client.AdminToken) (int, any, error) {
	t, err := s.tenantFor(r, who)
	if err != nil {
		return 0, nil, err
	}
	if who.Role != keygate.RolePlatformAdmin && who.Role != keygate.RoleOwner {
		return 0, nil, errf(http.StatusForbidden, keygate.CodeForbidden, "Only a platform admin or the tenant's owner may change a tenant.")
	}
	var u client.TenantUpdate
	if err := decode(body, &u); err != nil {
		return 0, nil, err
	}
	if u.BYOKEnabled == nil && u.KeyAdmins == "" {
		return 0, nil, errf(http.StatusBadRequest, keygate.CodeInvalidRequest, "Nothing to update: set byok_enabled or key_admins.")
	}
	if u.BYOKEnabled != nil {
		if err := platformOnly(who); err != nil {
			return 0, nil, err
		}
	}
	if u.KeyAdmins != "" {
		ka, err := keygate.ParseKeyAdmins(string(u.KeyAdmins))
		if err != nil {
			return 0, nil, errf(http.StatusBadRequest, keygate.CodeInvalidRequest, "%s", keygate.ErrorMessage(err))
		}
		if ka != t.KeyAdmins {
			detail, _ := json.Marshal(map[string]any{"key_admins": map[string]keygate.KeyAdmins{"from": t.KeyAdmins, "to": ka}})
			t.KeyAdmins = ka
			t.UpdatedAt = s.now
			s.audit(who, client.AuditEvent{Tenant: t.ID, Action: keygate.ActionTenantUpdated, Detail: detail})
		}
	}
	if u.BYOKEnabled != nil && *u.BYOKEnabled != t.BYOKEnabled {
		t.BYOKEnabled = *u.BYOKEnabled
		t.UpdatedAt = s.now
		action := keygate.ActionBYOKDisabled
		if t.BYOKEnabled {
			action = keygate.ActionBYOKEnabled
		}
		s.audit(who, client.AuditEvent{Tenant: t.ID, Action: action})
	}
	return http.StatusOK, t, nil
}

// keyWriter refuses a token that may not change owner's keys: members
// always, and admin tokens of a tenant whose key_admins is owner_only.
func (s *Server) keyWriter(owner keygate.TenantID, who *client.AdminToken) error {
	if err := writer(who); err != nil {
		return err
	}
	if t, ok := s.tenants[owner]; ok && t.KeyAdmins == keygate.KeyAdminsOwnerOnly && who.Role == keygate.RoleAdmin {
		return errf(http.StatusForbidden, keygate.CodeForbidden, "Only the tenant's owner may change its keys.")
	}
	return nil
}

func (s *Server) deleteTenant(r *http.Request, _ []byte, who *client.AdminToken) (int, any, error) {
	if err := platformOnly(who); err != nil {
		return 0, nil, err
	}
	t, err := s.tenantFor(r, who)
	if err != nil {
		return 0, nil, err
	}
	delete(s.tenants, t.ID)
	for k := range s.keys {
		if strings.HasPrefix(k, string(t.ID)+"/") {
			delete(s.keys, k)
			delete(s.versions, k)
		}
	}
	for k, g := range s.gateway {
		if g.Tenant == t.ID {
			delete(s.gateway, k)
		}
	}
	delete(s.policies, t.ID)
	delete(s.budgets, t.ID)
	delete(s.limits, t.ID)
	s.audit(who, client.AuditEvent{Tenant: t.ID, Action: keygate.ActionTenantDeleted})
	return http.StatusNoContent, nil, nil
}

// owner resolves the key owner of a keys route.
func (s *Server) owner(r *http.Request, who *client.AdminToken) (keygate.TenantID, error) {
	if strings.HasPrefix(r.URL.Path, "/api/v1/platform/") {
		return keygate.PlatformScope, platformOnly(who)
	}
	t, err := s.tenantFor(r, who)
	if err != nil {
		return "", err
	}
	return t.ID, nil
}

// keyPrefix is the fake provider catalog: the key prefix a provider takes,
// and whether the provider is known.
func keyPrefix(provider string) (string, bool) {
	switch provider {
	case "openai":
		return "sk-", true
	case "anthropic":
		return "sk-ant-", true
	case "mistral", "exa":
		return "", true
	}
	return "", false
}

func (s *Server) putKey(r *http.Request, body []byte, who *client.AdminToken) (int, any, error) {
	owner, err := s.owner(r, who)
	if err != nil {
		return 0, nil, err
	}
	if err := s.keyWriter(owner, who); err != nil {
		return 0, nil, err
	}
	provider := r.PathValue("provider")
	if _, ok := keyPrefix(provider); !ok {
		return 0, nil, errf(http.StatusBadRequest, keygate.CodeUnknownProvider, "Unknown provider %q.", provider)
	}
	var p struct {
		Key string `json:"key"`
	}
	if err := decode(body, &p); err != nil {
		return 0, nil, err
	}
	if err := checkFormat(provider, p.Key); err != nil {
		return 0, nil, err
	}
	status := keygate.KeyStatusUnknown
	switch r.URL.Query().Get("test") {
	case "", "false", "0":
	case "true", "1":
		res := verdict(provider, p.Key)
		switch res.Status {
		case client.KeyTestRejected:
			return 0, nil, errf(http.StatusUnprocessableEntity, keygate.CodeKeyRejected, "The key was not saved: %s.", res.Error)
		case client.KeyTestValid:
			status = keygate.KeyStatusValid
		}
	default:
		return 0, nil, errf(http.StatusBadRequest, keygate.CodeInvalidRequest, "test must be true or false.")
	}
	sec := keygate.NewSecret(p.Key)
	id := string(owner) + "/" + provider
	k, rotated := s.keys[id]
	if !rotated {
		k = &client.Key{ID: s.nextID("pk"), Owner: owner, Provider: provider, CreatedAt: s.now}
		s.keys[id] = k
	}
	vs := s.versions[id]
	for _, v := range vs {
		if v.Current {
			now := s.now
			v.Current, v.SupersededAt = false, &now
		}
	}
	k.Version = len(vs) + 1
	k.Hint = sec.Hint()
	k.Fingerprint = sec.Fingerprint(keygate.NewSecret("fake"))
	k.Status = status
	k.LastCheckedAt, k.LastError = nil, ""
	if status == keygate.KeyStatusValid {
		now := s.now
		k.LastCheckedAt = &now
	}
	k.CreatedBy = who.ID
	k.CreatedAt = s.now
	k.UpdatedAt = s.now
	s.versions[id] = append(vs, &client.KeyVersion{KeyID: k.ID, Version: k.Version, Hint: k.Hint, Fingerprint: k.Fingerprint,
		Current: true, CreatedBy: who.ID, CreatedAt: s.now})
	action, code := keygate.ActionKeySet, http.StatusCreated
	if rotated {
		action, code = keygate.ActionKeyRotated, http.StatusOK
	}
	s.audit(who, client.AuditEvent{Tenant: owner, Provider: provider, Action: action, KeyID: k.ID, Version: k.Version, Hint: k.Hint, Fingerprint: k.Fingerprint})
	return code, k, nil
}

func (s *Server) listKeys(r *http.Request, _ []byte, who *client.AdminToken) (int, any, error) {
	owner, err := s.owner(r, who)
	if err != nil {
		return 0, nil, err
	}
	l := client.KeyList{Keys: []client.Key{}}
	for _, k := range s.keys {
		if k.Owner == owner {
			l.Keys = append(l.Keys, *k)
		}
	}
	sort.Slice(l.Keys, func(i, j int) bool { return l.Keys[i].Provider < l.Keys[j].Provider })
	return http.StatusOK, l, nil
}

func (s *Server) getKey(r *http.Request, _ []byte, who *client.AdminToken) (int, any, error) {
	owner, err := s.owner(r, who)
	if err != nil {
		return 0, nil, err
	}
	k, ok := s.keys[string(owner)+"/"+r.PathValue("provider")]
	if !ok {
		return 0, nil, errf(http.StatusNotFound, keygate.CodeNotFound, "No %s key.", r.PathValue("provider"))
	}
	return http.StatusOK, k, nil
}

func (s *Server) deleteKey(r *http.Request, _ []byte, who *client.AdminToken) (int, any, error) {
	owner, err := s.owner(r, who)
	if err != nil {
		return 0, nil, err
	}
	if err := s.keyWriter(owner, who); err != nil {
		return 0, nil, err
	}
	id := string(owner) + "/" + r.PathValue("provider")
	k, ok := s.keys[id]
	if !ok {
		return 0, nil, errf(http.StatusNotFound, keygate.CodeNotFound, "No %s key.", r.PathValue("provider"))
	}
	delete(s.keys, id)
	delete(s.versions, id)
	s.audit(who, client.AuditEvent{Tenant: owner, Provider: k.Provider, Action: keygate.ActionKeyCleared, KeyID: k.ID, Version: k.Version, Hint: k.Hint, Fingerprint: k.Fingerprint})
	return http.StatusNoContent, nil, nil
}

func (s *Server) listAudit(r *http.Request, _ []byte, who *client.AdminToken) (int, any, error) {
	q := r.URL.Query()
	tenant := keygate.TenantID("")
	if r.PathValue("tenant") != "" {
		t, err := s.tenantFor(r, who)
		if err != nil {
			return 0, nil, err
		}
		tenant = t.ID
	} else if err := platformOnly(who); err != nil {
		return 0, nil, err
	} else if ref := q.Get("tenant"); ref == string(keygate.PlatformScope) {
		tenant = keygate.PlatformScope
	} else if ref != "" {
		t, err := s.tenant(ref)
		if err != nil {
			return 0, nil, err
		}
		tenant = t.ID
	}
	var since, until time.Time
	for _, p := range []struct {
		name string
		t    *time.Time
	}{{"since", &since}, {"until", &until}} {
		if v := q.Get(p.name); v != "" {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return 0, nil, errf(http.StatusBadRequest, keygate.CodeInvalidRequest, "%s is not an RFC 3339 time.", p.name)
			}
			*p.t = t
		}
	}
	num := func(name string, def int64) (int64, error) {
		v := q.Get(name)
		if v == "" {
			return def, nil
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return 0, errf(http.StatusBadRequest, keygate.CodeInvalidRequest, "%s must be a positive integer.", name)
		}
		return n, nil
	}
	before, err := num("before", 1<<62)
	if err != nil {
		return 0, nil, err
	}
	limit, err := num("limit", 100)
	if err != nil {
		return 0, nil, err
	}
	page := client.AuditPage{Events: []client.AuditEvent{}}
	for i := len(s.events) - 1; i >= 0; i-- {
		ev := s.events[i]
		switch {
		case ev.Seq >= before,
			tenant != "" && ev.Tenant != tenant,
			q.Get("provider") != "" && ev.Provider != q.Get("provider"),
			q.Get("action") != "" && ev.Action != q.Get("action"),
			!since.IsZero() && ev.Time.Before(since),
			!until.IsZero() && !ev.Time.Before(until):
			continue
		}
		if int64(len(page.Events)) == limit {
			page.NextBefore = page.Events[len(page.Events)-1].Seq
			break
		}
		page.Events = append(page.Events, ev)
	}
	return http.StatusOK, page, nil
}

func (s *Server) verifyAudit(_ *http.Request, _ []byte, who *client.AdminToken) (int, any, error) {
	if err := platformOnly(who); err != nil {
		return 0, nil, err
	}
	if s.verify != nil {
		return http.StatusOK, s.verify, nil
	}
	v := client.AuditVerification{OK: true, Events: int64(len(s.events))}
	if n := len(s.events); n > 0 {
		v.HeadSeq, v.HeadHash = s.events[n-1].Seq, s.events[n-1].Hash
	}
	return http.StatusOK, v, nil
}

func (s *Server) masterKey(_ *http.Request, _ []byte, who *client.AdminToken) (int, any, error) {
	if err := platformOnly(who); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, s.master, nil
}

func (s *Server) rotateMasterKey(_ *http.Request, _ []byte, who *client.AdminToken) (int, any, error) {
	if err := platformOnly(who); err != nil {
		return 0, nil, err
	}
	prev := s.master.Primary
	s.master.Primary = s.nextID("mk")
	s.master.PendingRewrap = int64(len(s.keys))
	s.audit(who, client.AuditEvent{Action: keygate.ActionMasterKeyRotate})
	return http.StatusAccepted, client.MasterKeyRotation{Primary: s.master.Primary, Previous: prev, PendingRewrap: s.master.PendingRewrap}, nil
}

func (s *Server) createToken(_ *http.Request, body []byte, who *client.AdminToken) (int, any, error) {
	var p client.CreateAdminTokenParams
	if err := decode(body, &p); err != nil {
		return 0, nil, err
	}
	if p.Name == "" || !p.Role.Valid() {
		return 0, nil, errf(http.StatusBadRequest, keygate.CodeInvalidRequest, "A name and a valid role are required.")
	}
	expires, err := s.expiry(p.ExpiresIn)
	if err != nil {
		return 0, nil, err
	}
	t := client.AdminToken{ID: s.nextID("at"), Name: p.Name, Role: p.Role, CreatedBy: who.ID, CreatedAt: s.now, ExpiresAt: expires}
	if p.Role == keygate.RolePlatformAdmin {
		if err := platformOnly(who); err != nil {
			return 0, nil, err
		}
		if p.Tenant != "" {
			return 0, nil, errf(http.StatusBadRequest, keygate.CodeInvalidRequest, "A platform_admin token has no tenant.")
		}
	} else {
		tn, err := s.tenant(p.Tenant)
		if err != nil {
			return 0, nil, err
		}
		if err := allowed(who, tn.ID); err != nil {
			return 0, nil, err
		}
		t.Tenant = tn.ID
	}
	token := fmt.Sprintf("kga_fake%024d", s.seq)
	s.tokens[token] = &t
	s.audit(who, client.AuditEvent{Tenant: t.Tenant, Action: keygate.ActionTokenCreated})
	return http.StatusCreated, struct {
		client.AdminToken
		Token string `json:"token"`
	}{t, token}, nil
}

func (s *Server) listTokens(r *http.Request, _ []byte, who *client.AdminToken) (int, any, error) {
	var tenant keygate.TenantID
	if ref := r.URL.Query().Get("tenant"); ref != "" {
		t, err := s.tenant(ref)
		if err != nil {
			return 0, nil, err
		}
		tenant = t.ID
	}
	l := client.AdminTokenList{Tokens: []client.AdminToken{}}
	for _, t := range s.tokens {
		if (tenant == "" || t.Tenant == tenant) && (who.Role == keygate.RolePlatformAdmin || t.Tenant == who.Tenant) {
			l.Tokens = append(l.Tokens, *t)
		}
	}
	sort.Slice(l.Tokens, func(i, j int) bool { return l.Tokens[i].ID < l.Tokens[j].ID })
	return http.StatusOK, l, nil
}

func (s *Server) revokeToken(r *http.Request, _ []byte, who *client.AdminToken) (int, any, error) {
	for _, t := range s.tokens {
		if t.ID == r.PathValue("id") && t.RevokedAt == nil {
			if err := allowed(who, t.Tenant); err != nil {
				return 0, nil, err
			}
			now := s.now
			t.RevokedAt = &now
			s.audit(who, client.AuditEvent{Tenant: t.Tenant, Action: keygate.ActionTokenRevoked})
			return http.StatusNoContent, nil, nil
		}
	}
	return 0, nil, errf(http.StatusNotFound, keygate.CodeNotFound, "No active admin token %q.", r.PathValue("id"))
}

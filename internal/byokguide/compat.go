// SPDX-License-Identifier: Apache-2.0

// Package byokguide serves the tenant-BYOK REST interface of the "BYOK Setup
// Guide" story verbatim, so a platform written against that guide can point
// at keygate unchanged:
//
//	POST /api/tenants/{tenant_id}/byok/test-keys
//	POST /api/tenants/{tenant_id}/byok/enable
//	GET  /api/tenants/{tenant_id}/byok/status
//	POST /api/tenants/{tenant_id}/byok/rotate
//	POST /api/tenants/{tenant_id}/byok/revert
//
// It is a thin transport over the same services as the native API (/api/v1):
// keys are tested by the key checker and written through the key vault, so
// every change is audited exactly as there (key.tested, key.set, key.rotated,
// key.cleared, byok.enabled, byok.disabled) and the same rights apply. What
// differs is the story's contract: the admin key comes in X-Admin-Key (or
// Authorization: Bearer), a missing or bad key is 403 (the native API says
// 401), and bodies are {"openai_key": "...", "anthropic_key": "..."}.
package byokguide

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/api"
	"github.com/keygate/keygate/internal/auth"
	"github.com/keygate/keygate/internal/keyhealth"
	"github.com/keygate/keygate/internal/keyvault"
)

// Store is the storage byokguide reads and changes directly (keys go through
// the vault).
type Store interface {
	GetTenant(ctx context.Context, ref string) (keygate.Tenant, error)
	UpdateTenant(ctx context.Context, id keygate.TenantID, u keygate.TenantUpdate, ev keygate.AuditEvent) (keygate.Tenant, error)
	AppendAudit(ctx context.Context, ev keygate.AuditEvent) (keygate.AuditEvent, error)
	ListAudit(ctx context.Context, f keygate.AuditFilter) ([]keygate.AuditEvent, error)
	GetBudget(ctx context.Context, tenant keygate.TenantID) (keygate.Budget, error)
}

// Vault is the key lifecycle byokguide drives (keyvault.Service).
type Vault interface {
	PutChecked(ctx context.Context, c keyvault.Change, owner keygate.TenantID, provider string, key keygate.Secret, status keygate.KeyStatus) (keygate.ProviderKey, error)
	Delete(ctx context.Context, c keyvault.Change, owner keygate.TenantID, provider string) error
	List(ctx context.Context, owner keygate.TenantID) ([]keygate.ProviderKey, error)
}

// Checker asks a provider whether it accepts a key (keyhealth.Checker).
type Checker interface {
	Check(ctx context.Context, provider string, key keygate.Secret) (keyhealth.Result, error)
}

// Authenticator turns an admin token into a principal (auth.Service).
type Authenticator interface {
	Authenticate(ctx context.Context, tok keygate.Secret) (auth.Principal, error)
}

// Providers names the providers of the catalog.
type Providers interface {
	Names() []string
}

// Deps are the dependencies of the handler. Store, Vault, Checker, Auth and
// Providers are required.
type Deps struct {
	Store        Store
	Vault        Vault
	Checker      Checker
	Auth         Authenticator
	Providers    Providers
	MaxBodyBytes int64
	Logger       *slog.Logger
}

// Handler serves the compatibility routes. Mount it at "/api/tenants/".
type Handler struct {
	d   Deps
	mux *http.ServeMux
}

// Prefix is where the handler must be mounted.
const Prefix = "/api/tenants/"

// New returns the handler.
func New(d Deps) *Handler {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.MaxBodyBytes <= 0 {
		d.MaxBodyBytes = 1 << 20
	}
	h := &Handler{d: d, mux: http.NewServeMux()}
	for _, rt := range h.routes() {
		h.mux.Handle(rt.method+" "+rt.pattern, h.adapt(rt))
	}
	h.mux.HandleFunc(Prefix, func(w http.ResponseWriter, r *http.Request) {
		h.writeError(w, r, keygate.Errorf(keygate.CodeNotFound, "No such endpoint: %s %s.", r.Method, h.shownPath(r.URL.Path)))
	})
	return h
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// route is one endpoint and the right it needs on the path's tenant.
type route struct {
	method, pattern string
	right           auth.Right
	handle          func(c *call) (int, any, error)
}

// routes is the whole compatibility surface. Rights are the native API's
// for the same operation: testing and rotating keys is key.write (a
// tenant's owner or admin, or a platform admin; the owner only when the
// tenant's key_admins is owner_only); reading the status is
// key.read (any role of the tenant); enable and revert also change the
// tenant's BYOK entitlement where needed, which is a platform-admin right
// (checked in the handler, since enabling an already-entitled tenant only
// writes keys).
func (h *Handler) routes() []route {
	const base = "/api/tenants/{tenant}/byok/"
	return []route{
		{"POST", base + "test-keys", auth.RightKeyWrite, h.handleTestKeys},
		{"POST", base + "enable", auth.RightKeyWrite, h.handleEnable},
		{"GET", base + "status", auth.RightKeyRead, h.handleStatus},
		{"POST", base + "rotate", auth.RightKeyWrite, h.handleRotate},
		{"POST", base + "revert", auth.RightKeyWrite, h.handleRevert},
	}
}

// call is one authenticated, authorized request.
type call struct {
	r      *http.Request
	p      auth.Principal
	tenant keygate.Tenant
}

func (c *call) ctx() context.Context { return c.r.Context() }

// forbidden is the answer to every authentication and authorization
// failure: the story specifies 403 for all of them.
func forbidden(msg string) error { return keygate.Errorf(keygate.CodeForbidden, "%s", msg) }

// adapt authenticates (a missing or bad admin key is 403), finds the path's
// tenant, checks the route's right on it, runs the handler and writes its
// result or error.
func (h *Handler) adapt(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := h.d.Auth.Authenticate(r.Context(), adminKey(r))
		if err != nil {
			if keygate.IsCode(err, keygate.CodeUnauthorized) {
				err = forbidden("A valid admin key is required: send it in the X-Admin-Key header.")
			}
			h.writeError(w, r, err)
			return
		}
		c := &call{r: r, p: p}
		if err := h.authorize(c, rt.right); err != nil {
			h.writeError(w, r, err)
			return
		}
		status, body, err := rt.handle(c)
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		api.WriteJSON(w, status, body)
	})
}

// authorize resolves the path's tenant and checks right on it. A tenant's
// token may only name its own tenant: it gets 403 before any lookup of
// another, so other tenants' names cannot be probed.
func (h *Handler) authorize(c *call, right auth.Right) error {
	deny := forbidden("This admin key may not do that for this tenant.")
	ref := c.r.PathValue("tenant")
	lookup := ref
	if c.p.Role != keygate.RolePlatformAdmin {
		if c.p.Tenant == "" {
			return deny
		}
		lookup = string(c.p.Tenant)
	}
	t, err := h.d.Store.GetTenant(c.ctx(), lookup)
	if err != nil {
		if keygate.IsCode(err, keygate.CodeNotFound) && c.p.Role != keygate.RolePlatformAdmin {
			return deny
		}
		return err
	}
	if ref != string(t.ID) && ref != t.Name {
		return deny
	}
	// CanOn, not Can: a tenant with key_admins owner_only takes key.write
	// away from its admin tokens here as in the native API.
	if !c.p.CanOn(right, t) {
		return deny
	}
	c.tenant = t
	return nil
}

// adminKey returns the admin token of r: X-Admin-Key (the story's header),
// or Authorization: Bearer.
func adminKey(r *http.Request) keygate.Secret {
	if k := strings.TrimSpace(r.Header.Get("X-Admin-Key")); k != "" {
		return keygate.NewSecret(k)
	}
	if h := r.Header.Get("Authorization"); len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return keygate.NewSecret(strings.TrimSpace(h[7:]))
	}
	return keygate.Secret{}
}

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// writeError writes err in keygate's envelope with the status of its code;
// internal errors are logged in full here and reach the caller as
// "internal" only.
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code := keygate.ErrorCode(err)
	if code == keygate.CodeInternal {
		h.d.Logger.ErrorContext(r.Context(), "compat api error", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	api.WriteJSON(w, keygate.HTTPStatus(code), errorBody{Error: errorDetail{Code: code, Message: keygate.ErrorMessage(err)}})
}

// optTime is t, or nil (JSON null) when t is zero.
func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// shownPath is a request path as an error message may repeat it: with its
// key-shaped segments redacted when the catalog can tell them
// (provider.Catalog.RedactPath), else not at all.
func (h *Handler) shownPath(p string) string {
	if rp, ok := h.d.Providers.(interface{ RedactPath(string) string }); ok {
		return rp.RedactPath(p)
	}
	return "(path not repeated)"
}

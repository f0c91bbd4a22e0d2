// SPDX-License-Identifier: Apache-2.0

// Package api is the management REST API under /api/v1: tenants, provider
// keys, the audit trail, admin tokens and the master key. Every route is in
// routes.go with the right it needs; handlers return a result or an error,
// and one adapter writes both.
package api

import (
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/audit"
	"github.com/keygate/keygate/internal/auth"
	"github.com/keygate/keygate/internal/keyvault"
)

// Store is the storage the API reads and changes directly (keys go through
// the vault).
type Store interface {
	CreateTenant(ctx context.Context, t keygate.Tenant, ev keygate.AuditEvent) (keygate.Tenant, error)
	GetTenant(ctx context.Context, ref string) (keygate.Tenant, error)
	ListTenants(ctx context.Context) ([]keygate.Tenant, error)
	UpdateTenant(ctx context.Context, id keygate.TenantID, u keygate.TenantUpdate, ev keygate.AuditEvent) (keygate.Tenant, error)
	DeleteTenant(ctx context.Context, id keygate.TenantID, ev keygate.AuditEvent) error
	CreateAdminToken(ctx context.Context, t keygate.AdminToken, ev keygate.AuditEvent) (keygate.AdminToken, error)
	ListAdminTokens(ctx context.Context, tenant keygate.TenantID) ([]keygate.AdminToken, error)
	RevokeAdminToken(ctx context.Context, id string, ev keygate.AuditEvent) error
	ListAudit(ctx context.Context, f keygate.AuditFilter) ([]keygate.AuditEvent, error)
	ScanAudit(ctx context.Context, afterSeq int64, limit int) ([]keygate.AuditEvent, error)
	AuditHead(ctx context.Context) (int64, string, error)
	AppendAudit(ctx context.Context, ev keygate.AuditEvent) (keygate.AuditEvent, error)
	CreateGatewayToken(ctx context.Context, t keygate.GatewayToken, ev keygate.AuditEvent) (keygate.GatewayToken, error)
	ListGatewayTokens(ctx context.Context, tenant keygate.TenantID) ([]keygate.GatewayToken, error)
	RevokeGatewayToken(ctx context.Context, tenant keygate.TenantID, id string, ev keygate.AuditEvent) error
	SetGatewayTokenScope(ctx context.Context, tenant keygate.TenantID, id string, scope keygate.TokenScope, ev keygate.AuditEvent) (keygate.GatewayToken, error)
	GetPolicy(ctx context.Context, tenant keygate.TenantID) (keygate.TenantPolicy, error)
	PutPolicy(ctx context.Context, p keygate.TenantPolicy, ev keygate.AuditEvent) (keygate.TenantPolicy, error)
	GetBudget(ctx context.Context, tenant keygate.TenantID) (keygate.Budget, error)
	PutBudget(ctx context.Context, b keygate.Budget, ev keygate.AuditEvent) (keygate.Budget, error)
	GetRateLimits(ctx context.Context, tenant keygate.TenantID) ([]keygate.RateLimit, error)
	PutRateLimits(ctx context.Context, tenant keygate.TenantID, limits []keygate.RateLimit, ev keygate.AuditEvent) ([]keygate.RateLimit, error)
	QueryUsage(ctx context.Context, q keygate.UsageQuery) ([]keygate.UsageRow, error)
}

// Vault is the key lifecycle the API drives.
type Vault interface {
	Put(ctx context.Context, c keyvault.Change, owner keygate.TenantID, provider string, key keygate.Secret) (keygate.ProviderKey, error)
	Delete(ctx context.Context, c keyvault.Change, owner keygate.TenantID, provider string) error
	List(ctx context.Context, owner keygate.TenantID) ([]keygate.ProviderKey, error)
	Get(ctx context.Context, owner keygate.TenantID, provider string) (keygate.ProviderKey, error)
	RotateMasterKey(ctx context.Context, c keyvault.Change, mk keyvault.MasterKeys) (previous, primary string, err error)
	RetireMasterKey(ctx context.Context, c keyvault.Change, mk keyvault.MasterKeys, id string) error
	Rewrap(ctx context.Context) (int, error)
	PendingRewrap(ctx context.Context) (int, error)
	PrimaryKEK() string
}

// AuditKeys are the audit MAC keys: they check sealed events, sign and
// check checkpoints, and start a new key at a master-key rotation.
type AuditKeys interface {
	audit.MACs
	Checkpoint(ctx context.Context, s audit.Scanner, now time.Time) (audit.Checkpoint, error)
	CheckpointOK(ctx context.Context, cp audit.Checkpoint) error
	Rotate(ctx context.Context, ev keygate.AuditEvent) (string, error)
}

// Authenticator turns an admin token into a principal.
type Authenticator interface {
	Authenticate(ctx context.Context, tok keygate.Secret) (auth.Principal, error)
}

// Providers names the providers of the catalog and knows the shape of
// their keys (provider.Catalog), so that no message repeats a value that
// may be a key.
type Providers interface {
	Names() []string
	// MayEcho reports whether a value the caller sent may be repeated in a
	// message.
	MayEcho(s string) bool
	// RedactPath replaces the key-shaped segments of a path.
	RedactPath(p string) string
	// RedactModel returns s, or a marker when s (or a "/"-part) looks like
	// a key.
	RedactModel(s string) string
}

// Deps are the API's dependencies. Store, Vault, Auth and Providers are
// required.
type Deps struct {
	Store     Store
	Vault     Vault
	Auth      Authenticator
	Providers Providers
	// Lifecycle tests keys, rolls back versions and reports health; nil
	// disables those endpoints (unsupported).
	Lifecycle Lifecycle
	// MasterKeys rotates the master key; nil means rotation is unsupported.
	MasterKeys    keyvault.MasterKeys
	MasterKeyKind string
	// AuditKeys seal the audit trail; nil: verify checks plain hashes
	// only, and checkpoints are unsupported.
	AuditKeys AuditKeys
	// Prices is the price table in effect and its imports; nil: the
	// prices endpoints are unsupported.
	Prices Prices
	// Ready, if set, reports whether storage is reachable; an internal
	// error while it is not is answered as 503 unavailable.
	Ready func(ctx context.Context) error
	// Build is the server block of whoami: which build answers.
	Build BuildInfo
	// BYOKDefault is byok_enabled for tenants created without it.
	BYOKDefault  bool
	MaxBodyBytes int64
	Logger       *slog.Logger
	Now          keygate.Clock
	Rand         io.Reader
	// Background runs a job that outlives its request (the re-wrap after a
	// master-key rotation). Nil runs it in a new goroutine.
	Background func(name string, job func(context.Context) error)
}

// API is the management API handler.
type API struct {
	d   Deps
	mux *http.ServeMux
}

// New returns the API; mount its handler under /api/v1/.
func New(d Deps) *API {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Rand == nil {
		d.Rand = rand.Reader
	}
	if d.MaxBodyBytes <= 0 {
		d.MaxBodyBytes = 1 << 20
	}
	if d.Providers == nil {
		d.Providers = noProviders{}
	}
	if d.Background == nil {
		logger := d.Logger
		d.Background = func(name string, job func(context.Context) error) {
			go func() {
				if err := job(context.Background()); err != nil {
					logger.Error("background job failed", "job", name, "err", err)
				}
			}()
		}
	}
	a := &API{d: d, mux: http.NewServeMux()}
	for _, rt := range a.routes() {
		a.mux.Handle(rt.Method+" "+rt.Pattern, a.adapt(rt))
	}
	a.mux.HandleFunc("GET /api/v1/openapi.json", a.handleOpenAPI)
	a.mux.HandleFunc("/api/v1/", func(w http.ResponseWriter, r *http.Request) {
		a.writeError(w, r, keygate.Errorf(keygate.CodeNotFound, "No such endpoint: %s %s.", r.Method, a.d.Providers.RedactPath(r.URL.Path)))
	})
	return a
}

// ServeHTTP implements http.Handler.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.mux.ServeHTTP(w, r) }

// SPDX-License-Identifier: Apache-2.0

package keygate

import (
	"slices"
	"strings"
	"time"
)

// Role is what an admin token may do.
type Role string

// Roles, persisted: never rename.
const (
	RolePlatformAdmin Role = "platform_admin" // everything, on every tenant
	RoleOwner         Role = "owner"          // everything on one tenant
	RoleAdmin         Role = "admin"          // keys and audit of one tenant
	RoleMember        Role = "member"         // read-only on one tenant
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	switch r {
	case RolePlatformAdmin, RoleOwner, RoleAdmin, RoleMember:
		return true
	}
	return false
}

// AdminToken is a token for the management API. Only the SHA-256 hash of the
// token is stored.
type AdminToken struct {
	ID   string // "at_..."
	Name string
	Role Role
	// Tenant is the tenant the role applies to; empty for platform_admin.
	Tenant    TenantID
	Hash      []byte
	CreatedBy string
	CreatedAt time.Time
	// RevokedAt is zero while the token is usable.
	RevokedAt time.Time
	// ExpiresAt is when the token stops working; zero: never.
	ExpiresAt time.Time
	// LastUsedAt is when the token last authenticated, recorded coarsely
	// (at most once per TokenUseInterval); zero: not yet recorded.
	LastUsedAt time.Time
}

// GatewayToken is what a tenant's app sends to the gateway ("kg_..."). Only
// its SHA-256 hash is stored.
type GatewayToken struct {
	ID        string // "gt_..."
	Name      string
	Tenant    TenantID
	Hash      []byte
	Prefix    string // the first characters, for display
	CreatedBy string
	CreatedAt time.Time
	RevokedAt time.Time
	// ExpiresAt is when the token stops working; zero: never.
	ExpiresAt time.Time
	// LastUsedAt is when the token last authenticated, recorded coarsely
	// (at most once per TokenUseInterval); zero: not yet recorded.
	LastUsedAt time.Time
	// Scope narrows what the token may do inside its tenant's settings; the
	// zero scope allows everything the tenant allows.
	Scope TokenScope
}

// TokenScope is what a gateway token may call and spend, inside its
// tenant's policy, budget and rate limits (which still bind: a scope only
// narrows). Empty lists and nil or zero limits do not restrict.
type TokenScope struct {
	// Providers lists the catalog providers the token may call.
	Providers []string `json:"providers,omitempty"`
	// Models lists the models the token may call: exact ids ("gpt-4o",
	// "openai/gpt-4o") or prefixes ending in "*" ("gpt-4o*", "claude-*").
	// A call matches if the model as sent or as the provider knows it
	// (without "provider/") matches one entry. A call that names no model
	// (a passthrough call) never matches a token with a model list.
	Models []string `json:"models,omitempty"`
	// The token's own budget, in micro-USD and tokens (input+output), like
	// Budget's: always hard, counting every call of the token whoever pays.
	DailyUSDMicros   *int64 `json:"daily_usd_micros,omitempty"`
	MonthlyUSDMicros *int64 `json:"monthly_usd_micros,omitempty"`
	DailyTokens      *int64 `json:"daily_tokens,omitempty"`
	MonthlyTokens    *int64 `json:"monthly_tokens,omitempty"`
	// RPM and TPM cap the token's requests and tokens per minute, over
	// every provider; zero: no cap.
	RPM int64 `json:"rpm,omitempty"`
	TPM int64 `json:"tpm,omitempty"`
}

// Scope limits on lists, so that a scope stays small in every cache.
const (
	MaxScopeEntries = 100 // providers or models
	maxScopeModel   = 200 // characters of one model entry
)

// IsZero reports whether s restricts nothing.
func (s TokenScope) IsZero() bool {
	return len(s.Providers) == 0 && len(s.Models) == 0 && !s.HasLimits()
}

// HasLimits reports whether s carries a budget or a rate limit of its own.
func (s TokenScope) HasLimits() bool {
	return s.DailyUSDMicros != nil || s.MonthlyUSDMicros != nil || s.DailyTokens != nil || s.MonthlyTokens != nil ||
		s.RPM > 0 || s.TPM > 0
}

// AllowsProvider reports whether the token may call provider.
func (s TokenScope) AllowsProvider(provider string) bool {
	if len(s.Providers) == 0 {
		return true
	}
	return slices.Contains(s.Providers, provider)
}

// AllowsModel reports whether the token may call model of provider: model
// as sent, or without its "provider/" prefix, matches an entry of Models
// (exactly, or by prefix for an entry ending in "*"). An empty model
// matches only an empty list.
func (s TokenScope) AllowsModel(provider, model string) bool {
	if len(s.Models) == 0 {
		return true
	}
	if model == "" {
		return false
	}
	bare := model
	if rest, ok := strings.CutPrefix(model, provider+"/"); ok {
		bare = rest
	}
	for _, m := range s.Models {
		if matchModel(m, model) || (bare != model && matchModel(m, bare)) {
			return true
		}
	}
	return false
}

func matchModel(pattern, model string) bool {
	if n := len(pattern); n > 0 && pattern[n-1] == '*' {
		return strings.HasPrefix(model, pattern[:n-1])
	}
	return pattern == model
}

// Validate reports a scope that cannot be stored: too many entries, an
// empty or over-long entry, a "*" anywhere but at the end of a model
// entry, a negative budget or rate limit. It returns invalid_request
// naming the field.
func (s TokenScope) Validate() error {
	if len(s.Providers) > MaxScopeEntries || len(s.Models) > MaxScopeEntries {
		return Errorf(CodeInvalidRequest, "A token scope lists at most %d providers and %d models.", MaxScopeEntries, MaxScopeEntries)
	}
	for _, p := range s.Providers {
		if !ValidProviderName(p) {
			return Errorf(CodeInvalidRequest, "providers: each entry is a provider name (lower-case letters, digits, '-' and '_').")
		}
	}
	for _, m := range s.Models {
		if m == "" || len(m) > maxScopeModel || !printableASCII(m) {
			return Errorf(CodeInvalidRequest, "models: each entry is a model id of 1 to %d printable characters, without spaces.", maxScopeModel)
		}
		if strings.Contains(m[:len(m)-1], "*") {
			return Errorf(CodeInvalidRequest, "models: '*' may only end an entry (\"gpt-4o*\").")
		}
	}
	for _, l := range []struct {
		name string
		v    *int64
	}{{"daily_usd", s.DailyUSDMicros}, {"monthly_usd", s.MonthlyUSDMicros}, {"daily_tokens", s.DailyTokens}, {"monthly_tokens", s.MonthlyTokens}} {
		if l.v != nil && *l.v < 0 {
			return Errorf(CodeInvalidRequest, "%s may not be negative.", l.name)
		}
	}
	if s.RPM < 0 || s.TPM < 0 {
		return Errorf(CodeInvalidRequest, "rpm and tpm may not be negative.")
	}
	return nil
}

// ValidProviderName reports whether p has the shape of a catalog provider
// name: 1 to 64 lower-case letters, digits, '-' and '_'.
func ValidProviderName(p string) bool {
	if p == "" || len(p) > 64 {
		return false
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// Expired reports whether a token that expires at expiresAt (zero: never)
// has expired at now. A token is expired from its expiry on.
func Expired(expiresAt, now time.Time) bool {
	return !expiresAt.IsZero() && !now.Before(expiresAt)
}

// TokenKind says which table a TokenUse is about.
type TokenKind string

// Token kinds.
const (
	TokenAdmin   TokenKind = "admin"
	TokenGateway TokenKind = "gateway"
)

// TokenUse is one token's last authentication, for Store.TouchTokens.
type TokenUse struct {
	Kind TokenKind
	ID   string
	At   time.Time
}

// TokenUseInterval is how coarsely a token's last use is recorded: at most
// once per interval per token, so that the hot path never writes to storage
// per call.
const TokenUseInterval = time.Hour

// Actor is who made a change: an admin token, or the server itself.
type Actor struct {
	ID   string
	Name string
}

// SystemActor returns the actor of changes the server makes on its own
// (first-start bootstrap, background jobs).
func SystemActor() Actor { return Actor{ID: "system", Name: "keygate"} }

// ActionAuthThrottled records that a client address reached the threshold
// of failed authentications and is refused for the rest of its window:
// sampled, at most one per address and window. Its detail names the
// address, the surface, the failures and the end of the wait, never a
// presented token. Persisted: never rename.
const ActionAuthThrottled = "auth.throttled"

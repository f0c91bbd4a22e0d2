package keygate

import "time"

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

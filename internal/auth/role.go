// SPDX-License-Identifier: Apache-2.0

package auth

import (
	"time"

	"github.com/keygate/keygate"
)

// Right is one thing a caller may do through the management API. Every
// endpoint declares the right it needs in the api package's route table.
type Right string

// Rights. Tenant rights apply to one tenant; platform rights only to
// platform admins.
const (
	RightTenantRead  Right = "tenant.read"
	RightKeyRead     Right = "key.read"
	RightKeyWrite    Right = "key.write"
	RightAuditRead   Right = "audit.read"
	RightTokenManage Right = "token.manage" // admin and gateway tokens of the tenant
	RightTokenScope  Right = "token.scope"  // the scope of the tenant's gateway tokens
	RightPolicyWrite Right = "policy.write" // the tenant's key-selection policy
	// RightTenantSettings is changing the tenant's own settings (key_admins),
	// not its BYOK entitlement, which stays RightTenantUpdate.
	RightTenantSettings Right = "tenant.settings"

	RightTenantCreate   Right = "platform.tenant.create"
	RightTenantList     Right = "platform.tenant.list"
	RightTenantUpdate   Right = "platform.tenant.update" // byok_enabled is a platform grant
	RightTenantDelete   Right = "platform.tenant.delete"
	RightPlatformKeys   Right = "platform.keys"
	RightPlatformAudit  Right = "platform.audit"
	RightMasterKey      Right = "platform.master_key"
	RightPlatformTokens Right = "platform.tokens"
	RightPlatformPrices Right = "platform.prices" // import price lists
)

// tenantRights lists what each tenant role may do on its own tenant.
func tenantRights(r keygate.Role) []Right {
	switch r {
	case keygate.RoleOwner:
		return []Right{RightTenantRead, RightKeyRead, RightKeyWrite, RightAuditRead, RightTokenManage, RightPolicyWrite, RightTenantSettings,
			RightTokenScope}
	case keygate.RoleAdmin:
		return []Right{RightTenantRead, RightKeyRead, RightKeyWrite, RightAuditRead, RightTokenScope}
	case keygate.RoleMember:
		return []Right{RightTenantRead, RightKeyRead}
	}
	return nil
}

// Principal is an authenticated caller of the management API.
type Principal struct {
	TokenID string
	Name    string
	Role    keygate.Role
	// Tenant is the tenant the role applies to; empty for platform admins.
	Tenant keygate.TenantID
	// ExpiresAt is when the token expires; zero: never. Tokens it creates
	// may not outlive it.
	ExpiresAt time.Time
}

// Actor returns the principal as the actor of an audit event.
func (p Principal) Actor() keygate.Actor { return keygate.Actor{ID: p.TokenID, Name: p.Name} }

// Can reports whether p holds right r on tenant (empty for rights that are
// not about one tenant). Platform admins hold every right; tenant roles hold
// their role's rights on their own tenant only; anything unknown is denied.
func (p Principal) Can(r Right, tenant keygate.TenantID) bool {
	if p.Role == keygate.RolePlatformAdmin {
		return true
	}
	if tenant == "" || p.Tenant == "" || tenant != p.Tenant {
		return false
	}
	for _, have := range tenantRights(p.Role) {
		if have == r {
			return true
		}
	}
	return false
}

// CanOn reports whether p holds right r on tenant t, as Can does for t.ID,
// and then applies t's own restrictions: when t.KeyAdmins is
// keygate.KeyAdminsOwnerOnly, RightKeyWrite is held by the tenant's owner
// tokens (and platform admins) only, not by its admin tokens. Use it
// wherever the tenant is at hand; Can alone would let a tenant admin change
// keys of an owner-only tenant.
func (p Principal) CanOn(r Right, t keygate.Tenant) bool {
	if !p.Can(r, t.ID) {
		return false
	}
	if r == RightKeyWrite && t.KeyAdmins.OrDefault() == keygate.KeyAdminsOwnerOnly {
		return p.Role == keygate.RoleOwner || p.Role == keygate.RolePlatformAdmin
	}
	return true
}

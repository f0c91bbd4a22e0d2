package keygate

import (
	"regexp"
	"time"
)

// Tenant is the unit that owns keys: an organization, workspace or project of
// the platform.
type Tenant struct {
	ID   TenantID
	Name string
	// BYOKEnabled is the entitlement a platform admin grants: when false the
	// tenant's own keys are never used.
	BYOKEnabled bool
	// KeyAdmins says which of the tenant's roles may change its provider
	// keys (see KeyAdmins); empty means KeyAdminsOwnerAndAdmin. Stores
	// always return it set.
	KeyAdmins KeyAdmins
	CreatedAt time.Time
	UpdatedAt time.Time
}

// tenantName: lowercase letters, digits, '-', '_' and '.', starting with a
// letter or digit, so names are safe in URLs, CLIs and logs.
var tenantName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

// ValidateTenantName returns an invalid_request *Error if name is not a valid
// tenant name (1-63 characters of a-z, 0-9, '.', '_' and '-', starting with a
// letter or digit, and not starting with "tn_").
func ValidateTenantName(name string) error {
	if !tenantName.MatchString(name) {
		return Errorf(CodeInvalidRequest, "Tenant name %q is not valid: use 1-63 characters of a-z, 0-9, '.', '_' and '-', starting with a letter or digit.", truncate(name, 70))
	}
	if len(name) >= 3 && name[:3] == "tn_" || name == string(PlatformScope) {
		return Errorf(CodeInvalidRequest, "Tenant name %q is reserved.", name)
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// TenantUpdate is a partial update of a tenant; nil fields stay as they are.
type TenantUpdate struct {
	BYOKEnabled *bool
	KeyAdmins   *KeyAdmins
}

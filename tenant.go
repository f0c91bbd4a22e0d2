// SPDX-License-Identifier: Apache-2.0

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

// KeyAdmins is a tenant's setting of who among its own admin tokens may
// change its provider keys (set, test, rotate, roll back, clear). Members
// never may and platform admins always may, whatever the setting.
type KeyAdmins string

// KeyAdmins values, persisted: never rename.
const (
	// KeyAdminsOwnerAndAdmin lets owner and admin tokens manage keys: the
	// default.
	KeyAdminsOwnerAndAdmin KeyAdmins = "owner_and_admin"
	// KeyAdminsOwnerOnly lets only owner tokens manage keys; admin tokens
	// keep reading keys and the audit trail.
	KeyAdminsOwnerOnly KeyAdmins = "owner_only"
)

// ActionTenantUpdated records a change of a tenant's own settings (today
// key_admins); its detail holds the field with "from" and "to". BYOK
// entitlement changes keep their own actions (byok.enabled, byok.disabled).
// Persisted: never rename.
const ActionTenantUpdated = "tenant.updated"

// ParseKeyAdmins returns the KeyAdmins named s, or an invalid_request *Error
// naming the accepted values if s is not one of them (the empty string
// included).
func ParseKeyAdmins(s string) (KeyAdmins, error) {
	switch k := KeyAdmins(s); k {
	case KeyAdminsOwnerAndAdmin, KeyAdminsOwnerOnly:
		return k, nil
	}
	return "", Errorf(CodeInvalidRequest, "key_admins %q is not valid: use %s or %s.", truncate(s, 40), KeyAdminsOwnerAndAdmin, KeyAdminsOwnerOnly)
}

// OrDefault returns k, or KeyAdminsOwnerAndAdmin if k is empty. It does not
// validate k.
func (k KeyAdmins) OrDefault() KeyAdmins {
	if k == "" {
		return KeyAdminsOwnerAndAdmin
	}
	return k
}

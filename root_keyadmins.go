package keygate

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

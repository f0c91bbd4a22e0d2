package sqlstore

import (
	"time"

	"github.com/keygate/keygate"
)

// CheckKeyStatus checks u for SetKeyStatus: invalid_request for a missing
// owner, provider or key id, or an unknown status.
func CheckKeyStatus(u keygate.KeyStatusUpdate) error {
	if u.Owner == "" || u.Provider == "" || u.KeyID == "" {
		return keygate.Errorf(keygate.CodeInvalidRequest, "A key status update needs an owner, a provider and a key id.")
	}
	switch u.Status {
	case keygate.KeyStatusUnknown, keygate.KeyStatusValid, keygate.KeyStatusInvalid:
		return nil
	}
	return keygate.Errorf(keygate.CodeInvalidRequest, "Key status %s is not valid.", Quote(string(u.Status)))
}

// SetKeyStatus records u, checked at now, on key keyID.
func (d Dialect) SetKeyStatus(keyID string, u keygate.KeyStatusUpdate, now time.Time) Stmt {
	return Stmt{d.render(`UPDATE provider_keys
		SET status = ?, last_error = ?, last_checked_at = ?, updated_at = ? WHERE id = ?`),
		[]any{string(u.Status), u.LastError, d.timeArg(now), d.timeArg(now), keyID}}
}

// KeyStatusEvent fills ev for a status change of version of key keyID,
// whose hint and fingerprint are given, owned by u's owner.
func KeyStatusEvent(ev *keygate.AuditEvent, u keygate.KeyStatusUpdate, keyID string, version int, hint, fingerprint string) {
	ev.KeyID, ev.Version, ev.Hint, ev.Fingerprint = keyID, version, hint, fingerprint
	ev.Tenant, ev.Provider = u.Owner, u.Provider
}

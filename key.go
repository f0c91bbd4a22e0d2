// SPDX-License-Identifier: Apache-2.0

package keygate

import "time"

// KeyStatus is the health of a stored provider key.
type KeyStatus string

// Key statuses, persisted: never rename.
const (
	KeyStatusUnknown KeyStatus = "unknown" // never checked
	KeyStatusValid   KeyStatus = "valid"   // the provider accepted it last time
	KeyStatusInvalid KeyStatus = "invalid" // the provider rejected it (401/403)
)

// ProviderKey is one stored provider key of a tenant (or of the platform) at
// one version: metadata for display plus the sealed material. The plaintext is
// never part of it.
type ProviderKey struct {
	// ID identifies the key of one owner and provider ("pk_..."); it stays
	// the same across rotations and changes when the key is cleared and set
	// again.
	ID       string
	Owner    TenantID
	Provider string
	Version  int
	// Hint is "..." and the last four characters; Fingerprint is an HMAC of
	// the key under a server-held secret.
	Hint        string
	Fingerprint string
	Status      KeyStatus
	// LastCheckedAt is zero when the key was never checked. LastError never
	// contains the key.
	LastCheckedAt time.Time
	LastError     string
	CreatedBy     string    // actor id of the token that set this version
	CreatedAt     time.Time // when this version was set
	UpdatedAt     time.Time // last change of metadata or status
	Sealed        Sealed
}

// Sealed is the encrypted form of one key version: the key encrypted under
// a data key of its own, and the data key wrapped by a master key (envelope
// encryption, docs/security.md).
type Sealed struct {
	// Ciphertext carries its own format version and nonce.
	Ciphertext []byte
	// WrappedDEK is the data key wrapped by the master key KEKID.
	WrappedDEK []byte
	KEKID      string
}

// Setting is a sealed server setting with its name and creation time.
type Setting struct {
	Name      string
	Sealed    Sealed
	CreatedAt time.Time
}

// PutKeyParams describes a new version of a provider key for Store.PutKey.
type PutKeyParams struct {
	Owner       TenantID
	Provider    string
	Hint        string
	Fingerprint string
	CreatedBy   string
	Status      KeyStatus
	// Seal is called inside the store's transaction, once the key id and the
	// new version are known, to encrypt the key bound to them. An error from
	// Seal aborts the transaction.
	Seal func(keyID string, version int) (Sealed, error)
}

// WrappedRef names one wrapped data key for master-key rotation.
type WrappedRef struct {
	// Kind is "key" for a provider key version, "setting" for a sealed
	// server setting.
	Kind string
	// KeyID and Version identify a provider key version; Name a setting.
	KeyID      string
	Version    int
	Name       string
	WrappedDEK []byte
	KEKID      string
}

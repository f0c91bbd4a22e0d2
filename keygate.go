// SPDX-License-Identifier: Apache-2.0

// Package keygate is the vocabulary of keygate, a self-hosted BYOK ("bring
// your own key") service for multi-tenant AI platforms: tenants, provider
// keys, key sources, roles, audit events, the Secret type that carries
// plaintext keys, the Error type with its stable codes, and the Store
// contract that the storage backends implement.
//
// The package imports only the standard library. Everything that talks to a
// database, the network or the file system lives under internal/ and is wired
// together by cmd/keygate.
package keygate

import "time"

// TenantID identifies a tenant ("tn_..."). PlatformScope is the owner of the
// platform's shared fallback keys.
type TenantID string

// PlatformScope is the owner of platform keys: the shared fallback key of each
// provider. Tenant ids always start with "tn_", so the two never collide.
const PlatformScope TenantID = "platform"

// IsPlatform reports whether id names the platform scope rather than a tenant.
func (id TenantID) IsPlatform() bool { return id == PlatformScope }

// KeySource says who paid for a call.
type KeySource string

// Key sources, persisted in the usage ledger: never renumber or rename.
const (
	SourceTenant   KeySource = "tenant"   // the tenant's stored key
	SourcePlatform KeySource = "platform" // the platform's shared key
	SourceRequest  KeySource = "request"  // an ephemeral key sent with one request
)

// Clock returns the current time. Services take one so tests can use a fake.
type Clock func() time.Time

// Now returns t in UTC truncated to microseconds, the precision every backend
// stores, so a value read back equals the value written (the audit chain hash
// depends on it).
func Now(c Clock) time.Time {
	return c().UTC().Truncate(time.Microsecond)
}

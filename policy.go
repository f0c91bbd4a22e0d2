// SPDX-License-Identifier: Apache-2.0

package keygate

import "time"

// PolicyMode says which stored keys a tenant's calls may use.
type PolicyMode string

// Policy modes, persisted: never rename.
const (
	// ModeTenantThenPlatform uses the tenant's key, else the platform's.
	ModeTenantThenPlatform PolicyMode = "tenant_then_platform"
	// ModeTenantOnly never uses the platform key.
	ModeTenantOnly PolicyMode = "tenant_only"
	// ModePlatformOnly never uses the tenant's key.
	ModePlatformOnly PolicyMode = "platform_only"
)

// Valid reports whether m is a known mode.
func (m PolicyMode) Valid() bool {
	switch m {
	case ModeTenantThenPlatform, ModeTenantOnly, ModePlatformOnly:
		return true
	}
	return false
}

// Policy is how a tenant's calls to one provider pick their credential.
type Policy struct {
	Mode PolicyMode
	// AllowRequestKeys lets a call bring its own key in X-Provider-Key
	// (source "request"; used once, never stored or logged).
	AllowRequestKeys bool
	// FallbackOnError retries a call once on the platform key when the
	// tenant's key gets 401/403/429/5xx before the first byte.
	FallbackOnError bool
}

// DefaultPolicy is the policy of a tenant that has set none: the tenant's
// key, else the platform's; no per-request keys; no fallback on errors.
func DefaultPolicy() Policy {
	return Policy{Mode: ModeTenantThenPlatform}
}

// TenantPolicy is a tenant's whole policy: a default, and overrides per
// provider.
type TenantPolicy struct {
	Tenant    TenantID
	Default   Policy
	Providers map[string]Policy
	UpdatedAt time.Time // zero when the tenant never set a policy
}

// For returns the policy that applies to provider.
func (p TenantPolicy) For(provider string) Policy {
	if q, ok := p.Providers[provider]; ok {
		return q
	}
	return p.Default
}

// Availability is what a call has to choose from.
type Availability struct {
	BYOKEnabled bool // the tenant's entitlement
	RequestKey  bool // the call carries X-Provider-Key
	TenantKey   bool // the tenant has a stored key for the provider
	PlatformKey bool // the platform has a key for the provider
}

// Wants reports which stored keys Choose may pick for a call with a,
// whatever a.TenantKey and a.PlatformKey say: the tenant's (BYOK enabled
// and the mode is not platform_only) and the platform's (the mode is not
// tenant_only); neither when the call carries its own key. A key that is
// not wanted need not be looked up, nor decrypted.
func (p Policy) Wants(a Availability) (tenant, platform bool) {
	if a.RequestKey {
		return false, false
	}
	return a.BYOKEnabled && p.Mode != ModePlatformOnly, p.Mode != ModeTenantOnly
}

// Choose applies the policy to a call (docs/gateway.md, "Which key pays")
// and returns the key source to use and, when the policy allows a retry on the platform key
// after the tenant key fails, the fallback source ("" for none).
//
//  1. A request key is used if the tenant has BYOK and the policy allows
//     request keys; a request key that is not allowed is refused
//     (forbidden), never silently replaced by a stored key.
//  2. The tenant's key, if BYOK is enabled and the mode is not
//     platform_only.
//  3. The platform key, unless the mode is tenant_only.
//  4. Otherwise provider_key_missing.
func (p Policy) Choose(a Availability) (KeySource, KeySource, error) {
	if a.RequestKey {
		if !a.BYOKEnabled || !p.AllowRequestKeys {
			return "", "", Errorf(CodeForbidden, "This tenant may not send its own key with a request (X-Provider-Key); ask an owner to allow per-request keys.")
		}
		return SourceRequest, "", nil
	}
	tenantAllowed, platformAllowed := p.Wants(a)
	if a.TenantKey && tenantAllowed {
		var fallback KeySource
		if p.FallbackOnError && platformAllowed && a.PlatformKey {
			fallback = SourcePlatform
		}
		return SourceTenant, fallback, nil
	}
	if platformAllowed && a.PlatformKey {
		return SourcePlatform, "", nil
	}
	switch {
	case p.Mode == ModeTenantOnly && !a.BYOKEnabled:
		return "", "", Errorf(CodeProviderKeyMissing, "This tenant's policy allows only its own key, but BYOK is not enabled for it.")
	case p.Mode == ModeTenantOnly:
		return "", "", Errorf(CodeProviderKeyMissing, "No key is stored for this provider, and this tenant's policy allows only its own key.")
	default:
		return "", "", Errorf(CodeProviderKeyMissing, "No key is available for this provider: neither the tenant nor the platform has one that this tenant may use.")
	}
}

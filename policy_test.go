// SPDX-License-Identifier: Apache-2.0

package keygate_test

import (
	"fmt"
	"testing"

	"github.com/keygate/keygate"
)

// TestChooseMatrix walks every combination of {request key sent, tenant key
// stored, platform key stored} × mode × byok_enabled × allow_request_keys ×
// fallback_on_error and checks the source (or error) against the rules,
// stated here independently of the implementation.
func TestChooseMatrix(t *testing.T) {
	bools := []bool{false, true}
	modes := []keygate.PolicyMode{keygate.ModeTenantThenPlatform, keygate.ModeTenantOnly, keygate.ModePlatformOnly}
	n := 0
	for _, req := range bools {
		for _, tenantKey := range bools {
			for _, platformKey := range bools {
				for _, mode := range modes {
					for _, byok := range bools {
						for _, allowReq := range bools {
							for _, fallback := range bools {
								n++
								p := keygate.Policy{Mode: mode, AllowRequestKeys: allowReq, FallbackOnError: fallback}
								a := keygate.Availability{BYOKEnabled: byok, RequestKey: req, TenantKey: tenantKey, PlatformKey: platformKey}
								name := fmt.Sprintf("req=%v/tenant=%v/platform=%v/%s/byok=%v/allowreq=%v/fallback=%v", req, tenantKey, platformKey, mode, byok, allowReq, fallback)
								wantSrc, wantFB, wantCode := expected(p, a)
								src, fb, err := p.Choose(a)
								if src != wantSrc || fb != wantFB || keygate.ErrorCode(err) != wantCode {
									t.Errorf("%s: got (%q, %q, %q), want (%q, %q, %q)", name, src, fb, keygate.ErrorCode(err), wantSrc, wantFB, wantCode)
								}
								checkWants(t, name, p, a)
							}
						}
					}
				}
			}
		}
	}
	if n != 192 {
		t.Fatalf("matrix has %d cases", n)
	}
}

// checkWants: a key Wants does not name is never picked, and whether it
// is stored changes nothing, so the resolver may leave it unread.
func checkWants(t *testing.T, name string, p keygate.Policy, a keygate.Availability) {
	t.Helper()
	tenant, platform := p.Wants(a)
	src, fb, err := p.Choose(a)
	if (src == keygate.SourceTenant && !tenant) || ((src == keygate.SourcePlatform || fb == keygate.SourcePlatform) && !platform) {
		t.Errorf("%s: Choose picked (%q, %q) but Wants says (%v, %v)", name, src, fb, tenant, platform)
	}
	b := a
	if !tenant {
		b.TenantKey = !b.TenantKey
	}
	if !platform {
		b.PlatformKey = !b.PlatformKey
	}
	src2, fb2, err2 := p.Choose(b)
	if src2 != src || fb2 != fb || keygate.ErrorCode(err2) != keygate.ErrorCode(err) {
		t.Errorf("%s: an unwanted key changes the choice: (%q, %q, %v) vs (%q, %q, %v)", name, src, fb, err, src2, fb2, err2)
	}
}

// expected states the rules of Choose (docs/gateway.md, "Which key pays")
// case by case.
func expected(p keygate.Policy, a keygate.Availability) (keygate.KeySource, keygate.KeySource, string) {
	if a.RequestKey {
		if a.BYOKEnabled && p.AllowRequestKeys {
			return keygate.SourceRequest, "", ""
		}
		return "", "", keygate.CodeForbidden
	}
	tenantUsable := a.TenantKey && a.BYOKEnabled && p.Mode != keygate.ModePlatformOnly
	platformUsable := a.PlatformKey && p.Mode != keygate.ModeTenantOnly
	switch {
	case tenantUsable && platformUsable && p.FallbackOnError:
		return keygate.SourceTenant, keygate.SourcePlatform, ""
	case tenantUsable:
		return keygate.SourceTenant, "", ""
	case platformUsable:
		return keygate.SourcePlatform, "", ""
	}
	return "", "", keygate.CodeProviderKeyMissing
}

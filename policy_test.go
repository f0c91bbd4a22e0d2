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

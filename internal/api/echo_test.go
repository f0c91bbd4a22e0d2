// SPDX-License-Identifier: Apache-2.0

package api

import (
	"context"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/testkit"
)

// TestErrorsDoNotEchoKeys sends a key-shaped value in every input of the
// native API that is refused (path segments, field names, map keys,
// values) and checks that the answer never repeats it, while still naming
// what was wrong. A short plain name is still repeated, which helps with
// typos.
func TestErrorsDoNotEchoKeys(t *testing.T) {
	a, db := MustAPI(t)
	tok := MustToken(t, db, keygate.RolePlatformAdmin, "")
	k := testkit.CanaryOpenAIKey
	pk := url.PathEscape(k)
	tests := []struct {
		name, method, path, body string
		want                     string // a substring of the answer
	}{
		{"TenantInPath", "GET", "/api/v1/tenants/" + pk, "", "Tenant (the value sent is not repeated) does not exist"},
		{"TenantInPathKeys", "PUT", "/api/v1/tenants/" + pk + "/keys/openai", `{"key":"x"}`, "not_found"},
		{"ProviderInPath", "PUT", "/api/v1/tenants/acme/keys/" + pk, `{"key":"x"}`, "Unknown provider (the value sent is not repeated)"},
		{"PlatformProviderInPath", "GET", "/api/v1/platform/keys/" + pk, "", "unknown_provider"},
		{"RollbackPath", "POST", "/api/v1/tenants/acme/keys/" + pk, "", "/api/v1/tenants/acme/keys/[redacted]"},
		{"UnknownEndpoint", "GET", "/api/v1/" + pk + "/x", "", "No such endpoint: GET /api/v1/[redacted]/x"},
		{"GatewayTokenID", "DELETE", "/api/v1/tenants/acme/tokens/" + pk, "", "Gateway token (the value sent is not repeated)"},
		{"AdminTokenID", "DELETE", "/api/v1/admin-tokens/" + pk, "", "No active admin token (the value sent is not repeated)"},
		{"UnknownField", "PUT", "/api/v1/tenants/acme/keys/openai", `{"` + k + `":"x"}`, "unknown field (the value sent is not repeated)"},
		{"MapKeyWrongType", "PUT", "/api/v1/tenants/acme/policy", `{"providers":{"` + k + `":5}}`, "field providers must be"},
		{"PolicyProvider", "PUT", "/api/v1/tenants/acme/policy", `{"providers":{"` + k + `":{}}}`, "Unknown provider (the value sent is not repeated) in providers"},
		{"LimitsProvider", "PUT", "/api/v1/tenants/acme/limits", `{"limits":[{"provider":"` + k + `","rpm":1}]}`, "Unknown provider (the value sent is not repeated) in limits"},
		{"BudgetValue", "PUT", "/api/v1/tenants/acme/budget", `{"daily_usd":"` + k + `"}`, "daily_usd"},
		{"PolicyMode", "PUT", "/api/v1/tenants/acme/policy", `{"default":{"mode":"` + k + `"}}`, "default.mode must be"},
		{"AuditTenant", "GET", "/api/v1/audit?tenant=" + url.QueryEscape(k), "", "not_found"},
		{"AuditTime", "GET", "/api/v1/audit?since=" + url.QueryEscape(k), "", "since must be"},
		{"UsageGroup", "GET", "/api/v1/usage?group_by=" + url.QueryEscape(k), "", "group_by takes"},
		{"TokenRole", "POST", "/api/v1/admin-tokens", `{"name":"x","role":"` + k + `"}`, "role must be one of"},
		// A typo that cannot be a key is still repeated.
		{"ShortNameEchoed", "GET", "/api/v1/tenants/acme/keys/openia", "", `Unknown provider \"openia\"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
			r.Header.Set("Authorization", "Bearer "+tok)
			rec := httptest.NewRecorder()
			a.ServeHTTP(rec, r)
			b := rec.Body.String()
			if rec.Code < 400 || rec.Code >= 500 {
				t.Errorf("status %d, want a 4xx: %s", rec.Code, b)
			}
			testkit.AssertNoCanary(t, "the answer", rec.Body.Bytes())
			if !strings.Contains(b, tc.want) {
				t.Errorf("answer %s lacks %q", b, tc.want)
			}
		})
	}
}

// TestUsageMasksKeyShapedModel: a usage row whose model is key-shaped (one
// written before the proxy redacted it) is answered with the marker.
func TestUsageMasksKeyShapedModel(t *testing.T) {
	a, db := MustAPI(t)
	tok := MustToken(t, db, keygate.RolePlatformAdmin, "")
	now := time.Now().UTC()
	if err := db.InsertUsage(context.Background(), []keygate.UsageEvent{
		{RequestID: "req_1", Time: now, Tenant: "tn_acme", Provider: "openai", Model: testkit.CanaryOpenAIKey, Source: keygate.SourceTenant, Status: 200, InputTokens: 1},
		{RequestID: "req_2", Time: now, Tenant: "tn_acme", Provider: "openai", Model: "gpt-4o", Source: keygate.SourceTenant, Status: 200, InputTokens: 1},
	}); err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/api/v1/tenants/acme/usage?group_by=model", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	rec := httptest.NewRecorder()
	a.ServeHTTP(rec, r)
	if rec.Code != 200 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	testkit.AssertNoCanary(t, "/usage", rec.Body.Bytes())
	for _, want := range []string{`"model":"[redacted]"`, `"model":"gpt-4o"`} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("/usage lacks %s: %s", want, rec.Body)
		}
	}
}

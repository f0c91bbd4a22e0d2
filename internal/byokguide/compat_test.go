// SPDX-License-Identifier: Apache-2.0

package byokguide_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/auth"
	"github.com/keygate/keygate/internal/byokguide"
	"github.com/keygate/keygate/internal/keyhealth"
	"github.com/keygate/keygate/internal/keyvault"
)

var t0 = time.Date(2025, 11, 7, 10, 30, 15, 0, time.UTC)

// fakes holds in-memory stand-ins for the services byokguide drives.
type fakes struct {
	mu      sync.Mutex
	tenants map[keygate.TenantID]keygate.Tenant
	keys    map[keygate.TenantID]map[string]keygate.ProviderKey
	audit   []keygate.AuditEvent
	billing string
	tokens  map[string]auth.Principal
	checks  map[string]keyhealth.Result // by key; absent: valid
}

func newFakes() *fakes {
	return &fakes{
		tenants: map[keygate.TenantID]keygate.Tenant{
			"tn_acme":   {ID: "tn_acme", Name: "acme", CreatedAt: t0},
			"tn_globex": {ID: "tn_globex", Name: "globex", BYOKEnabled: true, CreatedAt: t0},
		},
		keys:    map[keygate.TenantID]map[string]keygate.ProviderKey{},
		billing: keygate.BillingSkip,
		tokens: map[string]auth.Principal{
			"kga_platform": {TokenID: "at_p", Name: "ops", Role: keygate.RolePlatformAdmin},
			"kga_owner":    {TokenID: "at_o", Name: "owner", Role: keygate.RoleOwner, Tenant: "tn_acme"},
			"kga_member":   {TokenID: "at_m", Name: "member", Role: keygate.RoleMember, Tenant: "tn_acme"},
			"kga_admin":    {TokenID: "at_a", Name: "admin", Role: keygate.RoleAdmin, Tenant: "tn_acme"},
			"kga_globex":   {TokenID: "at_g", Name: "globex-owner", Role: keygate.RoleOwner, Tenant: "tn_globex"},
		},
		checks: map[string]keyhealth.Result{
			"sk-revoked000000000000000000000000": {Status: keyhealth.Rejected, Error: "OpenAI rejected the key (HTTP 401)"},
		},
	}
}

func (f *fakes) Authenticate(_ context.Context, tok keygate.Secret) (auth.Principal, error) {
	p, ok := f.tokens[tok.Reveal()]
	if !ok {
		return auth.Principal{}, keygate.Errorf(keygate.CodeUnauthorized, "Invalid token.")
	}
	return p, nil
}

func (f *fakes) GetTenant(_ context.Context, ref string) (keygate.Tenant, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, t := range f.tenants {
		if string(t.ID) == ref || t.Name == ref {
			return t, nil
		}
	}
	return keygate.Tenant{}, keygate.Errorf(keygate.CodeNotFound, "no tenant")
}

func (f *fakes) UpdateTenant(_ context.Context, id keygate.TenantID, u keygate.TenantUpdate, ev keygate.AuditEvent) (keygate.Tenant, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.tenants[id]
	t.BYOKEnabled = *u.BYOKEnabled
	f.tenants[id] = t
	f.appendLocked(ev)
	return t, nil
}

func (f *fakes) appendLocked(ev keygate.AuditEvent) keygate.AuditEvent {
	ev.Seq = int64(len(f.audit) + 1)
	ev.Time = t0.Add(time.Duration(ev.Seq) * time.Minute)
	f.audit = append(f.audit, ev)
	return ev
}

func (f *fakes) AppendAudit(_ context.Context, ev keygate.AuditEvent) (keygate.AuditEvent, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.appendLocked(ev), nil
}

func (f *fakes) ListAudit(_ context.Context, flt keygate.AuditFilter) ([]keygate.AuditEvent, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []keygate.AuditEvent
	for i := len(f.audit) - 1; i >= 0; i-- {
		ev := f.audit[i]
		if ev.Tenant == flt.Tenant && (flt.Action == "" || ev.Action == flt.Action) {
			out = append(out, ev)
		}
	}
	if flt.Limit > 0 && len(out) > flt.Limit {
		out = out[:flt.Limit]
	}
	return out, nil
}

func (f *fakes) GetBudget(_ context.Context, tenant keygate.TenantID) (keygate.Budget, error) {
	return keygate.Budget{Tenant: tenant, BYOKBilling: f.billing}, nil
}

func (f *fakes) PutChecked(_ context.Context, c keyvault.Change, owner keygate.TenantID, provider string, key keygate.Secret, status keygate.KeyStatus) (keygate.ProviderKey, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.keys[owner] == nil {
		f.keys[owner] = map[string]keygate.ProviderKey{}
	}
	k, ok := f.keys[owner][provider]
	action := keygate.ActionKeySet
	if ok {
		action = keygate.ActionKeyRotated
	}
	k = keygate.ProviderKey{ID: "pk_" + provider, Owner: owner, Provider: provider, Version: k.Version + 1, Hint: key.Hint(), Status: status, CreatedAt: t0}
	f.keys[owner][provider] = k
	f.appendLocked(keygate.AuditEvent{ActorID: c.Actor.ID, Tenant: owner, Provider: provider, Action: action, Version: k.Version})
	return k, nil
}

func (f *fakes) Delete(_ context.Context, c keyvault.Change, owner keygate.TenantID, provider string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.keys[owner][provider]; !ok {
		return keygate.Errorf(keygate.CodeNotFound, "no key")
	}
	delete(f.keys[owner], provider)
	f.appendLocked(keygate.AuditEvent{ActorID: c.Actor.ID, Tenant: owner, Provider: provider, Action: keygate.ActionKeyCleared})
	return nil
}

func (f *fakes) List(_ context.Context, owner keygate.TenantID) ([]keygate.ProviderKey, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []keygate.ProviderKey
	for _, k := range f.keys[owner] {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Provider < out[j].Provider })
	return out, nil
}

func (f *fakes) Check(_ context.Context, provider string, key keygate.Secret) (keyhealth.Result, error) {
	if !strings.HasPrefix(key.Reveal(), map[string]string{"openai": "sk-", "anthropic": "sk-ant-"}[provider]) ||
		provider == "openai" && strings.HasPrefix(key.Reveal(), "sk-ant-") {
		return keyhealth.Result{}, keygate.Errorf(keygate.CodeInvalidKeyFormat, "An %s key has another prefix.", provider)
	}
	if r, ok := f.checks[key.Reveal()]; ok {
		return r, nil
	}
	return keyhealth.Result{Status: keyhealth.Valid, Models: []string{provider + "-model"}, ModelCount: 1}, nil
}

func (f *fakes) Names() []string { return []string{"anthropic", "google", "openai"} }

func (f *fakes) actions(tenant keygate.TenantID) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, ev := range f.audit {
		if ev.Tenant == tenant {
			out = append(out, ev.Action)
		}
	}
	return out
}

// MustHandler returns the byokguide handler over f.
func MustHandler(tb testing.TB, f *fakes) http.Handler {
	tb.Helper()
	return byokguide.New(byokguide.Deps{Store: f, Vault: f, Checker: f, Auth: f, Providers: f})
}

// do sends one request with the admin key in X-Admin-Key and decodes the
// answer.
func do(tb testing.TB, h http.Handler, key, method, path, body string) (int, map[string]any) {
	tb.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if key != "" {
		req.Header.Set("X-Admin-Key", key)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var out map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		tb.Fatalf("%s %s: %d, body is not a JSON object: %v: %s", method, path, rec.Code, err, rec.Body.Bytes())
	}
	return rec.Code, out
}

func errCode(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	code, _ := e["code"].(string)
	return code
}

func TestGuideAuthorization(t *testing.T) {
	const good = `{"openai_key":"sk-good0000000000000000000000000000"}`
	tests := []struct {
		name, key, method, path, body string
		wantStatus                    int
		wantCode                      string
	}{
		{"NoKey", "", "GET", "/api/tenants/acme/byok/status", "", 403, "forbidden"},
		{"BadKey", "kga_nope", "GET", "/api/tenants/acme/byok/status", "", 403, "forbidden"},
		{"MemberReadsStatus", "kga_member", "GET", "/api/tenants/acme/byok/status", "", 200, ""},
		{"MemberCannotTest", "kga_member", "POST", "/api/tenants/acme/byok/test-keys", good, 403, "forbidden"},
		{"OwnerTests", "kga_owner", "POST", "/api/tenants/acme/byok/test-keys", good, 200, ""},
		{"OwnerByID", "kga_owner", "GET", "/api/tenants/tn_acme/byok/status", "", 200, ""},
		{"OtherTenant", "kga_globex", "GET", "/api/tenants/acme/byok/status", "", 403, "forbidden"},
		{"TenantTokenUnknownTenant", "kga_owner", "GET", "/api/tenants/nobody/byok/status", "", 403, "forbidden"},
		{"PlatformUnknownTenant", "kga_platform", "GET", "/api/tenants/nobody/byok/status", "", 404, "not_found"},
		{"OwnerCannotGrantBYOK", "kga_owner", "POST", "/api/tenants/acme/byok/enable", good, 403, "forbidden"},
		{"UnknownEndpoint", "kga_platform", "GET", "/api/tenants/acme/byok/nope", "", 404, "not_found"},
		{"WrongMethod", "kga_platform", "GET", "/api/tenants/acme/byok/enable", "", 404, "not_found"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := MustHandler(t, newFakes())
			req := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
			if tc.key != "" {
				req.Header.Set("X-Admin-Key", tc.key)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			var body map[string]any
			_ = json.Unmarshal(rec.Body.Bytes(), &body)
			if rec.Code != tc.wantStatus || errCode(body) != tc.wantCode {
				t.Errorf("%s %s: %d %q, want %d %q: %s", tc.method, tc.path, rec.Code, errCode(body), tc.wantStatus, tc.wantCode, rec.Body.Bytes())
			}
		})
	}
}

// TestGuideKeyAdmins: with key_admins owner_only, an admin token of the
// tenant may still read the status but no longer test, enable, rotate or
// revert keys (rotate and revert are refused before they look for keys to
// replace); the owner and platform admins still may.
func TestGuideKeyAdmins(t *testing.T) {
	const good = `{"openai_key":"sk-good0000000000000000000000000000"}`
	tests := []struct {
		name       string
		keyAdmins  keygate.KeyAdmins
		key        string
		method     string
		endpoint   string
		body       string
		wantStatus int
	}{
		{"DefaultAdminTests", "", "kga_admin", "POST", "test-keys", good, 200},
		{"OwnerAndAdminAdminEnables", keygate.KeyAdminsOwnerAndAdmin, "kga_admin", "POST", "enable", good, 200},
		{"OwnerOnlyAdminReadsStatus", keygate.KeyAdminsOwnerOnly, "kga_admin", "GET", "status", "", 200},
		{"OwnerOnlyAdminCannotTest", keygate.KeyAdminsOwnerOnly, "kga_admin", "POST", "test-keys", good, 403},
		{"OwnerOnlyAdminCannotEnable", keygate.KeyAdminsOwnerOnly, "kga_admin", "POST", "enable", good, 403},
		{"OwnerOnlyAdminCannotRotate", keygate.KeyAdminsOwnerOnly, "kga_admin", "POST", "rotate", good, 403},
		{"OwnerOnlyAdminCannotRevert", keygate.KeyAdminsOwnerOnly, "kga_admin", "POST", "revert", `{}`, 403},
		{"OwnerOnlyOwnerTests", keygate.KeyAdminsOwnerOnly, "kga_owner", "POST", "test-keys", good, 200},
		{"OwnerOnlyOwnerEnables", keygate.KeyAdminsOwnerOnly, "kga_owner", "POST", "enable", good, 200},
		{"OwnerOnlyPlatformEnables", keygate.KeyAdminsOwnerOnly, "kga_platform", "POST", "enable", good, 200},
		{"OwnerOnlyMemberCannotTest", keygate.KeyAdminsOwnerOnly, "kga_member", "POST", "test-keys", good, 403},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakes()
			acme := f.tenants["tn_acme"]
			acme.KeyAdmins, acme.BYOKEnabled = tc.keyAdmins, true
			f.tenants["tn_acme"] = acme
			before := len(f.actions("tn_acme"))
			status, body := do(t, MustHandler(t, f), tc.key, tc.method, "/api/tenants/acme/byok/"+tc.endpoint, tc.body)
			if status != tc.wantStatus {
				t.Fatalf("%s %s as %s: %d, want %d: %v", tc.method, tc.endpoint, tc.key, status, tc.wantStatus, body)
			}
			if status == 403 {
				if code := errCode(body); code != keygate.CodeForbidden {
					t.Errorf("code = %q, want forbidden", code)
				}
				if got := f.actions("tn_acme"); len(got) != before {
					t.Errorf("a refused request wrote audit events: %v", got[before:])
				}
			}
		})
	}
}

func TestGuideBearer(t *testing.T) {
	h := MustHandler(t, newFakes())
	req := httptest.NewRequest("GET", "/api/tenants/acme/byok/status", nil)
	req.Header.Set("Authorization", "Bearer kga_owner")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Fatalf("Authorization: Bearer: %d %s", rec.Code, rec.Body.Bytes())
	}
}

func TestGuideTestKeys(t *testing.T) {
	type result struct {
		Valid  bool
		Models []string
		Error  *string
	}
	str := func(s string) *string { return &s }
	tests := []struct {
		name       string
		body       string
		wantStatus int
		wantCode   string
		want       map[string]result
	}{
		{"BothValid", `{"openai_key":"sk-good0000000000000000000000000000","anthropic_key":"sk-ant-good00000000000000000000"}`, 200, "",
			map[string]result{"openai": {true, []string{"openai-model"}, nil}, "anthropic": {true, []string{"anthropic-model"}, nil}}},
		{"OneOnly", `{"anthropic_key":"sk-ant-good00000000000000000000","openai_key":null}`, 200, "",
			map[string]result{"anthropic": {true, []string{"anthropic-model"}, nil}}},
		{"Rejected", `{"openai_key":"sk-revoked000000000000000000000000"}`, 200, "",
			map[string]result{"openai": {false, []string{}, str("OpenAI rejected the key (HTTP 401)")}}},
		{"WrongPrefix", `{"anthropic_key":"sk-good0000000000000000000000000000"}`, 200, "",
			map[string]result{"anthropic": {false, []string{}, str("An anthropic key has another prefix.")}}},
		{"OtherProvider", `{"google_key":"AIzaGood"}`, 200, "", map[string]result{"google": {true, []string{"google-model"}, nil}}},
		{"NoKey", `{}`, 400, "invalid_request", nil},
		{"EmptyKeys", `{"openai_key":"","anthropic_key":null}`, 400, "invalid_request", nil},
		{"EmptyBody", ``, 400, "invalid_request", nil},
		{"UnknownField", `{"azure_key":"x"}`, 400, "invalid_request", nil},
		{"NotAString", `{"openai_key":42}`, 400, "invalid_json", nil},
		{"NotAnObject", `["sk-good"]`, 400, "invalid_json", nil},
		{"Malformed", `{"openai_key":`, 400, "invalid_json", nil},
		{"Trailing", `{"openai_key":"sk-good0000000000000000000000000000"} {}`, 400, "invalid_json", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakes()
			h := MustHandler(t, f)
			req := httptest.NewRequest("POST", "/api/tenants/acme/byok/test-keys", strings.NewReader(tc.body))
			req.Header.Set("X-Admin-Key", "kga_owner")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if tc.wantCode != "" {
				var body map[string]any
				_ = json.Unmarshal(rec.Body.Bytes(), &body)
				if rec.Code != tc.wantStatus || errCode(body) != tc.wantCode {
					t.Fatalf("%d %s, want %d %s", rec.Code, rec.Body.Bytes(), tc.wantStatus, tc.wantCode)
				}
				if len(f.audit) != 0 {
					t.Errorf("a refused request wrote audit events: %v", f.actions("tn_acme"))
				}
				return
			}
			var got map[string]result
			if err := json.Unmarshal(rec.Body.Bytes(), &got); rec.Code != tc.wantStatus || err != nil {
				t.Fatalf("%d %v %s", rec.Code, err, rec.Body.Bytes())
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("results (-want +got):\n%s", diff)
			}
			if n := len(f.actions("tn_acme")); n != len(tc.want) {
				t.Errorf("%d key.tested events, want %d", n, len(tc.want))
			}
			if len(f.keys["tn_acme"]) != 0 {
				t.Error("test-keys saved a key")
			}
		})
	}
}

// TestGuideUnsafeFieldNotEchoed: a key pasted as a field name never comes
// back in the error.
func TestGuideUnsafeFieldNotEchoed(t *testing.T) {
	h := MustHandler(t, newFakes())
	req := httptest.NewRequest("POST", "/api/tenants/acme/byok/test-keys", strings.NewReader(`{"sk-Secret123":"x"}`))
	req.Header.Set("X-Admin-Key", "kga_owner")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 400 || strings.Contains(rec.Body.String(), "Secret123") {
		t.Fatalf("%d %s", rec.Code, rec.Body.Bytes())
	}
}

// TestGuideLifecycle walks the story: enable (platform admin grants BYOK),
// status, rotate one key, a refused rotation, revert, and the audit trail.
func TestGuideLifecycle(t *testing.T) {
	f := newFakes()
	h := MustHandler(t, f)
	const both = `{"openai_key":"sk-first000000000000000000000000000","anthropic_key":"sk-ant-first0000000000000000000"}`

	if st, body := do(t, h, "kga_owner", "POST", "/api/tenants/acme/byok/rotate", `{"openai_key":"sk-next0000000000000000000000000000"}`); st != 409 || errCode(body) != "conflict" {
		t.Fatalf("rotate before enable: %d %v", st, body)
	}
	if st, body := do(t, h, "kga_platform", "POST", "/api/tenants/acme/byok/enable", `{"openai_key":"sk-revoked000000000000000000000000"}`); st != 422 || errCode(body) != "key_rejected" {
		t.Fatalf("enable with a rejected key: %d %v", st, body)
	}
	if len(f.keys["tn_acme"]) != 0 || f.tenants["tn_acme"].BYOKEnabled {
		t.Fatal("a refused enable changed something")
	}
	st, body := do(t, h, "kga_platform", "POST", "/api/tenants/acme/byok/enable", both)
	if st != 200 || body["message"] != "BYOK enabled for tenant" || body["byok_enabled"] != true || body["enabled_since"] == nil || body["cost_tracking"] != "byok" {
		t.Fatalf("enable: %d %v", st, body)
	}
	st, body = do(t, h, "kga_member", "GET", "/api/tenants/acme/byok/status", "")
	providers, _ := body["providers"].(map[string]any)
	openai, _ := providers["openai"].(map[string]any)
	if st != 200 || openai["hint"] != "...0000" || openai["configured"] != true || body["byok_enabled"] != true {
		t.Fatalf("status: %d %v", st, body)
	}
	if strings.Contains(mustJSON(t, body), "first") {
		t.Fatal("the status shows a key")
	}
	st, body = do(t, h, "kga_owner", "POST", "/api/tenants/acme/byok/rotate", `{"openai_key":"sk-next0000000000000000000000001234"}`)
	if st != 200 || f.keys["tn_acme"]["openai"].Version != 2 || f.keys["tn_acme"]["anthropic"].Version != 1 {
		t.Fatalf("rotate: %d %v", st, body)
	}
	if st, body = do(t, h, "kga_owner", "POST", "/api/tenants/acme/byok/rotate", `{"openai_key":"sk-revoked000000000000000000000000","anthropic_key":"sk-ant-next00000000000000000000"}`); st != 422 {
		t.Fatalf("rotate with one rejected key: %d %v", st, body)
	}
	if f.keys["tn_acme"]["anthropic"].Version != 1 {
		t.Fatal("a refused rotation saved the other key")
	}
	if st, body = do(t, h, "kga_owner", "POST", "/api/tenants/acme/byok/revert", ""); st != 403 {
		t.Fatalf("owner reverts: %d %v", st, body)
	}
	st, body = do(t, h, "kga_platform", "POST", "/api/tenants/acme/byok/revert", "")
	if st != 200 || body["byok_enabled"] != false || body["cost_tracking"] != "platform" || body["enabled_since"] != nil || len(f.keys["tn_acme"]) != 0 {
		t.Fatalf("revert: %d %v", st, body)
	}
	want := []string{
		"key.tested", // the refused enable
		"key.tested", "key.tested", "key.set", "key.set", "byok.enabled",
		"key.tested", "key.rotated",
		"key.tested", "key.tested", // the refused rotation
		"key.cleared", "key.cleared", "byok.disabled",
	}
	if diff := cmp.Diff(want, f.actions("tn_acme")); diff != "" {
		t.Errorf("audit (-want +got):\n%s", diff)
	}
}

// TestGuideEnableEntitledTenant: a tenant already entitled to BYOK may
// enable it with its own owner token; "enabled since" is that moment.
func TestGuideEnableEntitledTenant(t *testing.T) {
	f := newFakes()
	h := MustHandler(t, f)
	st, body := do(t, h, "kga_globex", "POST", "/api/tenants/globex/byok/enable", `{"anthropic_key":"sk-ant-first0000000000000000000"}`)
	if st != 200 || body["enabled_since"] != "2025-11-07T10:33:15Z" {
		t.Fatalf("enable: %d %v", st, body)
	}
	if diff := cmp.Diff([]string{"key.tested", "key.set", "byok.enabled"}, f.actions("tn_globex")); diff != "" {
		t.Errorf("audit (-want +got):\n%s", diff)
	}
	f.billing = keygate.BillingMeter
	if _, body = do(t, h, "kga_globex", "GET", "/api/tenants/globex/byok/status", ""); body["cost_tracking"] != "platform" || body["byok_billing"] != "meter" {
		t.Errorf("status under byok_billing meter: %v", body)
	}
}

func mustJSON(tb testing.TB, v any) string {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// TestUnknownEndpointDoesNotEchoPath: a key typed into an unknown path is
// not repeated in the 404.
func TestUnknownEndpointDoesNotEchoPath(t *testing.T) {
	const key = "sk-KGCANARYc4n4ry7e5tD0N0TL3AK0123456789abcdefQ7zX"
	h := MustHandler(t, newFakes())
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/tenants/acme/"+key+"/x", nil))
	if rec.Code != http.StatusNotFound || strings.Contains(rec.Body.String(), "KGCANARY") {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
}

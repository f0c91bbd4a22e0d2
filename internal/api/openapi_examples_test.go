// SPDX-License-Identifier: Apache-2.0

package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/auth"
	"github.com/keygate/keygate/internal/keyhealth"
	"github.com/keygate/keygate/internal/keyvault"
)

// mediaExamples returns the example values of a Media Type Object, by
// name ("example" for the single example).
func mediaExamples(tb testing.TB, doc map[string]any, media map[string]any) map[string]any {
	tb.Helper()
	out := map[string]any{}
	if v, ok := media["example"]; ok {
		out["example"] = v
	}
	exs, _ := media["examples"].(map[string]any)
	for name, ex := range exs {
		ex := deref(tb, doc, ex)
		if v, ok := ex["value"]; ok {
			out[name] = v
		}
	}
	return out
}

// requestBody returns the JSON media type of op's request body and the
// pointer to its schema; ok is false for an operation without a body.
func requestBody(tb testing.TB, doc map[string]any, op oaOperation) (media map[string]any, schemaPtr string, ok bool) {
	tb.Helper()
	rb, has := op.Op["requestBody"]
	if !has {
		return nil, "", false
	}
	body := deref(tb, doc, rb)
	content, _ := body["content"].(map[string]any)
	media, _ = content["application/json"].(map[string]any)
	if media == nil {
		tb.Fatalf("%s: the request body is not application/json", op)
	}
	if body["required"] != true {
		tb.Errorf("%s: the request body must be required (an empty body is invalid_json)", op)
	}
	return media, op.Ptr + "/requestBody/content/application~1json/schema", true
}

// TestOpenAPIRequestExamples validates every request example against its
// operation's schema, and checks that the schema refuses what the server's
// strict decoder refuses: an unknown field, a field of the wrong type, a
// body that is not an object.
func TestOpenAPIRequestExamples(t *testing.T) {
	doc := MustLoadOpenAPI(t)
	c := MustDocCompiler(t, doc)
	for _, op := range operations(t, doc) {
		media, ptr, ok := requestBody(t, doc, op)
		if !ok {
			continue
		}
		t.Run(op.Op["operationId"].(string), func(t *testing.T) {
			schema := MustCompileAt(t, c, ptr)
			examples := mediaExamples(t, doc, media)
			if len(examples) == 0 {
				t.Fatalf("%s has no request example", op)
			}
			for name, ex := range examples {
				if err := schema.Validate(ex); err != nil {
					t.Errorf("%s: example %q does not validate:\n%v", op, name, err)
				}
				obj, _ := ex.(map[string]any)
				for _, bad := range wrongBodies(obj) {
					if schema.Validate(bad.body) == nil {
						t.Errorf("%s: example %q %s validates; want an error", op, name, bad.what)
					}
				}
			}
		})
	}
}

type wrongBody struct {
	what string
	body any
	// serverAccepts marks a body the schema refuses but Go's decoder takes
	// as "no fields set" (null); the handler then refuses it for what is
	// missing rather than with invalid_json.
	serverAccepts bool
}

// usdAmount matches a USD amount as a decimal string.
var usdAmount = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)

// wrongBodies derives, from a valid example, bodies that the server's
// decoder refuses with invalid_json.
func wrongBodies(ex map[string]any) []wrongBody {
	clone := func() map[string]any {
		out := make(map[string]any, len(ex)+1)
		for k, v := range ex {
			out[k] = v
		}
		return out
	}
	unknown := clone()
	unknown["unknown_field"] = "x"
	out := []wrongBody{
		{"with an unknown field", unknown, false},
		{"as an array", []any{}, false},
		{"as a string", "x", false},
		{"as null", nil, true},
	}
	for k, v := range ex {
		var wrong any
		switch v := v.(type) {
		case string:
			wrong = json.Number("12345")
			if usdAmount.MatchString(v) {
				// A USD amount ("12.5") also takes a JSON number.
				wrong = true
			}
		case bool, json.Number:
			wrong = "true"
			if n, ok := v.(json.Number); ok && strings.HasSuffix(k, "_usd") && usdAmount.MatchString(string(n)) {
				// A USD amount also takes a string: "true" is a bad
				// amount (invalid_request, named), a bool the wrong type.
				wrong = true
			}
		case map[string]any, []any:
			wrong = true
		default:
			continue
		}
		b := clone()
		b[k] = wrong
		out = append(out, wrongBody{fmt.Sprintf("with %s of the wrong type", k), b, false})
	}
	return out
}

// TestOpenAPIRequestSchemas checks the request schemas against the rules
// the handlers enforce, body by body.
func TestOpenAPIRequestSchemas(t *testing.T) {
	tests := []struct {
		name  string
		op    string
		body  string
		valid bool
	}{
		{"TenantOK", "createTenant", `{"name":"acme.eu-1","byok_enabled":false}`, true},
		{"TenantErrNameRequired", "createTenant", `{"byok_enabled":true}`, false},
		{"TenantErrNameUpperCase", "createTenant", `{"name":"Acme"}`, false},
		{"TenantErrNameTooLong", "createTenant", `{"name":"` + strings.Repeat("a", 64) + `"}`, false},
		{"TenantErrNameReservedPrefix", "createTenant", `{"name":"tn_acme"}`, false},
		{"TenantErrNameReservedPlatform", "createTenant", `{"name":"platform"}`, false},
		{"TenantErrFieldCase", "createTenant", `{"Name":"acme"}`, false},
		{"TenantUpdateErrEmpty", "updateTenant", `{}`, false},
		{"TenantUpdateKeyAdminsOK", "updateTenant", `{"key_admins":"owner_only"}`, true},
		{"TenantUpdateBothOK", "updateTenant", `{"byok_enabled":true,"key_admins":"owner_and_admin"}`, true},
		{"TenantUpdateErrKeyAdmins", "updateTenant", `{"key_admins":"everyone"}`, false},
		{"KeyErrMissing", "putTenantKey", `{}`, false},
		{"KeyErrEmpty", "putTenantKey", `{"key":""}`, false},
		{"KeyErrNumber", "putPlatformKey", `{"key":12}`, false},
		{"GatewayTokenErrNameTooLong", "createGatewayToken", `{"name":"` + strings.Repeat("n", 101) + `"}`, false},
		{"PolicyOK", "putPolicy", `{"default":{"mode":"tenant_only","fallback_on_error":true},"providers":{"anthropic":{}}}`, true},
		{"PolicyErrMode", "putPolicy", `{"default":{"mode":"sometimes"}}`, false},
		{"PolicyErrRuleField", "putPolicy", `{"providers":{"openai":{"mode":"tenant_only","fallback":true}}}`, false},
		{"PolicyErrProvidersArray", "putPolicy", `{"providers":[]}`, false},
		{"BudgetOKStrings", "putBudget", `{"daily_usd":"12.5","monthly_usd":"0.000125","hard":true,"applies_to":"all","byok_billing":"meter"}`, true},
		{"BudgetOKNumbers", "putBudget", `{"daily_usd":12.5,"monthly_usd":500,"daily_tokens":0,"monthly_tokens":20000000}`, true},
		{"BudgetOKNulls", "putBudget", `{"daily_usd":null,"monthly_usd":null,"daily_tokens":null,"monthly_tokens":null}`, true},
		{"BudgetErrUSDNegative", "putBudget", `{"daily_usd":"-1"}`, false},
		{"BudgetErrUSDNegativeNumber", "putBudget", `{"daily_usd":-1}`, false},
		{"BudgetErrUSDTooPrecise", "putBudget", `{"daily_usd":"0.0000001"}`, false},
		{"BudgetErrUSDDollarSign", "putBudget", `{"monthly_usd":"$500"}`, false},
		{"BudgetErrUSDBool", "putBudget", `{"monthly_usd":true}`, false},
		{"BudgetErrTokensNegative", "putBudget", `{"daily_tokens":-1}`, false},
		{"BudgetErrTokensFraction", "putBudget", `{"daily_tokens":1.5}`, false},
		{"BudgetErrAppliesTo", "putBudget", `{"applies_to":"tenant"}`, false},
		{"BudgetErrBilling", "putBudget", `{"byok_billing":"free"}`, false},
		{"BudgetErrResponseField", "putBudget", `{"tenant":"tn_acme"}`, false},
		{"LimitsOK", "putRateLimits", `{"limits":[{"provider":"","rpm":600},{"provider":"openai","tpm":1000,"applies_to":"all"}]}`, true},
		{"LimitsOKEmpty", "putRateLimits", `{}`, true},
		{"LimitsErrNegative", "putRateLimits", `{"limits":[{"provider":"openai","rpm":-1}]}`, false},
		{"LimitsErrAppliesTo", "putRateLimits", `{"limits":[{"applies_to":"tenant"}]}`, false},
		{"LimitsErrField", "putRateLimits", `{"limits":[{"provider":"openai","rps":1}]}`, false},
		{"LimitsErrObject", "putRateLimits", `{"limits":{"openai":{"rpm":1}}}`, false},
		{"AdminTokenOwnerOK", "createAdminToken", `{"name":"alice","role":"owner","tenant":"tn_7Hq2mW9xK4pR"}`, true},
		{"AdminTokenPlatformEmptyTenantOK", "createAdminToken", `{"name":"ops","role":"platform_admin","tenant":""}`, true},
		{"AdminTokenErrPlatformWithTenant", "createAdminToken", `{"name":"ops","role":"platform_admin","tenant":"acme"}`, false},
		{"AdminTokenErrTenantRoleWithoutTenant", "createAdminToken", `{"name":"ci","role":"member"}`, false},
		{"AdminTokenErrTenantRoleEmptyTenant", "createAdminToken", `{"name":"ci","role":"member","tenant":""}`, false},
		{"AdminTokenErrRole", "createAdminToken", `{"name":"ci","role":"root","tenant":"acme"}`, false},
		{"AdminTokenErrBlankName", "createAdminToken", `{"name":"   ","role":"admin","tenant":"acme"}`, false},
		{"AdminTokenErrNameTooLong", "createAdminToken", `{"name":"` + strings.Repeat("n", 101) + `","role":"admin","tenant":"acme"}`, false},
	}
	doc := MustLoadOpenAPI(t)
	c := MustDocCompiler(t, doc)
	byID := map[string]oaOperation{}
	for _, op := range operations(t, doc) {
		byID[op.Op["operationId"].(string)] = op
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			op, ok := byID[tc.op]
			if !ok {
				t.Fatalf("no operation %s", tc.op)
			}
			_, ptr, ok := requestBody(t, doc, op)
			if !ok {
				t.Fatalf("%s has no request body", tc.op)
			}
			err := MustCompileAt(t, c, ptr).Validate(MustParseJSON(t, tc.body))
			if got := err == nil; got != tc.valid {
				t.Errorf("%s %s: valid = %v, want %v (err: %v)", tc.op, tc.body, got, tc.valid, err)
			}
		})
	}
}

// TestOpenAPIResponseExamples validates every response example against
// its response's schema.
func TestOpenAPIResponseExamples(t *testing.T) {
	doc := MustLoadOpenAPI(t)
	c := MustDocCompiler(t, doc)
	check := func(where, ptr string, resp map[string]any) {
		content, _ := resp["content"].(map[string]any)
		media, _ := content["application/json"].(map[string]any)
		if media == nil {
			return
		}
		schema := MustCompileAt(t, c, ptr+"/content/application~1json/schema")
		for name, ex := range mediaExamples(t, doc, media) {
			if err := schema.Validate(ex); err != nil {
				t.Errorf("%s: example %q does not validate:\n%v", where, name, err)
			}
		}
	}
	for _, op := range operations(t, doc) {
		responses, _ := op.Op["responses"].(map[string]any)
		for status, r := range responses {
			r := r.(map[string]any)
			if _, isRef := r["$ref"]; isRef {
				continue // checked once below, as a component
			}
			check(op.String()+" "+status, op.Ptr+"/responses/"+status, r)
		}
	}
	components, _ := doc["components"].(map[string]any)
	responses, _ := components["responses"].(map[string]any)
	for name, r := range responses {
		check("components.responses."+name, "/components/responses/"+name, r.(map[string]any))
	}
}

// oaStubAuth authenticates every request as a platform admin.
type oaStubAuth struct{}

func (oaStubAuth) Authenticate(context.Context, keygate.Secret) (auth.Principal, error) {
	return auth.Principal{TokenID: "at_test", Name: "test", Role: keygate.RolePlatformAdmin}, nil
}

// oaStubStore finds the tenant acme; any other call reaches the embedded
// nil Store and panics, which the test takes as "the body was accepted".
type oaStubStore struct{ Store }

func (oaStubStore) GetTenant(context.Context, string) (keygate.Tenant, error) {
	return keygate.Tenant{ID: "tn_acme", Name: "acme", BYOKEnabled: true}, nil
}

type oaStubProviders struct{}

func (oaStubProviders) Names() []string             { return []string{"openai", "anthropic"} }
func (oaStubProviders) MayEcho(string) bool         { return false }
func (oaStubProviders) RedactPath(p string) string  { return p }
func (oaStubProviders) RedactModel(s string) string { return s }

// oaStubVault and oaStubLifecycle panic on every call, like oaStubStore.
type oaStubVault struct{ Vault }

type oaStubLifecycle struct{ Lifecycle }

// oaStubAuditKeys and oaStubMasterKeys panic on every call, like oaStubStore.
type oaStubAuditKeys struct{ AuditKeys }

type oaStubMasterKeys struct{ keyvault.MasterKeys }

// oaStubPrices panics on every call, like oaStubStore.
type oaStubPrices struct{ Prices }

// Check answers at once: keys:test runs it in goroutines, where a panic
// could not be recovered.
func (oaStubLifecycle) Check(context.Context, string, keygate.Secret) (keyhealth.Result, error) {
	return keyhealth.Result{Status: keyhealth.Unverifiable}, nil
}

// TestOpenAPIExamplesAcceptedByServer sends every request example to the
// real handlers and checks that their strict decoder accepts it (the
// request gets past decoding and validation to storage), and that the
// bodies the schema refuses for their shape are refused with invalid_json:
// the schema and the server agree.
func TestOpenAPIExamplesAcceptedByServer(t *testing.T) {
	doc := MustLoadOpenAPI(t)
	a := New(Deps{Store: oaStubStore{}, Vault: oaStubVault{}, Lifecycle: oaStubLifecycle{}, Auth: oaStubAuth{}, Providers: oaStubProviders{},
		AuditKeys: oaStubAuditKeys{}, MasterKeys: oaStubMasterKeys{}, Prices: oaStubPrices{}})
	send := func(op oaOperation, body any) (status int, code string, reached bool) {
		path := strings.NewReplacer("{tenant}", "acme", "{provider}", "openai", "{id}", "x_1").Replace(op.Path)
		raw, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		func() {
			defer func() { reached = recover() != nil }()
			a.ServeHTTP(rec, httptest.NewRequest(op.Method, path, strings.NewReader(string(raw))))
		}()
		var e errorBody
		_ = json.Unmarshal(rec.Body.Bytes(), &e)
		return rec.Code, e.Error.Code, reached
	}
	for _, op := range operations(t, doc) {
		media, _, ok := requestBody(t, doc, op)
		if !ok {
			continue
		}
		for name, ex := range mediaExamples(t, doc, media) {
			if status, code, reached := send(op, ex); !reached && status >= 400 {
				t.Errorf("%s: example %q is refused by the server: %d %s", op, name, status, code)
			}
			obj, _ := ex.(map[string]any)
			for _, bad := range wrongBodies(obj) {
				if bad.serverAccepts {
					continue
				}
				status, code, reached := send(op, bad.body)
				if reached || code != keygate.CodeInvalidJSON {
					t.Errorf("%s: example %q %s: server answered %d %q (reached storage: %v), want 400 invalid_json",
						op, name, bad.what, status, code, reached)
				}
			}
		}
	}
	if !slices.ContainsFunc(operations(t, doc), func(o oaOperation) bool { _, ok := o.Op["requestBody"]; return ok }) {
		t.Fatal("no operation has a request body")
	}
}

// TestOpenAPIResponsesMatchServer drives the real handlers (SQLite store,
// key vault) through a session that touches every kind of answer, and
// checks each answer against the document: its status is documented for
// the operation, its body validates against that status's schema, and it
// has no field the schema does not name.
func TestOpenAPIResponsesMatchServer(t *testing.T) {
	doc := MustLoadOpenAPI(t)
	c := MustDocCompiler(t, doc)
	a, db := MustAPI(t)
	if a.d.Lifecycle == nil {
		// The key-lifecycle routes on the real vault, with a key checker
		// that calls no provider.
		svc, ok := a.d.Vault.(*keyvault.Service)
		if !ok {
			t.Fatalf("MustAPI's vault is a %T, not a *keyvault.Service", a.d.Vault)
		}
		a.d.Lifecycle = oaLifecycle{svc}
	}
	admin := MustToken(t, db, keygate.RolePlatformAdmin, "")
	// Usage in January 2026 for the usage reports: acme's own and
	// per-request keys (acme is in BYOK mode once it stores a key, so its
	// platform cost is "N/A"), globex on the platform's key.
	jan := func(day, hour int) time.Time { return time.Date(2026, time.January, day, hour, 0, 0, 0, time.UTC) }
	if err := db.InsertUsage(context.Background(), []keygate.UsageEvent{
		{RequestID: "req_u1", Time: jan(5, 10), Tenant: "tn_acme", Provider: "openai", Model: "gpt-4o", Route: "chat",
			Source: keygate.SourceTenant, InputTokens: 1200, OutputTokens: 300, CachedTokens: 200, Status: 200, CostMicros: 6000},
		{RequestID: "req_u2", Time: jan(6, 9), Tenant: "tn_acme", Provider: "anthropic", Model: "claude-sonnet-4-5", Route: "messages",
			Source: keygate.SourceRequest, InputTokens: 800, OutputTokens: 150, Status: 200, CostMicros: 4650},
		{RequestID: "req_u3", Time: jan(5, 11), Tenant: "tn_globex", Provider: "openai", Model: "gpt-4o-mini", Route: "chat",
			Source: keygate.SourcePlatform, InputTokens: 2000, OutputTokens: 500, Status: 200, CostMicros: 600, Billable: true},
	}); err != nil {
		t.Fatal(err)
	}
	const fakeOpenAI = `{"key":"sk-EXAMPLE0000000000000000000000000000000000"}`
	steps := []struct {
		name     string
		method   string
		template string // the documented path
		path     string // "" means template
		body     string
		noToken  bool
		want     int // 0: any status the document lists
	}{
		{"WhoAmI", "GET", "/api/v1/whoami", "", "", false, 200},
		{"ErrUnauthorized", "GET", "/api/v1/whoami", "", "", true, 401},
		{"TenantCreate", "POST", "/api/v1/tenants", "", `{"name":"initech","byok_enabled":true}`, false, 201},
		{"ErrTenantCreateConflict", "POST", "/api/v1/tenants", "", `{"name":"initech"}`, false, 409},
		{"ErrTenantCreateUnknownField", "POST", "/api/v1/tenants", "", `{"name":"x","nmae":"y"}`, false, 400},
		{"TenantList", "GET", "/api/v1/tenants", "", "", false, 200},
		{"TenantGet", "GET", "/api/v1/tenants/{tenant}", "/api/v1/tenants/acme", "", false, 200},
		{"ErrTenantGetMissing", "GET", "/api/v1/tenants/{tenant}", "/api/v1/tenants/nope", "", false, 404},
		{"TenantUpdate", "PATCH", "/api/v1/tenants/{tenant}", "/api/v1/tenants/initech", `{"byok_enabled":false}`, false, 200},
		{"KeyPut", "PUT", "/api/v1/tenants/{tenant}/keys/{provider}", "/api/v1/tenants/acme/keys/openai", fakeOpenAI, false, 201},
		{"KeyRotate", "PUT", "/api/v1/tenants/{tenant}/keys/{provider}", "/api/v1/tenants/acme/keys/openai", `{"key":"sk-EXAMPLE1111111111111111111111111111111111"}`, false, 200},
		{"ErrKeyPutFormat", "PUT", "/api/v1/tenants/{tenant}/keys/{provider}", "/api/v1/tenants/acme/keys/openai", `{"key":"EXAMPLE-not-a-key"}`, false, 422},
		{"ErrKeyPutProvider", "PUT", "/api/v1/tenants/{tenant}/keys/{provider}", "/api/v1/tenants/acme/keys/nope", fakeOpenAI, false, 400},
		{"ErrKeyPutTestParam", "PUT", "/api/v1/tenants/{tenant}/keys/{provider}", "/api/v1/tenants/acme/keys/openai?test=maybe", fakeOpenAI, false, 400},
		{"KeyGet", "GET", "/api/v1/tenants/{tenant}/keys/{provider}", "/api/v1/tenants/acme/keys/openai", "", false, 200},
		{"ErrKeyGetMissing", "GET", "/api/v1/tenants/{tenant}/keys/{provider}", "/api/v1/tenants/acme/keys/anthropic", "", false, 404},
		{"KeyList", "GET", "/api/v1/tenants/{tenant}/keys", "/api/v1/tenants/acme/keys", "", false, 200},
		{"KeyPutTested", "PUT", "/api/v1/tenants/{tenant}/keys/{provider}", "/api/v1/tenants/acme/keys/openai?test=true", `{"key":"sk-EXAMPLE2222222222222222222222222222222222"}`, false, 200},
		{"KeysTest", "POST", "/api/v1/tenants/{tenant}/keys:test", "/api/v1/tenants/acme/keys:test", `{"keys":{"openai":"sk-EXAMPLE0000000000000000000000000000000000","anthropic":"EXAMPLE-bad-format"}}`, false, 200},
		{"ErrKeysTestEmpty", "POST", "/api/v1/tenants/{tenant}/keys:test", "/api/v1/tenants/acme/keys:test", `{"keys":{}}`, false, 400},
		{"KeyVersions", "GET", "/api/v1/tenants/{tenant}/keys/{provider}/versions", "/api/v1/tenants/acme/keys/openai/versions", "", false, 200},
		{"KeyRollback", "POST", "/api/v1/tenants/{tenant}/keys/{provider}:rollback", "/api/v1/tenants/acme/keys/openai:rollback", "", false, 200},
		{"ErrKeyRollbackMissing", "POST", "/api/v1/tenants/{tenant}/keys/{provider}:rollback", "/api/v1/tenants/acme/keys/anthropic:rollback", "", false, 404},
		{"TenantHealth", "GET", "/api/v1/tenants/{tenant}/health", "/api/v1/tenants/acme/health", "", false, 200},
		{"PlatformKeyPut", "PUT", "/api/v1/platform/keys/{provider}", "/api/v1/platform/keys/anthropic", `{"key":"sk-ant-EXAMPLE000000000000000000000000000000000000"}`, false, 201},
		{"PlatformKeyGet", "GET", "/api/v1/platform/keys/{provider}", "/api/v1/platform/keys/anthropic", "", false, 200},
		{"PlatformKeyList", "GET", "/api/v1/platform/keys", "", "", false, 200},
		{"PlatformKeyVersions", "GET", "/api/v1/platform/keys/{provider}/versions", "/api/v1/platform/keys/anthropic/versions", "", false, 200},
		{"ErrPlatformKeyRollbackConflict", "POST", "/api/v1/platform/keys/{provider}:rollback", "/api/v1/platform/keys/anthropic:rollback", "", false, 409},
		{"PlatformKeysTest", "POST", "/api/v1/platform/keys:test", "", `{"keys":{"openai":"sk-EXAMPLE0000000000000000000000000000000000"}}`, false, 200},
		{"PlatformHealth", "GET", "/api/v1/platform/health", "", "", false, 200},
		{"HealthAll", "GET", "/api/v1/health", "", "", false, 200},
		{"GatewayTokenCreate", "POST", "/api/v1/tenants/{tenant}/tokens", "/api/v1/tenants/acme/tokens", `{"name":"app"}`, false, 201},
		{"GatewayTokenList", "GET", "/api/v1/tenants/{tenant}/tokens", "/api/v1/tenants/acme/tokens", "", false, 200},
		{"ErrGatewayTokenRevokeMissing", "DELETE", "/api/v1/tenants/{tenant}/tokens/{id}", "/api/v1/tenants/acme/tokens/gt_missing", "", false, 404},
		{"PolicyGetDefault", "GET", "/api/v1/tenants/{tenant}/policy", "/api/v1/tenants/acme/policy", "", false, 200},
		{"PolicyPut", "PUT", "/api/v1/tenants/{tenant}/policy", "/api/v1/tenants/acme/policy", `{"providers":{"openai":{"mode":"tenant_only"}}}`, false, 200},
		{"ErrPolicyPutProvider", "PUT", "/api/v1/tenants/{tenant}/policy", "/api/v1/tenants/acme/policy", `{"providers":{"nope":{}}}`, false, 400},
		{"BudgetGetDefault", "GET", "/api/v1/tenants/{tenant}/budget", "/api/v1/tenants/acme/budget", "", false, 200},
		{"BudgetPut", "PUT", "/api/v1/tenants/{tenant}/budget", "/api/v1/tenants/acme/budget", `{"daily_usd":"12.5","monthly_usd":500,"monthly_tokens":1000000,"hard":true}`, false, 200},
		{"ErrBudgetPutAmount", "PUT", "/api/v1/tenants/{tenant}/budget", "/api/v1/tenants/acme/budget", `{"daily_usd":"1.0000001"}`, false, 400},
		{"ErrBudgetPutAppliesTo", "PUT", "/api/v1/tenants/{tenant}/budget", "/api/v1/tenants/acme/budget", `{"applies_to":"tenant"}`, false, 400},
		{"ErrBudgetPutTokens", "PUT", "/api/v1/tenants/{tenant}/budget", "/api/v1/tenants/acme/budget", `{"daily_tokens":-1}`, false, 400},
		{"BudgetGet", "GET", "/api/v1/tenants/{tenant}/budget", "/api/v1/tenants/acme/budget", "", false, 200},
		{"ErrBudgetGetMissing", "GET", "/api/v1/tenants/{tenant}/budget", "/api/v1/tenants/nope/budget", "", false, 404},
		{"LimitsGetEmpty", "GET", "/api/v1/tenants/{tenant}/limits", "/api/v1/tenants/acme/limits", "", false, 200},
		{"LimitsPut", "PUT", "/api/v1/tenants/{tenant}/limits", "/api/v1/tenants/acme/limits", `{"limits":[{"provider":"","rpm":600},{"provider":"openai","rpm":120,"tpm":200000,"applies_to":"all"}]}`, false, 200},
		{"ErrLimitsPutProvider", "PUT", "/api/v1/tenants/{tenant}/limits", "/api/v1/tenants/acme/limits", `{"limits":[{"provider":"nope","rpm":1}]}`, false, 400},
		{"ErrLimitsPutTwice", "PUT", "/api/v1/tenants/{tenant}/limits", "/api/v1/tenants/acme/limits", `{"limits":[{"provider":"openai"},{"provider":"openai"}]}`, false, 400},
		{"LimitsGet", "GET", "/api/v1/tenants/{tenant}/limits", "/api/v1/tenants/acme/limits", "", false, 200},
		{"UsageTenantTotals", "GET", "/api/v1/tenants/{tenant}/usage", "/api/v1/tenants/acme/usage", "", false, 200},
		{"UsageTenantBYOK", "GET", "/api/v1/tenants/{tenant}/usage", "/api/v1/tenants/acme/usage?from=2026-01-01&to=2026-02-01&group_by=provider,model,key_source,day", "", false, 200},
		{"UsageTenantPlatform", "GET", "/api/v1/tenants/{tenant}/usage", "/api/v1/tenants/globex/usage?from=2026-01-01&to=2026-02-01&group_by=model", "", false, 200},
		{"ErrUsageTenantGroupByTenant", "GET", "/api/v1/tenants/{tenant}/usage", "/api/v1/tenants/acme/usage?group_by=tenant", "", false, 400},
		{"ErrUsageTenantMissing", "GET", "/api/v1/tenants/{tenant}/usage", "/api/v1/tenants/nope/usage", "", false, 404},
		{"UsageAll", "GET", "/api/v1/usage", "/api/v1/usage?from=2026-01-01T00:00:00Z&to=2026-02-01&group_by=tenant,key_source", "", false, 200},
		{"ErrUsageAllRange", "GET", "/api/v1/usage", "/api/v1/usage?from=2026-02-01&to=2026-01-01", "", false, 400},
		{"AdminTokenCreate", "POST", "/api/v1/admin-tokens", "", `{"name":"ci","role":"admin","tenant":"acme"}`, false, 201},
		{"AdminTokenList", "GET", "/api/v1/admin-tokens", "/api/v1/admin-tokens?tenant=acme", "", false, 200},
		{"ErrAdminTokenRevokeMissing", "DELETE", "/api/v1/admin-tokens/{id}", "/api/v1/admin-tokens/at_missing", "", false, 404},
		{"AuditTenant", "GET", "/api/v1/tenants/{tenant}/audit", "/api/v1/tenants/acme/audit?limit=2", "", false, 200},
		{"AuditAll", "GET", "/api/v1/audit", "/api/v1/audit?tenant=platform", "", false, 200},
		{"ErrAuditLimit", "GET", "/api/v1/audit", "/api/v1/audit?limit=0", "", false, 400},
		{"AuditVerify", "GET", "/api/v1/audit/verify", "", "", false, 200},
		{"MasterKeyGet", "GET", "/api/v1/master-key", "", "", false, 200},
		{"ErrMasterKeyRotateUnsupported", "POST", "/api/v1/master-key/rotate", "", "", false, 501},
		{"KeyDelete", "DELETE", "/api/v1/tenants/{tenant}/keys/{provider}", "/api/v1/tenants/acme/keys/openai", "", false, 204},
		{"PlatformKeyDelete", "DELETE", "/api/v1/platform/keys/{provider}", "/api/v1/platform/keys/anthropic", "", false, 204},
		{"TenantDelete", "DELETE", "/api/v1/tenants/{tenant}", "/api/v1/tenants/initech", "", false, 204},
	}
	ops := map[string]oaOperation{}
	for _, op := range operations(t, doc) {
		ops[op.String()] = op
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			op, ok := ops[st.method+" "+st.template]
			if !ok {
				t.Fatalf("%s %s is not documented", st.method, st.template)
			}
			path := st.path
			if path == "" {
				path = st.template
			}
			var body *strings.Reader
			if st.body != "" {
				body = strings.NewReader(st.body)
			} else {
				body = strings.NewReader("")
			}
			r := httptest.NewRequest(st.method, path, body)
			if !st.noToken {
				r.Header.Set("Authorization", "Bearer "+admin)
			}
			rec := httptest.NewRecorder()
			a.ServeHTTP(rec, r)
			if st.want != 0 && rec.Code != st.want {
				t.Fatalf("%s %s: status %d, want %d; body: %s", st.method, path, rec.Code, st.want, rec.Body)
			}
			status := strconv.Itoa(rec.Code)
			responses, _ := op.Op["responses"].(map[string]any)
			resp, ok := responses[status].(map[string]any)
			if !ok {
				t.Fatalf("%s answered %s, which the document does not list for it; body: %s", op, status, rec.Body)
			}
			ptr := op.Ptr + "/responses/" + status
			if ref, ok := resp["$ref"].(string); ok {
				ptr = strings.TrimPrefix(ref, "#")
				resp = deref(t, doc, resp)
			}
			content, _ := resp["content"].(map[string]any)
			media, _ := content["application/json"].(map[string]any)
			if media == nil {
				if rec.Body.Len() != 0 {
					t.Errorf("%s %s: the document lists no body, the server sent %s", op, status, rec.Body)
				}
				return
			}
			got := MustParseJSON(t, rec.Body.String())
			if err := MustCompileAt(t, c, ptr+"/content/application~1json/schema").Validate(got); err != nil {
				t.Errorf("%s %s: the answer does not match the document:\n%v\nbody: %s", op, status, err, rec.Body)
			}
			for _, f := range undocumentedFields(t, doc, []any{media["schema"]}, got, "") {
				t.Errorf("%s %s: the answer has field %s, which the document does not describe", op, status, f)
			}
		})
	}
}

// oaLifecycle is the key vault's lifecycle with a checker that finds every
// well-formed key valid without calling a provider.
type oaLifecycle struct{ *keyvault.Service }

func (oaLifecycle) Check(context.Context, string, keygate.Secret) (keyhealth.Result, error) {
	return keyhealth.Result{Status: keyhealth.Valid, Models: []string{"gpt-4o"}, ModelCount: 1}, nil
}

// undocumentedFields returns the paths of object members in v that the
// schemas (all of which apply, following $ref and allOf) do not name. A
// schema without properties is free-form and names everything.
func undocumentedFields(tb testing.TB, doc map[string]any, schemas []any, v any, at string) []string {
	tb.Helper()
	props := map[string][]any{}
	var additional []any
	free, anyAdditional := true, false
	var collect func(s any)
	collect = func(s any) {
		m := deref(tb, doc, s)
		for k, p := range asMap(m["properties"]) {
			props[k] = append(props[k], p)
			free = false
		}
		switch ap := m["additionalProperties"].(type) {
		case nil:
		case bool:
			anyAdditional = anyAdditional || ap
		default:
			additional = append(additional, ap)
			free = false
		}
		for _, sub := range asSlice(m["allOf"]) {
			collect(sub)
		}
		if items, ok := m["items"]; ok {
			props["[]"] = append(props["[]"], items)
		}
	}
	for _, s := range schemas {
		collect(s)
	}
	var out []string
	switch v := v.(type) {
	case map[string]any:
		if free || anyAdditional {
			return nil
		}
		for k, e := range v {
			switch {
			case len(props[k]) > 0:
				out = append(out, undocumentedFields(tb, doc, props[k], e, at+"."+k)...)
			case len(additional) > 0:
				out = append(out, undocumentedFields(tb, doc, additional, e, at+"."+k)...)
			default:
				out = append(out, at+"."+k)
			}
		}
	case []any:
		for i, e := range v {
			out = append(out, undocumentedFields(tb, doc, props["[]"], e, at+"["+strconv.Itoa(i)+"]")...)
		}
	}
	return out
}

func asSlice(v any) []any {
	l, _ := v.([]any)
	return l
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

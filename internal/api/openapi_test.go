// SPDX-License-Identifier: Apache-2.0

package api

import (
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/keygate/keygate"
)

// openapiURL is the base URL the tests give the document so that its
// internal $refs ("#/components/schemas/...") resolve.
const openapiURL = "https://keygate.invalid/openapi.json"

// openapiRoute is the route New registers outside the route table: the
// document itself, served without authentication.
const openapiRoute = "GET /api/v1/openapi.json"

var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// oaOperation is one operation of the document.
type oaOperation struct {
	Method string // upper case, as in routes.go
	Path   string // the documented path template
	Ptr    string // JSON pointer to the operation object
	Op     map[string]any
}

func (o oaOperation) String() string { return o.Method + " " + o.Path }

// MustLoadOpenAPI parses the embedded document the way the validator wants
// it (numbers as json.Number).
func MustLoadOpenAPI(tb testing.TB) map[string]any {
	tb.Helper()
	v, err := jsonschema.UnmarshalJSON(strings.NewReader(openapiDoc))
	if err != nil {
		tb.Fatalf("openapi.json does not parse: %v", err)
	}
	doc, ok := v.(map[string]any)
	if !ok {
		tb.Fatalf("openapi.json is a %T, not an object", v)
	}
	return doc
}

// MustParseJSON parses one JSON value for validation.
func MustParseJSON(tb testing.TB, s string) any {
	tb.Helper()
	v, err := jsonschema.UnmarshalJSON(strings.NewReader(s))
	if err != nil {
		tb.Fatalf("parse %s: %v", s, err)
	}
	return v
}

// MustDocCompiler returns a compiler that holds the document, to compile
// schemas at JSON pointers inside it.
func MustDocCompiler(tb testing.TB, doc map[string]any) *jsonschema.Compiler {
	tb.Helper()
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource(openapiURL, doc); err != nil {
		tb.Fatal(err)
	}
	return c
}

// MustCompileAt compiles the schema at ptr in the document.
func MustCompileAt(tb testing.TB, c *jsonschema.Compiler, ptr string) *jsonschema.Schema {
	tb.Helper()
	s, err := c.Compile(openapiURL + "#" + ptr)
	if err != nil {
		tb.Fatalf("compile the schema at %s: %v", ptr, err)
	}
	return s
}

// escapePtr escapes one JSON pointer token.
func escapePtr(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// resolvePtr returns the value at a local JSON pointer ("#/a/b").
func resolvePtr(doc any, ref string) (any, bool) {
	rest, ok := strings.CutPrefix(ref, "#")
	if !ok {
		return nil, false
	}
	cur := doc
	if rest == "" {
		return cur, true
	}
	for _, tok := range strings.Split(strings.TrimPrefix(rest, "/"), "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch v := cur.(type) {
		case map[string]any:
			if cur, ok = v[tok]; !ok {
				return nil, false
			}
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(v) {
				return nil, false
			}
			cur = v[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

// deref follows a Reference Object to what it names.
func deref(tb testing.TB, doc map[string]any, v any) map[string]any {
	tb.Helper()
	m, _ := v.(map[string]any)
	if ref, ok := m["$ref"].(string); ok {
		target, ok := resolvePtr(doc, ref)
		if !ok {
			tb.Fatalf("$ref %s does not resolve", ref)
		}
		m, _ = target.(map[string]any)
	}
	return m
}

// operations lists the document's operations, sorted by path and method.
func operations(tb testing.TB, doc map[string]any) []oaOperation {
	tb.Helper()
	paths, _ := doc["paths"].(map[string]any)
	var out []oaOperation
	for path, item := range paths {
		item, _ := item.(map[string]any)
		for _, m := range httpMethods {
			op, ok := item[m].(map[string]any)
			if !ok {
				continue
			}
			out = append(out, oaOperation{Method: strings.ToUpper(m), Path: path, Ptr: "/paths/" + escapePtr(path) + "/" + m, Op: op})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

// routePattern turns a documented path into the ServeMux pattern that
// serves it. ServeMux wildcards span whole segments, so an action written
// after a wildcard (".../keys/{provider}:rollback") is served by the bare
// wildcard route and its handler reads the suffix.
var actionAfterWildcard = regexp.MustCompile(`\}:[a-z_]+$`)

func routePattern(path string) string {
	return actionAfterWildcard.ReplaceAllString(path, "}")
}

// muxParams returns the wildcard names of a ServeMux pattern or path
// template ("{name}", "{name...}"; "{$}" is not a parameter).
func muxParams(pattern string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`\{([^}]*)\}`).FindAllStringSubmatch(pattern, -1) {
		name := strings.TrimSuffix(m[1], "...")
		if name != "$" {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// TestOpenAPIIsValid31 validates the document against the structure of
// OpenAPI 3.1 (testdata/openapi-3.1.schema.json), with every Schema Object
// checked against the JSON Schema 2020-12 meta-schema.
func TestOpenAPIIsValid31(t *testing.T) {
	doc := MustLoadOpenAPI(t)
	meta := MustCompileMetaSchema(t)
	if err := meta.Validate(any(doc)); err != nil {
		t.Fatalf("openapi.json is not a valid OpenAPI 3.1 document:\n%v", err)
	}
	if got := doc["openapi"]; got != "3.1.0" {
		t.Errorf("openapi = %v, want 3.1.0", got)
	}
}

// MustCompileMetaSchema compiles testdata/openapi-3.1.schema.json.
func MustCompileMetaSchema(tb testing.TB) *jsonschema.Schema {
	tb.Helper()
	f, err := os.Open(filepath.Join("testdata", "openapi-3.1.schema.json"))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	v, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		tb.Fatalf("testdata/openapi-3.1.schema.json: %v", err)
	}
	c := jsonschema.NewCompiler()
	const url = "https://keygate.invalid/testdata/openapi-3.1.schema.json"
	if err := c.AddResource(url, v); err != nil {
		tb.Fatal(err)
	}
	s, err := c.Compile(url)
	if err != nil {
		tb.Fatalf("compile the OpenAPI 3.1 meta-schema: %v", err)
	}
	return s
}

// TestOpenAPIMetaSchemaRejects shows that the meta-schema has teeth: small
// documents with one mistake each must fail it.
func TestOpenAPIMetaSchemaRejects(t *testing.T) {
	const ok = `{"openapi":"3.1.0","info":{"title":"t","version":"1"},"paths":{"/a/{id}":{"get":{
		"parameters":[{"name":"id","in":"path","required":true,"schema":{"type":"string"}}],
		"responses":{"200":{"description":"ok","content":{"application/json":{"schema":{"type":"object"},"example":{}}}}}}}}}`
	tests := []struct {
		name  string
		doc   string
		valid bool
	}{
		{"OK", ok, true},
		{"ErrVersion30", strings.Replace(ok, `"3.1.0"`, `"3.0.3"`, 1), false},
		{"ErrNoInfoVersion", strings.Replace(ok, `,"version":"1"`, ``, 1), false},
		{"ErrUnknownOperationField", strings.Replace(ok, `"get":{`, `"get":{"summmary":"typo",`, 1), false},
		{"ErrPathParamNotRequired", strings.Replace(ok, `"required":true`, `"required":false`, 1), false},
		{"ErrStatusKey", strings.Replace(ok, `"200"`, `"OK"`, 1), false},
		{"ErrResponseWithoutDescription", strings.Replace(ok, `"description":"ok",`, ``, 1), false},
		{"ErrExampleAndExamples", strings.Replace(ok, `"example":{}`, `"example":{},"examples":{"a":{"value":{}}}`, 1), false},
		{"ErrSchemaNotJSONSchema", strings.Replace(ok, `{"type":"object"}`, `{"type":"objekt"}`, 1), false},
		{"ErrReferenceSibling", strings.Replace(ok, `{"name":"id",`, `{"$ref":"#/components/parameters/id","name":"id",`, 1), false},
		{"ExtensionAllowed", strings.Replace(ok, `"get":{`, `"get":{"x-keygate-right":"key.read",`, 1), true},
	}
	meta := MustCompileMetaSchema(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := meta.Validate(MustParseJSON(t, tc.doc))
			if got := err == nil; got != tc.valid {
				t.Errorf("valid = %v, want %v (err: %v)", got, tc.valid, err)
			}
		})
	}
}

// TestOpenAPICoversRoutes checks that every route of the route table is
// documented with its method, path and right, and that the document
// describes no route the server does not serve.
func TestOpenAPICoversRoutes(t *testing.T) {
	doc := MustLoadOpenAPI(t)
	served := map[string]route{}
	for _, rt := range (&API{}).routes() {
		served[rt.Method+" "+rt.Pattern] = rt
	}
	documented := map[string][]oaOperation{}
	for _, op := range operations(t, doc) {
		key := op.Method + " " + routePattern(op.Path)
		documented[key] = append(documented[key], op)
	}
	for key := range served {
		if len(documented[key]) == 0 {
			t.Errorf("route %s (routes.go) is not documented in openapi.json", key)
		}
	}
	if len(documented[openapiRoute]) == 0 {
		t.Errorf("route %s (New) is not documented in openapi.json", openapiRoute)
	}
	for key, ops := range documented {
		rt, ok := served[key]
		if !ok && key != openapiRoute {
			for _, op := range ops {
				t.Errorf("openapi.json documents %s, which routes.go does not serve", op)
			}
			continue
		}
		for _, op := range ops {
			got, _ := op.Op["x-keygate-right"].(string)
			if got != string(rt.Right) {
				t.Errorf("%s: x-keygate-right = %q, routes.go says %q", op, got, rt.Right)
			}
		}
	}
}

// TestOpenAPIOperations checks what every operation must say: a unique
// operationId, a summary and a description, its path parameters, a success
// answer and the error answers every route can give.
func TestOpenAPIOperations(t *testing.T) {
	doc := MustLoadOpenAPI(t)
	ids := map[string]string{}
	for _, op := range operations(t, doc) {
		id, _ := op.Op["operationId"].(string)
		if id == "" {
			t.Errorf("%s has no operationId", op)
		} else if prev, dup := ids[id]; dup {
			t.Errorf("%s and %s share the operationId %s", prev, op, id)
		}
		ids[id] = op.String()
		for _, field := range []string{"summary", "description"} {
			if s, _ := op.Op[field].(string); strings.TrimSpace(s) == "" {
				t.Errorf("%s has no %s", op, field)
			}
		}

		var pathParams []string
		params, _ := op.Op["parameters"].([]any)
		for _, p := range params {
			p := deref(t, doc, p)
			if p["in"] == "path" {
				pathParams = append(pathParams, p["name"].(string))
			}
		}
		sort.Strings(pathParams)
		if diff := cmp.Diff(muxParams(op.Path), pathParams); diff != "" {
			t.Errorf("%s: path parameters differ from the path template (-path +parameters):\n%s", op, diff)
		}

		responses, _ := op.Op["responses"].(map[string]any)
		success := false
		for status := range responses {
			success = success || strings.HasPrefix(status, "2")
		}
		if !success {
			t.Errorf("%s documents no 2xx answer", op)
		}
		var wantErrors []string
		if op.String() != openapiRoute {
			wantErrors = append(wantErrors, "401", "500")
		}
		if _, ok := op.Op["requestBody"]; ok {
			wantErrors = append(wantErrors, "400", "413")
		}
		for _, status := range wantErrors {
			if _, ok := responses[status]; !ok {
				t.Errorf("%s does not document its %s answer", op, status)
			}
		}

		// Only the document itself is public; everything else inherits
		// the admin-token requirement.
		sec, hasSec := op.Op["security"]
		switch {
		case op.String() == openapiRoute && (!hasSec || len(sec.([]any)) != 0):
			t.Errorf("%s must declare security: [] (no authentication)", op)
		case op.String() != openapiRoute && hasSec:
			t.Errorf("%s overrides the document's security requirement", op)
		}
	}
}

// TestOpenAPIRefsResolve checks that every local $ref names something.
func TestOpenAPIRefsResolve(t *testing.T) {
	doc := MustLoadOpenAPI(t)
	var walk func(ptr string, v any)
	walk = func(ptr string, v any) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok {
				if _, ok := resolvePtr(doc, ref); !ok {
					t.Errorf("%s: $ref %s does not resolve", ptr, ref)
				}
			}
			for k, e := range v {
				walk(ptr+"/"+escapePtr(k), e)
			}
		case []any:
			for i, e := range v {
				walk(ptr+"/"+strconv.Itoa(i), e)
			}
		}
	}
	walk("", doc)
}

// rootErrorCodes returns the values of the Code* constants of the root
// package, read from its source so that a code added there must be
// documented.
func rootErrorCodes(tb testing.TB) []string {
	tb.Helper()
	fset := token.NewFileSet()
	files, err := filepath.Glob(filepath.Join("..", "..", "*.go"))
	if err != nil {
		tb.Fatal(err)
	}
	var codes []string
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			tb.Fatal(err)
		}
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, n := range vs.Names {
					if !strings.HasPrefix(n.Name, "Code") || i >= len(vs.Values) {
						continue
					}
					if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
						v, _ := strconv.Unquote(lit.Value)
						codes = append(codes, v)
					}
				}
			}
		}
	}
	sort.Strings(codes)
	return codes
}

// TestOpenAPIErrorCodes checks that the ErrorCode enum lists every code of
// the root package, and that each error response lists only codes whose
// status (keygate.HTTPStatus) is the status it is documented under.
func TestOpenAPIErrorCodes(t *testing.T) {
	doc := MustLoadOpenAPI(t)
	codes := rootErrorCodes(t)
	if len(codes) < 10 {
		t.Fatalf("found only %d error codes in the root package: %v", len(codes), codes)
	}
	enum, _ := resolvePtr(doc, "#/components/schemas/ErrorCode/enum")
	var documented []string
	for _, c := range enum.([]any) {
		documented = append(documented, c.(string))
	}
	sort.Strings(documented)
	if diff := cmp.Diff(codes, documented); diff != "" {
		t.Errorf("components.schemas.ErrorCode differs from the root package's codes (-root +openapi.json):\n%s", diff)
	}

	for _, op := range operations(t, doc) {
		responses, _ := op.Op["responses"].(map[string]any)
		for status, r := range responses {
			want, err := strconv.Atoi(status)
			if err != nil || want < 400 {
				continue
			}
			resp := deref(t, doc, r)
			content, _ := resp["content"].(map[string]any)
			media, _ := content["application/json"].(map[string]any)
			if media == nil {
				t.Errorf("%s %s: an error answer must have the JSON error envelope", op, status)
				continue
			}
			for _, code := range narrowedCodes(t, doc, media["schema"]) {
				if got := keygate.HTTPStatus(code); got != want {
					t.Errorf("%s documents %s under %d, but keygate.HTTPStatus(%q) = %d", op, code, want, code, got)
				}
			}
		}
	}
}

// narrowedCodes returns the error codes an error response's schema allows:
// {"allOf": [{"$ref": Error}, {... "code": {"enum": [...]}}]}.
func narrowedCodes(tb testing.TB, doc map[string]any, schema any) []string {
	tb.Helper()
	s, _ := schema.(map[string]any)
	all, _ := s["allOf"].([]any)
	if len(all) != 2 || deref(tb, doc, all[0])["required"] == nil {
		tb.Fatalf("an error response schema must be allOf [Error, a narrowing of error.code]; got %v", schema)
	}
	enum, ok := resolvePtr(all[1], "#/properties/error/properties/code/enum")
	if !ok {
		tb.Fatalf("an error response schema does not narrow error.code: %v", all[1])
	}
	var out []string
	for _, c := range enum.([]any) {
		out = append(out, c.(string))
	}
	return out
}

// schemaKeywords are the JSON Schema 2020-12 keywords (plus the OpenAPI
// base vocabulary's) that the document may use. The 2020-12 meta-schema
// allows unknown keywords, so a typo such as "additionalproperties" would
// otherwise pass silently.
var schemaKeywords = map[string]bool{
	"$schema": true, "$id": true, "$ref": true, "$defs": true, "$comment": true, "$anchor": true, "$dynamicRef": true, "$dynamicAnchor": true,
	"type": true, "enum": true, "const": true, "format": true, "title": true, "description": true, "default": true, "examples": true,
	"deprecated": true, "readOnly": true, "writeOnly": true,
	"properties": true, "additionalProperties": true, "patternProperties": true, "propertyNames": true, "unevaluatedProperties": true,
	"required": true, "minProperties": true, "maxProperties": true, "dependentRequired": true, "dependentSchemas": true,
	"items": true, "prefixItems": true, "contains": true, "minItems": true, "maxItems": true, "uniqueItems": true, "unevaluatedItems": true,
	"minLength": true, "maxLength": true, "pattern": true, "minimum": true, "maximum": true, "exclusiveMinimum": true, "exclusiveMaximum": true, "multipleOf": true,
	"allOf": true, "anyOf": true, "oneOf": true, "not": true, "if": true, "then": true, "else": true,
	"discriminator": true, "xml": true, "externalDocs": true, "example": true,
}

// TestOpenAPISchemaKeywords walks every Schema Object of the document and
// refuses unknown keywords.
func TestOpenAPISchemaKeywords(t *testing.T) {
	doc := MustLoadOpenAPI(t)
	var walkSchema func(ptr string, v any)
	walkSchema = func(ptr string, v any) {
		s, ok := v.(map[string]any)
		if !ok {
			return // true / false schemas
		}
		for k, sub := range s {
			p := ptr + "/" + escapePtr(k)
			if !schemaKeywords[k] {
				t.Errorf("%s: %q is not a JSON Schema keyword", ptr, k)
				continue
			}
			switch k {
			case "properties", "patternProperties", "$defs", "dependentSchemas":
				m, _ := sub.(map[string]any)
				for name, e := range m {
					walkSchema(p+"/"+escapePtr(name), e)
				}
			case "allOf", "anyOf", "oneOf", "prefixItems":
				l, _ := sub.([]any)
				for i, e := range l {
					walkSchema(p+"/"+strconv.Itoa(i), e)
				}
			case "additionalProperties", "propertyNames", "unevaluatedProperties", "items", "contains", "unevaluatedItems", "not", "if", "then", "else":
				walkSchema(p, sub)
			}
		}
	}
	// Schema Objects sit under components.schemas and under "schema" in
	// parameters, headers and media types.
	var find func(ptr string, v any)
	find = func(ptr string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				p := ptr + "/" + escapePtr(k)
				switch {
				case k == "schema":
					walkSchema(p, e)
				case ptr == "/components/schemas":
					walkSchema(p, e)
				default:
					find(p, e)
				}
			}
		case []any:
			for i, e := range v {
				find(ptr+"/"+strconv.Itoa(i), e)
			}
		}
	}
	find("", doc)
}

// TestOpenAPINoRealKeys checks that no example looks like a real provider
// key: provider keys in examples are obviously fake ("...EXAMPLE...").
func TestOpenAPINoRealKeys(t *testing.T) {
	realShapes := []*regexp.Regexp{
		regexp.MustCompile(`sk-proj-[A-Za-z0-9_-]{20}`),
		regexp.MustCompile(`sk-ant-api`),
		regexp.MustCompile(`sk-[A-Za-z0-9]{48}`),
		regexp.MustCompile(`AIza[0-9A-Za-z_-]{35}`),
		regexp.MustCompile(`gsk_[A-Za-z0-9]{52}`),
		regexp.MustCompile(`sk-or-v1-[0-9a-f]{64}`),
	}
	for _, re := range realShapes {
		if m := re.FindString(openapiDoc); m != "" {
			t.Errorf("openapi.json contains %q, which has the shape of a real key (%s); use an obviously fake one (sk-EXAMPLE...)", m, re)
		}
	}
	doc := MustLoadOpenAPI(t)
	for _, op := range operations(t, doc) {
		media, _, ok := requestBody(t, doc, op)
		if !ok {
			continue
		}
		for name, ex := range mediaExamples(t, doc, media) {
			for _, key := range keyLikeStrings(ex) {
				if !strings.Contains(key, "EXAMPLE") {
					t.Errorf("%s: example %q holds %q; provider keys in examples must contain EXAMPLE", op, name, key)
				}
			}
		}
	}
}

// keyLikeStrings returns the strings in v that start like a provider key.
func keyLikeStrings(v any) []string {
	var out []string
	switch v := v.(type) {
	case string:
		for _, prefix := range []string{"sk-", "AIza", "gsk_"} {
			if strings.HasPrefix(v, prefix) {
				out = append(out, v)
				break
			}
		}
	case map[string]any:
		for _, e := range v {
			out = append(out, keyLikeStrings(e)...)
		}
	case []any:
		for _, e := range v {
			out = append(out, keyLikeStrings(e)...)
		}
	}
	return out
}

// TestOpenAPIServed checks that the document is served without
// authentication, as JSON, with an ETag that revalidates.
func TestOpenAPIServed(t *testing.T) {
	// No Auth, Store or Vault: serving the document must need none of them.
	a := New(Deps{})
	rec := httptest.NewRecorder()
	a.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/openapi.json", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200; body: %s", rec.Code, rec.Body)
	}
	if got := rec.Header().Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", got)
	}
	if rec.Body.String() != openapiDoc {
		t.Errorf("the body is not the embedded document")
	}
	etag := rec.Header().Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}

	tests := []struct {
		name   string
		method string
		header map[string]string
		want   int
	}{
		{"NotModified", http.MethodGet, map[string]string{"If-None-Match": etag}, http.StatusNotModified},
		{"OtherETag", http.MethodGet, map[string]string{"If-None-Match": `"other"`}, http.StatusOK},
		{"Head", http.MethodHead, nil, http.StatusOK},
		{"InvalidTokenIgnored", http.MethodGet, map[string]string{"Authorization": "Bearer nope"}, http.StatusOK},
		{"ErrPost", http.MethodPost, nil, http.StatusNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, "/api/v1/openapi.json", nil)
			for k, v := range tc.header {
				r.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			a.ServeHTTP(rec, r)
			if rec.Code != tc.want {
				t.Errorf("status = %d, want %d", rec.Code, tc.want)
			}
		})
	}
}

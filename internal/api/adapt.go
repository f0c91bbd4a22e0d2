// SPDX-License-Identifier: Apache-2.0

package api

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/auth"
	"github.com/keygate/keygate/internal/keyvault"
	"github.com/keygate/keygate/internal/reqid"
)

// scope says what a route's right applies to.
type scope int

const (
	scopeNone     scope = iota // any authenticated caller
	scopePlatform              // rights that are not about one tenant
	scopeTenant                // the {tenant} of the path
)

// route is one endpoint: its method and path, the right it needs, and its
// handler. An endpoint without a right is refused (fail closed), except
// scopeNone routes, which only need a valid token.
type route struct {
	Method  string
	Pattern string
	Right   auth.Right
	Scope   scope
	Handle  func(c *call) (int, any, error)
}

// call is the context of one authenticated, authorized request.
type call struct {
	r      *http.Request
	p      auth.Principal
	tenant keygate.Tenant // set for scopeTenant routes
	api    *API
}

func (c *call) change() keyvault.Change {
	return keyvault.Change{Actor: c.p.Actor(), RequestID: reqid.From(c.r.Context())}
}

// event returns an audit event about tenant, made by the caller.
func (c *call) event(tenant keygate.TenantID, action string) keygate.AuditEvent {
	return keygate.AuditEvent{
		ActorID:   c.p.TokenID,
		ActorName: c.p.Name,
		Tenant:    tenant,
		Action:    action,
		RequestID: reqid.From(c.r.Context()),
	}
}

// decode reads a JSON body into v: capped at MaxBodyBytes (body_too_large),
// unknown fields and trailing data refused (invalid_json).
func (c *call) decode(v any) error { return c.decodeMax(v, c.api.d.MaxBodyBytes) }

// decodeMax is decode with a cap of its own (an endpoint that takes a
// larger document).
func (c *call) decodeMax(v any, maxBytes int64) error {
	body := bufio.NewReader(http.MaxBytesReader(nil, c.r.Body, maxBytes))
	// Every body is a JSON object: a bare null, array or string would decode
	// as "nothing set" and must be refused instead.
	if first, err := peekNonSpace(body); err == nil && first != '{' {
		return keygate.Errorf(keygate.CodeInvalidJSON, "The request body must be a JSON object.")
	}
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(err, &tooBig):
			return keygate.Errorf(keygate.CodeBodyTooLarge, "The request body is larger than %d bytes.", maxBytes)
		case keygate.IsCode(err, keygate.CodeRequestTimeout):
			return err // the body did not arrive in time (408)
		case errors.Is(err, io.EOF):
			return keygate.Errorf(keygate.CodeInvalidJSON, "The request body is empty; a JSON object is required.")
		default:
			return keygate.Errorf(keygate.CodeInvalidJSON, "The request body is not valid JSON for this endpoint: %s.", c.api.jsonProblem(err))
		}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return keygate.Errorf(keygate.CodeBodyTooLarge, "The request body is larger than %d bytes.", maxBytes)
		}
		if keygate.IsCode(err, keygate.CodeRequestTimeout) {
			return err
		}
		return keygate.Errorf(keygate.CodeInvalidJSON, "The request body has data after the JSON object.")
	}
	return nil
}

// peekNonSpace returns the first byte of r that is not JSON whitespace,
// without consuming it.
func peekNonSpace(r *bufio.Reader) (byte, error) {
	for {
		b, err := r.Peek(1)
		if err != nil {
			return 0, err
		}
		switch b[0] {
		case ' ', '\t', '\n', '\r':
			_, _ = r.ReadByte()
			continue
		}
		return b[0], nil
	}
}

// jsonProblem describes a decoding error without echoing input values (a
// body may hold a key): field names are repeated only when they cannot be
// one.
func (a *API) jsonProblem(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return "syntax error at byte " + strconv.FormatInt(syn.Offset, 10)
	case errors.As(err, &typ):
		return "field " + a.fieldPath(typ.Field) + " must be " + typ.Type.String()
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return "unknown field " + a.ref(name)
	}
	return "malformed JSON"
}

// adapt authenticates, authorizes, runs the handler and writes its result
// or error.
func (a *API) adapt(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := a.d.Auth.Authenticate(r.Context(), bearer(r))
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		c := &call{r: r, p: p, api: a}
		if err := a.authorize(c, rt); err != nil {
			a.writeError(w, r, err)
			return
		}
		status, body, err := rt.Handle(c)
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		if body == nil {
			w.WriteHeader(status)
			return
		}
		WriteJSON(w, status, body)
	})
}

func (a *API) authorize(c *call, rt route) error {
	forbidden := keygate.Errorf(keygate.CodeForbidden, "This token may not do that.")
	switch rt.Scope {
	case scopeNone:
		return nil
	case scopePlatform:
		if rt.Right == "" || !c.p.Can(rt.Right, "") {
			return forbidden
		}
		return nil
	case scopeTenant:
		if rt.Right == "" {
			return forbidden
		}
		ref := c.r.PathValue("tenant")
		// A tenant-scoped token may only name its own tenant; answering
		// 403 before any lookup keeps other tenants' names from being
		// probed.
		lookup := ref
		if c.p.Role != keygate.RolePlatformAdmin {
			if c.p.Tenant == "" {
				return forbidden
			}
			lookup = string(c.p.Tenant)
		}
		t, err := a.d.Store.GetTenant(c.r.Context(), lookup)
		if err != nil {
			if keygate.IsCode(err, keygate.CodeNotFound) && c.p.Role != keygate.RolePlatformAdmin {
				return forbidden
			}
			return a.notFoundRef(err, "Tenant %s does not exist.", lookup)
		}
		if ref != string(t.ID) && ref != t.Name {
			return forbidden
		}
		// CanOn, not Can: the tenant's own settings (key_admins) may take
		// key.write away from its admin tokens.
		if !c.p.CanOn(rt.Right, t) {
			return forbidden
		}
		c.tenant = t
		return nil
	}
	return forbidden
}

// bearer returns the admin token of r: Authorization: Bearer, or X-Admin-Key.
func bearer(r *http.Request) keygate.Secret {
	if h := r.Header.Get("Authorization"); h != "" {
		if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
			return keygate.NewSecret(strings.TrimSpace(h[7:]))
		}
		return keygate.Secret{}
	}
	return keygate.NewSecret(strings.TrimSpace(r.Header.Get("X-Admin-Key")))
}

package api

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/keygate/keygate"
)

// TestNamesArePlainText checks that every endpoint that takes a tenant,
// gateway-token or admin-token name refuses control and invisible format
// characters with 400 invalid_request naming the field, without echoing the
// value, and creates nothing.
func TestNamesArePlainText(t *testing.T) {
	bad := map[string]string{
		"LF":  "ci\ninjected line",
		"CR":  "ci\roverwrite",
		"ESC": "ci\x1b[2J\x1b]0;pwned\x07",
		"BEL": "ci\a",
		"NUL": "ci\x00",
		"DEL": "ci\x7f",
		"C1":  "ci\u009b31m",
		"RLO": "ci\u202Egnp",
	}
	endpoints := []struct {
		name, path string
		body       func(name string) any
	}{
		{"Tenant", "/api/v1/tenants", func(n string) any { return map[string]any{"name": n} }},
		{"GatewayToken", "/api/v1/tenants/acme/tokens", func(n string) any { return map[string]any{"name": n} }},
		{"AdminToken", "/api/v1/admin-tokens", func(n string) any { return map[string]any{"name": n, "role": "member", "tenant": "acme"} }},
	}
	for _, ep := range endpoints {
		for cname, value := range bad {
			t.Run(ep.name+"/"+cname, func(t *testing.T) {
				a, db := MustAPI(t)
				admin := MustToken(t, db, keygate.RolePlatformAdmin, "")
				body, _ := json.Marshal(ep.body(value))
				status, out := MustServe(t, a, admin, "POST", ep.path, string(body))
				if status != 400 {
					t.Fatalf("status %d, want 400: %s", status, out)
				}
				var e struct {
					Error struct{ Code, Message string }
				}
				if err := json.Unmarshal([]byte(out), &e); err != nil {
					t.Fatal(err)
				}
				if e.Error.Code != keygate.CodeInvalidRequest || !strings.Contains(e.Error.Message, "name") {
					t.Errorf("error %+v: want invalid_request naming the field", e.Error)
				}
				if strings.Contains(out, "ci") || strings.ContainsAny(e.Error.Message, "\n\r\x1b\a\x00\x7f\u009b\u202E") {
					t.Errorf("the error echoes the value: %q", out)
				}
			})
		}
	}
}

// SPDX-License-Identifier: Apache-2.0

package api

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/auth"
	"github.com/keygate/keygate/internal/provider"
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

// TestTokenExpiry: both kinds of token take expires_in or expires_at on
// create, show expires_at and last_used_at, refuse malformed, out-of-range
// or doubled expiries naming the field, and an expired admin token gets
// 401 token_expired, by the injected clock.
func TestTokenExpiry(t *testing.T) {
	_, db := MustAPI(t)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	cat, err := provider.Default()
	if err != nil {
		t.Fatal(err)
	}
	a := New(Deps{Store: db, Vault: nil, Auth: auth.NewService(db, auth.Options{Now: clock}), Providers: cat, Now: clock})
	admin := MustToken(t, db, keygate.RolePlatformAdmin, "")

	type tokenOut struct {
		ID         string     `json:"id"`
		Token      string     `json:"token"`
		ExpiresAt  *time.Time `json:"expires_at"`
		LastUsedAt *time.Time `json:"last_used_at"`
	}
	create := func(path, body string) (int, tokenOut, string) {
		t.Helper()
		status, out := MustServe(t, a, admin, "POST", path, body)
		var tok tokenOut
		_ = json.Unmarshal([]byte(out), &tok)
		return status, tok, out
	}
	day := 24 * time.Hour
	ok := []struct {
		name, path, body string
		want             *time.Time
	}{
		{"GatewayNever", "/api/v1/tenants/acme/tokens", `{"name":"app"}`, nil},
		{"GatewayDays", "/api/v1/tenants/acme/tokens", `{"name":"app","expires_in":"90d"}`, ptr(now.Add(90 * day))},
		{"GatewayHours", "/api/v1/tenants/acme/tokens", `{"name":"app","expires_in":"12h"}`, ptr(now.Add(12 * time.Hour))},
		{"GatewayAt", "/api/v1/tenants/acme/tokens", `{"name":"app","expires_at":"2026-06-01T00:00:00Z"}`, ptr(time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC))},
		{"AdminDays", "/api/v1/admin-tokens", `{"name":"ci","role":"member","tenant":"acme","expires_in":"30d"}`, ptr(now.Add(30 * day))},
		{"AdminAtOffset", "/api/v1/admin-tokens", `{"name":"ci","role":"member","tenant":"acme","expires_at":"2026-03-01T14:00:00+01:00"}`, ptr(now.Add(time.Hour))},
	}
	for _, tc := range ok {
		t.Run(tc.name, func(t *testing.T) {
			status, tok, out := create(tc.path, tc.body)
			if status != 201 {
				t.Fatalf("status %d: %s", status, out)
			}
			if diff := cmp.Diff(tc.want, tok.ExpiresAt); diff != "" || tok.LastUsedAt != nil {
				t.Errorf("expires_at (-want +got):\n%s; last_used_at %v", diff, tok.LastUsedAt)
			}
		})
	}
	bad := []struct{ name, body, field string }{
		{"Both", `{"name":"x","expires_in":"1h","expires_at":"2026-06-01T00:00:00Z"}`, "expires_in or expires_at"},
		{"NotADuration", `{"name":"x","expires_in":"soon"}`, "expires_in"},
		{"NegativeDays", `{"name":"x","expires_in":"-1d"}`, "expires_in"},
		{"TooShort", `{"name":"x","expires_in":"30s"}`, "expires_in"},
		{"TooLong", `{"name":"x","expires_in":"3651d"}`, "expires_in"},
		{"NotATime", `{"name":"x","expires_at":"tomorrow"}`, "expires_at"},
		{"Past", `{"name":"x","expires_at":"2026-02-01T00:00:00Z"}`, "expires_at"},
	}
	for _, tc := range bad {
		t.Run("Err"+tc.name, func(t *testing.T) {
			for _, path := range []string{"/api/v1/tenants/acme/tokens", "/api/v1/admin-tokens"} {
				body := tc.body
				if path == "/api/v1/admin-tokens" {
					body = strings.Replace(body, `{"name":"x"`, `{"name":"x","role":"member","tenant":"acme"`, 1)
				}
				status, _, out := create(path, body)
				if status != 400 || !strings.Contains(out, keygate.CodeInvalidRequest) || !strings.Contains(out, tc.field) {
					t.Errorf("%s: status %d %s; want 400 invalid_request naming %s", path, status, out, tc.field)
				}
			}
		})
	}

	// An admin token expiring in an hour works until then, and is
	// token_expired from then on.
	_, tok, _ := create("/api/v1/admin-tokens", `{"name":"short","role":"member","tenant":"acme","expires_in":"1h"}`)
	if status, out := MustServe(t, a, tok.Token, "GET", "/api/v1/whoami", ""); status != 200 {
		t.Fatalf("before expiry: %d %s", status, out)
	}
	now = now.Add(time.Hour)
	status, out := MustServe(t, a, tok.Token, "GET", "/api/v1/whoami", "")
	if status != 401 || !strings.Contains(out, `"token_expired"`) {
		t.Fatalf("at expiry: %d %s; want 401 token_expired", status, out)
	}
	// The list shows the expiry and the recorded last use.
	if err := db.TouchTokens(context.Background(), []keygate.TokenUse{{Kind: keygate.TokenAdmin, ID: tok.ID, At: now.Add(-time.Minute)}}); err != nil {
		t.Fatal(err)
	}
	_, out = MustServe(t, a, admin, "GET", "/api/v1/admin-tokens", "")
	var list struct{ Tokens []tokenOut }
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, l := range list.Tokens {
		if l.ID == tok.ID {
			found = true
			if l.ExpiresAt == nil || !l.ExpiresAt.Equal(now) || l.LastUsedAt == nil || !l.LastUsedAt.Equal(now.Add(-time.Minute)) {
				t.Errorf("listed with expires_at %v, last_used_at %v", l.ExpiresAt, l.LastUsedAt)
			}
		}
	}
	if !found {
		t.Error("the token is not listed")
	}
}

func ptr[T any](v T) *T { return &v }

// TestTokenCannotOutliveItsCreator: a token created by an expiring admin
// token expires with it when no expiry is asked, and asking for a later
// expiry is refused; a token without expiry creates what it likes.
func TestTokenCannotOutliveItsCreator(t *testing.T) {
	_, db := MustAPI(t)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	cat, err := provider.Default()
	if err != nil {
		t.Fatal(err)
	}
	a := New(Deps{Store: db, Auth: auth.NewService(db, auth.Options{Now: clock}), Providers: cat, Now: clock})
	admin := MustToken(t, db, keygate.RolePlatformAdmin, "")
	status, out := MustServe(t, a, admin, "POST", "/api/v1/admin-tokens", `{"name":"temp","role":"owner","tenant":"acme","expires_in":"1d"}`)
	var owner struct{ Token string }
	if err := json.Unmarshal([]byte(out), &owner); err != nil || status != 201 {
		t.Fatalf("owner token: %d %s", status, out)
	}
	ownerEnd := now.Add(24 * time.Hour)
	tests := []struct {
		name, token, path, body string
		status                  int
		want                    *time.Time
	}{
		{"InheritsGateway", owner.Token, "/api/v1/tenants/acme/tokens", `{"name":"app"}`, 201, &ownerEnd},
		{"InheritsAdmin", owner.Token, "/api/v1/admin-tokens", `{"name":"m","role":"member","tenant":"acme"}`, 201, &ownerEnd},
		{"Shorter", owner.Token, "/api/v1/tenants/acme/tokens", `{"name":"app","expires_in":"12h"}`, 201, ptr(now.Add(12 * time.Hour))},
		{"ErrLonger", owner.Token, "/api/v1/tenants/acme/tokens", `{"name":"app","expires_in":"90d"}`, 400, nil},
		{"ErrLongerAdmin", owner.Token, "/api/v1/admin-tokens", `{"name":"m","role":"member","tenant":"acme","expires_at":"2027-01-01T00:00:00Z"}`, 400, nil},
		{"NeverExpiringCreator", admin, "/api/v1/tenants/acme/tokens", `{"name":"app"}`, 201, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, out := MustServe(t, a, tc.token, "POST", tc.path, tc.body)
			if status != tc.status {
				t.Fatalf("status %d, want %d: %s", status, tc.status, out)
			}
			if status != 201 {
				if !strings.Contains(out, "outlive") {
					t.Errorf("error %s: want it to say the token cannot outlive its creator", out)
				}
				return
			}
			var got struct {
				ExpiresAt *time.Time `json:"expires_at"`
			}
			_ = json.Unmarshal([]byte(out), &got)
			if diff := cmp.Diff(tc.want, got.ExpiresAt); diff != "" {
				t.Errorf("expires_at (-want +got):\n%s", diff)
			}
		})
	}
}

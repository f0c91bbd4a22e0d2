// SPDX-License-Identifier: Apache-2.0

package client_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/client"
	"github.com/keygate/keygate/internal/client/clienttest"
)

// MustNew returns a client of baseURL with token, failing the test on error.
func MustNew(tb testing.TB, baseURL, token string, opts ...client.Option) *client.Client {
	tb.Helper()
	c, err := client.New(baseURL, keygate.NewSecret(token), opts...)
	if err != nil {
		tb.Fatalf("client.New(%q): %v", baseURL, err)
	}
	return c
}

// MustFake starts a fake API and returns it with a platform-admin client.
func MustFake(tb testing.TB) (*clienttest.Server, *client.Client) {
	tb.Helper()
	s := clienttest.NewServer(tb)
	return s, MustNew(tb, s.URL, clienttest.Token)
}

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		url     string
		wantErr bool
	}{
		{"OK", "http://127.0.0.1:8080", false},
		{"OKTrailingSlashAndPrefix", "https://example.com/keygate/", false},
		{"ErrNoScheme", "127.0.0.1:8080", true},
		{"ErrFTP", "ftp://example.com", true},
		{"ErrNoHost", "http://", true},
		{"ErrQuery", "http://example.com/?a=b", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := client.New(tc.url, keygate.Secret{})
			if got := err != nil; got != tc.wantErr {
				t.Errorf("New(%q) error = %v, want error: %v", tc.url, err, tc.wantErr)
			}
		})
	}
}

func TestBaseURLPrefix(t *testing.T) {
	var got string
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.URL.RawPath
		if got == "" {
			got = r.URL.Path
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"id":"tn_1","name":"a b"}`)
	}))
	defer hs.Close()
	c := MustNew(t, hs.URL+"/kg/", "kga_x")
	if _, err := c.GetTenant(context.Background(), "a b/c"); err != nil {
		t.Fatal(err)
	}
	if want := "/kg/api/v1/tenants/a%20b%2Fc"; got != want {
		t.Errorf("request path = %q, want %q", got, want)
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		ctype      string
		body       string
		wantStatus int
		wantCode   string
		wantMsg    string
	}{
		{"Envelope", 404, "application/json", `{"error":{"code":"not_found","message":"Tenant \"x\" not found."}}`, 404, "not_found", `Tenant "x" not found.`},
		{"EnvelopeWithCharset", 409, "application/json; charset=utf-8", `{"error":{"code":"conflict","message":"Taken."}}`, 409, "conflict", "Taken."},
		{"HTMLFromProxy", 502, "text/html", `<html>bad gateway</html>`, 502, "unavailable", "Unexpected answer from the server: 502 Bad Gateway."},
		{"EmptyForbidden", 403, "", ``, 403, "forbidden", "Unexpected answer from the server: 403 Forbidden."},
		{"EnvelopeWithoutCode", 400, "application/json", `{"error":{}}`, 400, "invalid_request", "Unexpected answer from the server: 400 Bad Request."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tc.ctype != "" {
					w.Header().Set("Content-Type", tc.ctype)
				}
				w.WriteHeader(tc.status)
				fmt.Fprint(w, tc.body)
			}))
			defer hs.Close()
			_, err := MustNew(t, hs.URL, "kga_x").GetTenant(context.Background(), "x")
			var ce *client.Error
			if !errors.As(err, &ce) {
				t.Fatalf("GetTenant error = %v (%T), want *client.Error", err, err)
			}
			got := []any{ce.Status, ce.Code(), ce.Message(), keygate.ErrorCode(err), ce.Path}
			want := []any{tc.wantStatus, tc.wantCode, tc.wantMsg, tc.wantCode, "/api/v1/tenants/x"}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeStrict(t *testing.T) {
	tests := []struct {
		name  string
		ctype string
		body  string
		want  string
	}{
		{"ErrTrailingData", "application/json", `{"token_id":"at_1"} {"x":1}`, "trailing data"},
		{"ErrContentType", "text/plain", `{"token_id":"at_1"}`, "not application/json"},
		{"ErrWrongShape", "application/json", `["at_1"]`, "cannot unmarshal"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tc.ctype)
				fmt.Fprint(w, tc.body)
			}))
			defer hs.Close()
			_, err := MustNew(t, hs.URL, "kga_x").WhoAmI(context.Background())
			var ce *client.Error
			if !errors.As(err, &ce) || ce.Status != 200 || ce.Code() != keygate.CodeInternal || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("WhoAmI error = %v, want a *client.Error with status 200, code internal, mentioning %q", err, tc.want)
			}
		})
	}
}

func TestNetworkError(t *testing.T) {
	hs := httptest.NewServer(http.NotFoundHandler())
	url := hs.URL
	hs.Close()
	_, err := MustNew(t, url, "kga_x").WhoAmI(context.Background())
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Status != 0 || ce.Code() != keygate.CodeUnavailable {
		t.Fatalf("WhoAmI error = %v, want a *client.Error with status 0 and code unavailable", err)
	}
	if strings.Contains(err.Error(), "kga_x") {
		t.Errorf("error %q contains the token", err)
	}
}

func TestContextCanceled(t *testing.T) {
	_, c := MustFake(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.WhoAmI(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("WhoAmI error = %v, want context.Canceled in the chain", err)
	}
}

func TestAuthHeader(t *testing.T) {
	s, c := MustFake(t)
	if _, err := c.WhoAmI(context.Background()); err != nil {
		t.Fatal(err)
	}
	reqs := s.Requests()
	if got, want := reqs[0].Header.Get("Authorization"), "Bearer "+clienttest.Token; got != want {
		t.Errorf("Authorization = %q, want %q", got, want)
	}

	noToken := MustNew(t, s.URL, "")
	_, err := noToken.WhoAmI(context.Background())
	if got := keygate.ErrorCode(err); got != keygate.CodeUnauthorized {
		t.Errorf("WhoAmI without token: code %q, want unauthorized", got)
	}
	if got := s.Requests()[1].Header.Values("Authorization"); len(got) != 0 {
		t.Errorf("Authorization sent without a token: %q", got)
	}
}

func TestRequiredArguments(t *testing.T) {
	_, c := MustFake(t)
	ctx := context.Background()
	tests := []struct {
		name string
		call func() error
	}{
		{"GetTenant", func() error { _, err := c.GetTenant(ctx, ""); return err }},
		{"UpdateTenant", func() error { _, err := c.UpdateTenant(ctx, " ", client.TenantUpdate{}); return err }},
		{"DeleteTenant", func() error { return c.DeleteTenant(ctx, "") }},
		{"PutKeyNoOwner", func() error { _, err := c.PutKey(ctx, "", "openai", keygate.NewSecret("sk-123456789")); return err }},
		{"PutKeyNoProvider", func() error { _, err := c.PutKey(ctx, "acme", "", keygate.NewSecret("sk-123456789")); return err }},
		{"PutKeyEmptyKey", func() error { _, err := c.PutKey(ctx, "acme", "openai", keygate.Secret{}); return err }},
		{"GetKey", func() error { _, err := c.GetKey(ctx, "acme", ""); return err }},
		{"DeleteKey", func() error { return c.DeleteKey(ctx, "", "openai") }},
		{"ListKeys", func() error { _, err := c.ListKeys(ctx, ""); return err }},
		{"RevokeAdminToken", func() error { return c.RevokeAdminToken(ctx, "") }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := keygate.ErrorCode(tc.call()); got != keygate.CodeInvalidRequest {
				t.Errorf("code = %q, want invalid_request", got)
			}
		})
	}
}

func TestRequestBodyCap(t *testing.T) {
	s, c := MustFake(t)
	big := keygate.NewSecret("sk-" + strings.Repeat("a", client.MaxRequestBody))
	_, err := c.PutKey(context.Background(), string(keygate.PlatformScope), "openai", big)
	if got := keygate.ErrorCode(err); got != keygate.CodeBodyTooLarge {
		t.Errorf("code = %q, want body_too_large", got)
	}
	if n := len(s.Requests()); n != 0 {
		t.Errorf("%d requests sent, want none", n)
	}
}

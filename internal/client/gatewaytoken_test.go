// SPDX-License-Identifier: Apache-2.0

package client_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/client"
	"github.com/keygate/keygate/internal/client/clienttest"
)

func TestGatewayTokens(t *testing.T) {
	s, c := MustFake(t)
	ctx := context.Background()
	tn, err := c.CreateTenant(ctx, client.CreateTenantParams{Name: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	nt, err := c.CreateGatewayToken(ctx, "acme", "app")
	if err != nil {
		t.Fatal(err)
	}
	if got := string(s.Requests()[len(s.Requests())-1].Body); got != `{"name":"app"}` {
		t.Errorf("create body = %s", got)
	}
	tok := nt.Token.Reveal()
	if !strings.HasPrefix(tok, "kg_") || !strings.HasPrefix(tok, nt.Prefix) {
		t.Errorf("token = %q, prefix %q; want kg_... starting with the prefix", tok, nt.Prefix)
	}
	printed, _ := json.Marshal(nt)
	for _, out := range []string{fmt.Sprint(nt), fmt.Sprintf("%+v", nt), string(printed)} {
		if strings.Contains(out, tok) {
			t.Errorf("printing a NewGatewayToken shows the token: %s", out)
		}
	}
	at := clienttest.Start().Add(2 * time.Second)
	noScope := client.TokenScope{Providers: []string{}, Models: []string{}} // the server answers empty lists
	want := client.GatewayToken{ID: nt.ID, Name: "app", Tenant: tn.ID, Prefix: nt.Prefix, CreatedBy: "at_bootstrap", CreatedAt: at, Scope: noScope}
	if diff := cmp.Diff(want, nt.GatewayToken); diff != "" {
		t.Errorf("CreateGatewayToken (-want +got):\n%s", diff)
	}

	second, err := c.CreateGatewayToken(ctx, string(tn.ID), "batch")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.RevokeGatewayToken(ctx, "acme", nt.ID); err != nil {
		t.Fatal(err)
	}
	list, err := c.ListGatewayTokens(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	revokedAt := clienttest.Start().Add(4 * time.Second)
	want.RevokedAt = &revokedAt
	if diff := cmp.Diff([]client.GatewayToken{second.GatewayToken, want}, list); diff != "" {
		t.Errorf("ListGatewayTokens (-want +got):\n%s", diff)
	}
	if got := s.Requests()[len(s.Requests())-2]; got.Method != "DELETE" || got.Path != "/api/v1/tenants/acme/tokens/"+nt.ID {
		t.Errorf("revoke request = %s %s", got.Method, got.Path)
	}
}

// TestGatewayTokenScope: a scope is sent on create and replaced with PUT
// .../tokens/{id}/scope, and comes back in the token.
func TestGatewayTokenScope(t *testing.T) {
	s, c := MustFake(t)
	ctx := context.Background()
	if _, err := c.CreateTenant(ctx, client.CreateTenantParams{Name: "acme"}); err != nil {
		t.Fatal(err)
	}
	daily := "5"
	scope := client.TokenScope{Providers: []string{"openai"}, Models: []string{"gpt-4o*"}, DailyUSD: &daily, RPM: 60}
	nt, err := c.CreateGatewayTokenWith(ctx, "acme", client.CreateGatewayTokenParams{Name: "bot", Scope: &scope})
	if err != nil {
		t.Fatal(err)
	}
	wantBody := `{"name":"bot","scope":{"providers":["openai"],"models":["gpt-4o*"],"daily_usd":"5","monthly_usd":null,"daily_tokens":null,"monthly_tokens":null,"rpm":60,"tpm":0}}`
	if got := string(s.Requests()[len(s.Requests())-1].Body); got != wantBody {
		t.Errorf("create body = %s, want %s", got, wantBody)
	}
	if diff := cmp.Diff(scope, nt.Scope); diff != "" {
		t.Errorf("created scope (-want +got):\n%s", diff)
	}
	narrower := client.TokenScope{Providers: []string{"openai"}, Models: []string{}, TPM: 1000}
	got, err := c.SetGatewayTokenScope(ctx, "acme", nt.ID, narrower)
	if err != nil {
		t.Fatal(err)
	}
	if r := s.Requests()[len(s.Requests())-1]; r.Method != "PUT" || r.Path != "/api/v1/tenants/acme/tokens/"+nt.ID+"/scope" {
		t.Errorf("scope request = %s %s", r.Method, r.Path)
	}
	if diff := cmp.Diff(narrower, got.Scope); diff != "" {
		t.Errorf("new scope (-want +got):\n%s", diff)
	}
	if _, err := c.SetGatewayTokenScope(ctx, "acme", "", narrower); err == nil {
		t.Error("SetGatewayTokenScope without an id sent a request")
	}
	if _, err := c.SetGatewayTokenScope(ctx, "acme", "gt_nope", narrower); !keygate.IsCode(err, keygate.CodeNotFound) {
		t.Errorf("unknown token: %v, want not_found", err)
	}
}

func TestGatewayTokenErrors(t *testing.T) {
	s, c := MustFake(t)
	ctx := context.Background()
	if _, err := c.CreateTenant(ctx, client.CreateTenantParams{Name: "acme"}); err != nil {
		t.Fatal(err)
	}
	gt, err := c.CreateGatewayToken(ctx, "acme", "app")
	if err != nil {
		t.Fatal(err)
	}
	sent := len(s.Requests())
	tests := []struct {
		name     string
		call     func() error
		wantCode string
		wantSent bool // whether a request reached the server
	}{
		{"ErrCreateNoTenant", func() error { _, err := c.CreateGatewayToken(ctx, " ", "app"); return err }, keygate.CodeInvalidRequest, false},
		{"ErrListNoTenant", func() error { _, err := c.ListGatewayTokens(ctx, ""); return err }, keygate.CodeInvalidRequest, false},
		{"ErrRevokeNoID", func() error { return c.RevokeGatewayToken(ctx, "acme", "") }, keygate.CodeInvalidRequest, false},
		{"ErrRevokeNoTenant", func() error { return c.RevokeGatewayToken(ctx, "", gt.ID) }, keygate.CodeInvalidRequest, false},
		{"ErrCreateUnknownTenant", func() error { _, err := c.CreateGatewayToken(ctx, "nope", "app"); return err }, keygate.CodeNotFound, true},
		{"ErrRevokeUnknown", func() error { return c.RevokeGatewayToken(ctx, "acme", "gt_nope") }, keygate.CodeNotFound, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if got := keygate.ErrorCode(err); got != tc.wantCode {
				t.Errorf("error = %v, want code %s", err, tc.wantCode)
			}
			n := len(s.Requests())
			if got := n > sent; got != tc.wantSent {
				t.Errorf("request sent: %v, want %v", got, tc.wantSent)
			}
			sent = n
		})
	}
}

func TestCreateGatewayTokenWithoutToken(t *testing.T) {
	// A server (or a proxy) that answers 201 without the token: an error,
	// not a NewGatewayToken with an empty token.
	hs := newStaticServer(t, 201, `{"id":"gt_1","name":"app","tenant":"tn_1","prefix":"kg_x"}`)
	_, err := MustNew(t, hs, "kga_x").CreateGatewayToken(context.Background(), "acme", "app")
	if err == nil || !strings.Contains(err.Error(), "no token") {
		t.Errorf("error = %v, want one saying the answer has no token", err)
	}
}

// newStaticServer starts a server that answers every request with status
// and the JSON body, and returns its URL.
func newStaticServer(tb testing.TB, status int, body string) string {
	tb.Helper()
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}))
	tb.Cleanup(hs.Close)
	return hs.URL
}

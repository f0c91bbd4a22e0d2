// SPDX-License-Identifier: Apache-2.0

package client_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/client"
	"github.com/keygate/keygate/internal/client/clienttest"
)

func TestHealth(t *testing.T) {
	s, c := MustFake(t)
	ctx := context.Background()
	acme := MustTenant(t, c, "acme")
	MustPutKey(t, c, "acme", "openai", "sk-openai-key-aaaa")
	MustPutKey(t, c, "acme", "anthropic", "sk-ant-anthropic-bbbb")
	MustPutKey(t, c, "acme", "mistral", "mistral-key-cccc")
	MustPutKey(t, c, "platform", "openai", "sk-platform-key-dddd")
	s.SetKeyStatus("acme", "openai", keygate.KeyStatusInvalid, "openai rejected the key (HTTP 401)")
	s.SetKeyStatus("acme", "anthropic", keygate.KeyStatusValid, "")
	s.SetKeyStatus("platform", "openai", keygate.KeyStatusInvalid, "openai rejected the key (HTTP 401)")
	at := func(n int) time.Time { return clienttest.Start().Add(time.Duration(n) * time.Second) }
	checked := at(5) // SetKeyStatus stamps the time of the last request

	h, err := c.Health(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	acmeOpenAI := client.KeyHealth{Owner: acme.ID, Provider: "openai", Status: keygate.KeyStatusInvalid, Color: client.ColorRed, Hint: "...aaaa", Version: 1,
		LastCheckedAt: &checked, LastError: "openai rejected the key (HTTP 401)", UpdatedAt: checked}
	want := client.Health{Healthy: false, Keys: []client.KeyHealth{
		{Owner: acme.ID, Provider: "anthropic", Status: keygate.KeyStatusValid, Color: client.ColorGreen, Hint: "...bbbb", Version: 1, LastCheckedAt: &checked, UpdatedAt: checked},
		{Owner: acme.ID, Provider: "mistral", Status: keygate.KeyStatusUnknown, Color: client.ColorGrey, Hint: "...cccc", Version: 1, UpdatedAt: at(4)},
		acmeOpenAI,
	}}
	if diff := cmp.Diff(want, h); diff != "" {
		t.Errorf("Health(acme) (-want +got):\n%s", diff)
	}
	if r := s.Requests()[5]; r.Path != "/api/v1/tenants/acme/health" {
		t.Errorf("path = %s", r.Path)
	}

	h, err = c.Health(ctx, "platform")
	if err != nil {
		t.Fatal(err)
	}
	platformOpenAI := client.KeyHealth{Owner: "platform", Provider: "openai", Status: keygate.KeyStatusInvalid, Color: client.ColorRed, Hint: "...dddd", Version: 1,
		LastCheckedAt: &checked, LastError: "openai rejected the key (HTTP 401)", UpdatedAt: checked}
	if diff := cmp.Diff(client.Health{Keys: []client.KeyHealth{platformOpenAI}}, h); diff != "" {
		t.Errorf("Health(platform) (-want +got):\n%s", diff)
	}
	if r := s.Requests()[6]; r.Path != "/api/v1/platform/health" {
		t.Errorf("path = %s", r.Path)
	}

	all, err := c.PlatformHealth(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantAll := client.PlatformHealth{Counts: client.HealthCounts{Green: 1, Red: 2, Grey: 1}, Red: []client.KeyHealth{platformOpenAI, acmeOpenAI}, Total: 4}
	if diff := cmp.Diff(wantAll, all); diff != "" {
		t.Errorf("PlatformHealth (-want +got):\n%s", diff)
	}
	if r := s.Requests()[7]; r.Path != "/api/v1/health" {
		t.Errorf("path = %s", r.Path)
	}
}

func TestHealthErrors(t *testing.T) {
	s, c := MustFake(t)
	ctx := context.Background()
	MustTenant(t, c, "acme")
	s.AddToken("kga_member", client.AdminToken{ID: "at_m", Name: "m", Role: keygate.RoleMember, Tenant: "tn_0001"})
	member := MustNew(t, s.URL, "kga_member")
	tests := []struct {
		name     string
		call     func() error
		wantCode string
	}{
		{"ErrNoOwner", func() error { _, err := c.Health(ctx, ""); return err }, keygate.CodeInvalidRequest},
		{"ErrUnknownTenant", func() error { _, err := c.Health(ctx, "nope"); return err }, keygate.CodeNotFound},
		{"OKMemberOwnTenant", func() error { _, err := member.Health(ctx, "acme"); return err }, ""},
		{"ErrMemberPlatform", func() error { _, err := member.Health(ctx, "platform"); return err }, keygate.CodeForbidden},
		{"ErrMemberPlatformWide", func() error { _, err := member.PlatformHealth(ctx); return err }, keygate.CodeForbidden},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := keygate.ErrorCode(tc.call()); got != tc.wantCode {
				t.Errorf("code = %q, want %q", got, tc.wantCode)
			}
		})
	}
}

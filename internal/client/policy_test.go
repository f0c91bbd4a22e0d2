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

func TestPolicy(t *testing.T) {
	s, c := MustFake(t)
	ctx := context.Background()
	tn, err := c.CreateTenant(ctx, client.CreateTenantParams{Name: "acme"})
	if err != nil {
		t.Fatal(err)
	}

	// A tenant that never set a policy has the defaults.
	got, err := c.GetPolicy(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	defaults := client.Policy{Tenant: tn.ID, Default: client.PolicyRule{Mode: keygate.ModeTenantThenPlatform}, Providers: map[string]client.PolicyRule{}}
	if diff := cmp.Diff(defaults, got); diff != "" {
		t.Errorf("GetPolicy before any PUT (-want +got):\n%s", diff)
	}

	openai := client.PolicyRule{Mode: keygate.ModeTenantOnly, AllowRequestKeys: true}
	put := client.Policy{
		Tenant:    "tn_ignored",
		Default:   client.PolicyRule{Mode: keygate.ModePlatformOnly, FallbackOnError: true},
		Providers: map[string]client.PolicyRule{"openai": openai},
	}
	stored, err := c.PutPolicy(ctx, "acme", put)
	if err != nil {
		t.Fatal(err)
	}
	// Only the documented fields go over the wire (the fake decodes
	// strictly, like the server).
	wantBody := `{"default":{"mode":"platform_only","allow_request_keys":false,"fallback_on_error":true},` +
		`"providers":{"openai":{"mode":"tenant_only","allow_request_keys":true,"fallback_on_error":false}}}`
	if got := string(s.Requests()[len(s.Requests())-1].Body); got != wantBody {
		t.Errorf("PUT body:\n got %s\nwant %s", got, wantBody)
	}
	at := clienttest.Start().Add(3 * time.Second)
	want := client.Policy{Tenant: tn.ID, Default: put.Default, Providers: put.Providers, UpdatedAt: &at}
	if diff := cmp.Diff(want, stored); diff != "" {
		t.Errorf("PutPolicy (-want +got):\n%s", diff)
	}
	got, err = c.GetPolicy(ctx, string(tn.ID))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("GetPolicy after PUT (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]client.PolicyRule{openai, put.Default}, []client.PolicyRule{got.For("openai"), got.For("anthropic")}); diff != "" {
		t.Errorf("For (-want +got):\n%s", diff)
	}

	// An empty mode is left out, so the server applies its default.
	stored, err = c.PutPolicy(ctx, "acme", client.Policy{Providers: map[string]client.PolicyRule{"openai": {AllowRequestKeys: true}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(s.Requests()[len(s.Requests())-1].Body); got != `{"default":{"allow_request_keys":false,"fallback_on_error":false},"providers":{"openai":{"allow_request_keys":true,"fallback_on_error":false}}}` {
		t.Errorf("PUT body with empty modes = %s", got)
	}
	if got, want := stored.For("openai"), (client.PolicyRule{Mode: keygate.ModeTenantThenPlatform, AllowRequestKeys: true}); got != want {
		t.Errorf("stored openai rule = %+v, want %+v", got, want)
	}

	// A nil provider map is sent as {}, which clears every override.
	if _, err := c.PutPolicy(ctx, "acme", client.Policy{Default: put.Default}); err != nil {
		t.Fatal(err)
	}
	if got := string(s.Requests()[len(s.Requests())-1].Body); got != `{"default":{"mode":"platform_only","allow_request_keys":false,"fallback_on_error":true},"providers":{}}` {
		t.Errorf("PUT body with no providers = %s", got)
	}
}

func TestPolicyErrors(t *testing.T) {
	_, c := MustFake(t)
	ctx := context.Background()
	if _, err := c.CreateTenant(ctx, client.CreateTenantParams{Name: "acme"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		call     func() error
		wantCode string
	}{
		{"ErrGetNoTenant", func() error { _, err := c.GetPolicy(ctx, ""); return err }, keygate.CodeInvalidRequest},
		{"ErrPutNoTenant", func() error { _, err := c.PutPolicy(ctx, "", client.Policy{}); return err }, keygate.CodeInvalidRequest},
		{"ErrGetUnknownTenant", func() error { _, err := c.GetPolicy(ctx, "nope"); return err }, keygate.CodeNotFound},
		{"ErrPutBadMode", func() error {
			_, err := c.PutPolicy(ctx, "acme", client.Policy{Default: client.PolicyRule{Mode: "sometimes"}})
			return err
		}, keygate.CodeInvalidRequest},
		{"ErrPutUnknownProvider", func() error {
			_, err := c.PutPolicy(ctx, "acme", client.Policy{Providers: map[string]client.PolicyRule{"nope": {Mode: keygate.ModeTenantOnly}}})
			return err
		}, keygate.CodeUnknownProvider},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(); keygate.ErrorCode(err) != tc.wantCode {
				t.Errorf("error = %v, want code %s", err, tc.wantCode)
			}
		})
	}
}

// SPDX-License-Identifier: Apache-2.0

package client_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/client"
)

const canary = "sk-canaryCANARY0123456789xK7q"

func TestPutKey(t *testing.T) {
	tests := []struct {
		name     string
		owner    string
		wantPath string
	}{
		{"Tenant", "acme", "/api/v1/tenants/acme/keys/openai"},
		{"Platform", "platform", "/api/v1/platform/keys/openai"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, c := MustFake(t)
			ctx := context.Background()
			if _, err := c.CreateTenant(ctx, client.CreateTenantParams{Name: "acme"}); err != nil {
				t.Fatal(err)
			}
			first, err := c.PutKey(ctx, tc.owner, "openai", keygate.NewSecret(canary))
			if err != nil {
				t.Fatal(err)
			}
			second, err := c.PutKey(ctx, tc.owner, "openai", keygate.NewSecret(canary+"2"))
			if err != nil {
				t.Fatal(err)
			}
			got := []any{first.Rotated, first.Key.Version, first.Key.Hint, second.Rotated, second.Key.Version, second.Key.ID == first.Key.ID}
			want := []any{false, 1, "...xK7q", true, 2, true}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("[rotated, version, hint, rotated, version, same id] (-want +got):\n%s", diff)
			}

			put := s.Requests()[1]
			var body map[string]string
			if err := json.Unmarshal(put.Body, &body); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(map[string]string{"key": canary}, body); diff != "" {
				t.Errorf("PUT body (-want +got):\n%s", diff)
			}
			if put.Path != tc.wantPath || put.Method != "PUT" {
				t.Errorf("request = %s %s, want PUT %s", put.Method, put.Path, tc.wantPath)
			}
			for name, vals := range put.Header {
				if strings.Contains(strings.Join(vals, " "), "canary") {
					t.Errorf("header %s carries the key", name)
				}
			}
			if strings.Contains(put.Path+put.Query, "canary") {
				t.Errorf("URL carries the key")
			}

			list, err := c.ListKeys(ctx, tc.owner)
			if err != nil {
				t.Fatal(err)
			}
			k, err := c.GetKey(ctx, tc.owner, "openai")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]client.Key{second.Key}, list); diff != "" {
				t.Errorf("ListKeys (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(second.Key, k); diff != "" {
				t.Errorf("GetKey (-want +got):\n%s", diff)
			}
			if err := c.DeleteKey(ctx, tc.owner, "openai"); err != nil {
				t.Fatal(err)
			}
			if _, err := c.GetKey(ctx, tc.owner, "openai"); !keygate.IsCode(err, keygate.CodeNotFound) {
				t.Errorf("GetKey after delete: %v, want not_found", err)
			}
		})
	}
}

func TestPutKeyRejected(t *testing.T) {
	tests := []struct {
		name     string
		provider string
		key      string
		wantCode string
	}{
		{"ErrUnknownProvider", "nope", canary, keygate.CodeUnknownProvider},
		{"ErrKeyFormat", "anthropic", canary, keygate.CodeInvalidKeyFormat},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, c := MustFake(t)
			_, err := c.PutKey(context.Background(), "platform", tc.provider, keygate.NewSecret(tc.key))
			if got := keygate.ErrorCode(err); got != tc.wantCode {
				t.Errorf("code = %q, want %q (error %v)", got, tc.wantCode, err)
			}
			if strings.Contains(err.Error(), "canary") {
				t.Errorf("error %q contains the key", err)
			}
		})
	}
}

// SPDX-License-Identifier: Apache-2.0

package client_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/client"
	"github.com/keygate/keygate/internal/client/clienttest"
)

// MustTenant creates tenant name on the fake.
func MustTenant(tb testing.TB, c *client.Client, name string) client.Tenant {
	tb.Helper()
	t, err := c.CreateTenant(context.Background(), client.CreateTenantParams{Name: name})
	if err != nil {
		tb.Fatalf("create tenant %s: %v", name, err)
	}
	return t
}

// MustPutKey stores key as owner's key for provider.
func MustPutKey(tb testing.TB, c *client.Client, owner, provider, key string) client.Key {
	tb.Helper()
	ch, err := c.PutKey(context.Background(), owner, provider, keygate.NewSecret(key))
	if err != nil {
		tb.Fatalf("put %s key of %s: %v", provider, owner, err)
	}
	return ch.Key
}

func TestTestKeys(t *testing.T) {
	tests := []struct {
		name     string
		owner    string
		wantPath string
	}{
		{"Tenant", "acme", "/api/v1/tenants/acme/keys:test"},
		{"Platform", "platform", "/api/v1/platform/keys:test"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, c := MustFake(t)
			MustTenant(t, c, "acme")
			got, err := c.TestKeys(context.Background(), tc.owner, map[string]keygate.Secret{
				"openai":    keygate.NewSecret(canary),
				"anthropic": keygate.NewSecret("sk-ant-" + clienttest.RejectedMarker + "-canary-xK7q"),
				"mistral":   keygate.NewSecret(clienttest.UnverifiableMarker + "-canary-xK7q"),
				"exa":       keygate.NewSecret("canary xK7q"),
			})
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]client.KeyTestResult{
				"openai":    {Status: client.KeyTestValid, Models: clienttest.FakeModels("openai"), ModelCount: 12},
				"anthropic": {Status: client.KeyTestRejected, Models: []string{}, Error: "anthropic rejected the key (HTTP 401)"},
				"mistral":   {Status: client.KeyTestUnverifiable, Models: []string{}, Error: "mistral is rate limiting this key (HTTP 429); try again later"},
				"exa":       {Status: client.KeyTestRejected, Models: []string{}, Error: "This does not look like a exa key."},
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("TestKeys (-want +got):\n%s", diff)
			}

			r := s.Requests()[1]
			if r.Method != "POST" || r.Path != tc.wantPath || r.Query != "" {
				t.Errorf("request = %s %s?%s, want POST %s", r.Method, r.Path, r.Query, tc.wantPath)
			}
			var body struct {
				Keys map[string]string `json:"keys"`
			}
			if err := json.Unmarshal(r.Body, &body); err != nil {
				t.Fatal(err)
			}
			if body.Keys["openai"] != canary || len(body.Keys) != 4 {
				t.Errorf("body keys = %d, openai key sent intact: %v", len(body.Keys), body.Keys["openai"] == canary)
			}
			for name, vals := range r.Header {
				if strings.Contains(strings.Join(vals, " "), "canary") {
					t.Errorf("header %s carries a key", name)
				}
			}
		})
	}
}

func TestTestKey(t *testing.T) {
	_, c := MustFake(t)
	got, err := c.TestKey(context.Background(), "platform", "openai", keygate.NewSecret(canary))
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != client.KeyTestValid || got.ModelCount != 12 {
		t.Errorf("TestKey = %+v, want valid with 12 models", got)
	}
}

func TestTestKeysErrors(t *testing.T) {
	tests := []struct {
		name     string
		owner    string
		keys     map[string]keygate.Secret
		wantCode string
		wantSent bool
	}{
		{"ErrNoKeys", "platform", nil, keygate.CodeInvalidRequest, false},
		{"ErrEmptyKey", "platform", map[string]keygate.Secret{"openai": {}}, keygate.CodeInvalidRequest, false},
		{"ErrEmptyProvider", "platform", map[string]keygate.Secret{"": keygate.NewSecret(canary)}, keygate.CodeInvalidRequest, false},
		{"ErrNoOwner", "", map[string]keygate.Secret{"openai": keygate.NewSecret(canary)}, keygate.CodeInvalidRequest, false},
		{"ErrUnknownProvider", "platform", map[string]keygate.Secret{"nope": keygate.NewSecret(canary)}, keygate.CodeUnknownProvider, true},
		{"ErrUnknownTenant", "nope", map[string]keygate.Secret{"openai": keygate.NewSecret(canary)}, keygate.CodeNotFound, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, c := MustFake(t)
			_, err := c.TestKeys(context.Background(), tc.owner, tc.keys)
			if got := keygate.ErrorCode(err); got != tc.wantCode {
				t.Errorf("code = %q, want %q (error %v)", got, tc.wantCode, err)
			}
			if err != nil && strings.Contains(err.Error(), "canary") {
				t.Errorf("error %q contains the key", err)
			}
			if sent := len(s.Requests()) > 0; sent != tc.wantSent {
				t.Errorf("request sent: %v, want %v", sent, tc.wantSent)
			}
		})
	}
}

func TestPutKeyTested(t *testing.T) {
	tests := []struct {
		name       string
		key        string
		wantCode   string
		wantStatus keygate.KeyStatus
	}{
		{"OKValid", canary, "", keygate.KeyStatusValid},
		{"OKUnverifiableSavedUnknown", "sk-" + clienttest.UnverifiableMarker + "-canary-xK7q", "", keygate.KeyStatusUnknown},
		{"ErrRejected", "sk-" + clienttest.RejectedMarker + "-canary-xK7q", keygate.CodeKeyRejected, ""},
		{"ErrFormat", "canary-xK7q", keygate.CodeInvalidKeyFormat, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, c := MustFake(t)
			ch, err := c.PutKeyTested(context.Background(), "platform", "openai", keygate.NewSecret(tc.key))
			if got := keygate.ErrorCode(err); got != tc.wantCode {
				t.Fatalf("code = %q, want %q (error %v)", got, tc.wantCode, err)
			}
			if r := s.Requests()[0]; r.Method != "PUT" || r.Path != "/api/v1/platform/keys/openai" || r.Query != "test=true" {
				t.Errorf("request = %s %s?%s, want PUT /api/v1/platform/keys/openai?test=true", r.Method, r.Path, r.Query)
			}
			if err != nil {
				if strings.Contains(err.Error(), "canary") {
					t.Errorf("error %q contains the key", err)
				}
				if _, err := c.GetKey(context.Background(), "platform", "openai"); !keygate.IsCode(err, keygate.CodeNotFound) {
					t.Errorf("a refused key was stored (GetKey: %v)", err)
				}
				return
			}
			if ch.Key.Status != tc.wantStatus || ch.Rotated || ch.Key.Version != 1 {
				t.Errorf("stored key = %+v (rotated %v), want version 1, status %s", ch.Key, ch.Rotated, tc.wantStatus)
			}
		})
	}
}

func TestKeyVersionsAndRollback(t *testing.T) {
	for _, owner := range []string{"acme", "platform"} {
		t.Run(owner, func(t *testing.T) {
			s, c := MustFake(t)
			ctx := context.Background()
			MustTenant(t, c, "acme")
			v1 := MustPutKey(t, c, owner, "openai", "sk-first-key-aaaa")
			v2 := MustPutKey(t, c, owner, "openai", "sk-second-key-bbbb")

			vs, err := c.ListKeyVersions(ctx, owner, "openai")
			if err != nil {
				t.Fatal(err)
			}
			at := func(n int) *time.Time { t := clienttest.Start().Add(time.Duration(n) * time.Second); return &t }
			want := []client.KeyVersion{
				{KeyID: v1.ID, Version: 2, Hint: "...bbbb", Fingerprint: v2.Fingerprint, Current: true, CreatedBy: "at_bootstrap", CreatedAt: *at(3)},
				{KeyID: v1.ID, Version: 1, Hint: "...aaaa", Fingerprint: v1.Fingerprint, CreatedBy: "at_bootstrap", CreatedAt: *at(2), SupersededAt: at(3)},
			}
			if diff := cmp.Diff(want, vs); diff != "" {
				t.Errorf("ListKeyVersions (-want +got):\n%s", diff)
			}

			k, err := c.RollbackKey(ctx, owner, "openai")
			if err != nil {
				t.Fatal(err)
			}
			if k.Version != 1 || k.Hint != "...aaaa" || k.Status != keygate.KeyStatusUnknown {
				t.Errorf("RollbackKey = %+v, want version 1, hint ...aaaa, status unknown", k)
			}
			wantPath := "/api/v1/tenants/acme/keys/openai:rollback"
			if owner == "platform" {
				wantPath = "/api/v1/platform/keys/openai:rollback"
			}
			if r := s.Requests()[4]; r.Method != "POST" || r.Path != wantPath {
				t.Errorf("rollback request = %s %s, want POST %s", r.Method, r.Path, wantPath)
			}
			// Version 1 is the oldest: nothing earlier to restore.
			if _, err := c.RollbackKey(ctx, owner, "openai"); !keygate.IsCode(err, keygate.CodeConflict) {
				t.Errorf("second rollback: %v, want conflict", err)
			}
			// A rotation after a rollback gets a new version number.
			if k := MustPutKey(t, c, owner, "openai", "sk-third-key-cccc"); k.Version != 3 {
				t.Errorf("version after rollback and rotation = %d, want 3", k.Version)
			}
			s.DestroySuperseded()
			_, err = c.RollbackKey(ctx, owner, "openai")
			if !keygate.IsCode(err, keygate.CodeConflict) || !strings.Contains(keygate.ErrorMessage(err), "destroyed") {
				t.Errorf("rollback to destroyed versions: %v, want conflict saying they were destroyed", err)
			}
		})
	}
}

func TestKeyLifecycleErrors(t *testing.T) {
	_, c := MustFake(t)
	ctx := context.Background()
	tests := []struct {
		name     string
		call     func() error
		wantCode string
	}{
		{"VersionsErrNoProvider", func() error { _, err := c.ListKeyVersions(ctx, "platform", ""); return err }, keygate.CodeInvalidRequest},
		{"VersionsErrNoOwner", func() error { _, err := c.ListKeyVersions(ctx, "", "openai"); return err }, keygate.CodeInvalidRequest},
		{"VersionsErrNotFound", func() error { _, err := c.ListKeyVersions(ctx, "platform", "openai"); return err }, keygate.CodeNotFound},
		{"RollbackErrNoProvider", func() error { _, err := c.RollbackKey(ctx, "platform", " "); return err }, keygate.CodeInvalidRequest},
		{"RollbackErrNotFound", func() error { _, err := c.RollbackKey(ctx, "platform", "openai"); return err }, keygate.CodeNotFound},
		{"RollbackErrUnknownProvider", func() error { _, err := c.RollbackKey(ctx, "platform", "nope"); return err }, keygate.CodeUnknownProvider},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := keygate.ErrorCode(tc.call()); got != tc.wantCode {
				t.Errorf("code = %q, want %q", got, tc.wantCode)
			}
		})
	}
}

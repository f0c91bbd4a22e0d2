// SPDX-License-Identifier: Apache-2.0

package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/keygate/keygate"
)

// MustPutPolicy stores p with a policy.updated event and fails tb on error.
func MustPutPolicy(tb testing.TB, s keygate.Store, p keygate.TenantPolicy) keygate.TenantPolicy {
	tb.Helper()
	got, err := s.PutPolicy(tb.Context(), p, event(keygate.ActionPolicyUpdated, p.Tenant))
	if err != nil {
		tb.Fatalf("PutPolicy(%s): %v", p.Tenant, err)
	}
	return got
}

// defaultTenantPolicy is what GetPolicy returns for a tenant that never set
// a policy. Providers is empty but not nil: callers may range over it or
// index it, and cmp.Diff (without EquateEmpty) tells the two apart.
func defaultTenantPolicy(id keygate.TenantID) keygate.TenantPolicy {
	return keygate.TenantPolicy{Tenant: id, Default: keygate.DefaultPolicy(), Providers: map[string]keygate.Policy{}}
}

func testPolicies(t *testing.T, e *env) {
	acme := MustCreateTenant(t, e.s, "acme")
	other := MustCreateTenant(t, e.s, "other")
	get := func(id keygate.TenantID) keygate.TenantPolicy {
		t.Helper()
		got, err := e.s.GetPolicy(e.ctx, id)
		if err != nil {
			t.Fatalf("GetPolicy(%s): %v", id, err)
		}
		return got
	}
	if diff := cmp.Diff(defaultTenantPolicy(acme.ID), get(acme.ID)); diff != "" {
		t.Errorf("GetPolicy(never set) (-want +got):\n%s", diff)
	}

	// Each step replaces the whole policy; what a step leaves out is gone.
	steps := []struct {
		name   string
		policy keygate.TenantPolicy
		want   keygate.TenantPolicy // UpdatedAt is filled in
	}{
		{
			name: "DefaultAndOverrides",
			policy: keygate.TenantPolicy{
				Tenant:  acme.ID,
				Default: keygate.Policy{Mode: keygate.ModeTenantThenPlatform, FallbackOnError: true},
				Providers: map[string]keygate.Policy{
					"openai":    {Mode: keygate.ModeTenantOnly, AllowRequestKeys: true},
					"anthropic": {Mode: keygate.ModePlatformOnly},
					"exa":       {Mode: keygate.ModeTenantThenPlatform, AllowRequestKeys: true, FallbackOnError: true},
				},
			},
			want: keygate.TenantPolicy{
				Tenant:  acme.ID,
				Default: keygate.Policy{Mode: keygate.ModeTenantThenPlatform, FallbackOnError: true},
				Providers: map[string]keygate.Policy{
					"openai":    {Mode: keygate.ModeTenantOnly, AllowRequestKeys: true},
					"anthropic": {Mode: keygate.ModePlatformOnly},
					"exa":       {Mode: keygate.ModeTenantThenPlatform, AllowRequestKeys: true, FallbackOnError: true},
				},
			},
		},
		{
			name: "FewerOverrides",
			policy: keygate.TenantPolicy{
				Tenant:    acme.ID,
				Default:   keygate.Policy{Mode: keygate.ModeTenantOnly},
				Providers: map[string]keygate.Policy{"anthropic": {Mode: keygate.ModeTenantThenPlatform, AllowRequestKeys: true}},
			},
			want: keygate.TenantPolicy{
				Tenant:    acme.ID,
				Default:   keygate.Policy{Mode: keygate.ModeTenantOnly},
				Providers: map[string]keygate.Policy{"anthropic": {Mode: keygate.ModeTenantThenPlatform, AllowRequestKeys: true}},
			},
		},
		{
			name:   "NilProviders",
			policy: keygate.TenantPolicy{Tenant: acme.ID, Default: keygate.Policy{Mode: keygate.ModePlatformOnly}},
			want:   keygate.TenantPolicy{Tenant: acme.ID, Default: keygate.Policy{Mode: keygate.ModePlatformOnly}, Providers: map[string]keygate.Policy{}},
		},
		{
			name: "IgnoresCallerUpdatedAt",
			policy: keygate.TenantPolicy{Tenant: acme.ID, Default: keygate.DefaultPolicy(),
				Providers: map[string]keygate.Policy{"google": {Mode: keygate.ModeTenantOnly}}, UpdatedAt: start.Add(-time.Hour)},
			want: keygate.TenantPolicy{Tenant: acme.ID, Default: keygate.DefaultPolicy(),
				Providers: map[string]keygate.Policy{"google": {Mode: keygate.ModeTenantOnly}}},
		},
	}
	for _, tc := range steps {
		t.Run(tc.name, func(t *testing.T) {
			e.clock.Advance(time.Second)
			want := tc.want
			want.UpdatedAt = e.now()
			got, err := e.s.PutPolicy(e.ctx, tc.policy, event(keygate.ActionPolicyUpdated, acme.ID))
			if err != nil {
				t.Fatalf("PutPolicy: %v", err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("PutPolicy (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(want, get(acme.ID)); diff != "" {
				t.Errorf("GetPolicy (-want +got):\n%s", diff)
			}
		})
	}

	// The store keeps its own copy: changing the caller's map afterwards
	// changes nothing stored or returned.
	mine := map[string]keygate.Policy{"openai": {Mode: keygate.ModeTenantOnly}}
	put := MustPutPolicy(t, e.s, keygate.TenantPolicy{Tenant: acme.ID, Default: keygate.DefaultPolicy(), Providers: mine})
	mine["openai"] = keygate.Policy{Mode: keygate.ModePlatformOnly}
	mine["mistral"] = keygate.Policy{Mode: keygate.ModePlatformOnly}
	if diff := cmp.Diff(put, get(acme.ID)); diff != "" {
		t.Errorf("GetPolicy after the caller changed its map (-want +got):\n%s", diff)
	}
	if got := put.For("openai").Mode; got != keygate.ModeTenantOnly {
		t.Errorf("PutPolicy result changed with the caller's map: openai mode %s", got)
	}

	// Another tenant's policy is untouched by all of it.
	if diff := cmp.Diff(defaultTenantPolicy(other.ID), get(other.ID)); diff != "" {
		t.Errorf("GetPolicy(other tenant) (-want +got):\n%s", diff)
	}

	evs := MustVerifyChain(t, e.s)
	var policyEvents int
	for _, ev := range evs {
		if ev.Action == keygate.ActionPolicyUpdated {
			policyEvents++
			if ev.Tenant != acme.ID {
				t.Errorf("policy.updated event for tenant %q, want %s", ev.Tenant, acme.ID)
			}
		}
	}
	if want := len(steps) + 1; policyEvents != want {
		t.Errorf("%d policy.updated events, want %d (one per PutPolicy)", policyEvents, want)
	}
}

func testPolicyErrors(t *testing.T, e *env) {
	acme := MustCreateTenant(t, e.s, "acme")
	stored := MustPutPolicy(t, e.s, keygate.TenantPolicy{Tenant: acme.ID, Default: keygate.Policy{Mode: keygate.ModeTenantOnly},
		Providers: map[string]keygate.Policy{"openai": {Mode: keygate.ModePlatformOnly}}})
	head := mustHead(t, e.s)
	valid := keygate.Policy{Mode: keygate.ModeTenantThenPlatform}
	tests := []struct {
		name   string
		policy keygate.TenantPolicy
		code   string
	}{
		{"ErrUnknownTenant", keygate.TenantPolicy{Tenant: "tn_nope", Default: valid}, keygate.CodeNotFound},
		{"ErrNoTenant", keygate.TenantPolicy{Default: valid}, keygate.CodeInvalidRequest},
		{"ErrNoDefaultMode", keygate.TenantPolicy{Tenant: acme.ID}, keygate.CodeInvalidRequest},
		{"ErrBadDefaultMode", keygate.TenantPolicy{Tenant: acme.ID, Default: keygate.Policy{Mode: "yolo"}}, keygate.CodeInvalidRequest},
		{"ErrBadProviderMode", keygate.TenantPolicy{Tenant: acme.ID, Default: valid,
			Providers: map[string]keygate.Policy{"openai": valid, "anthropic": {Mode: "tenant_first"}}}, keygate.CodeInvalidRequest},
		{"ErrEmptyProvider", keygate.TenantPolicy{Tenant: acme.ID, Default: valid,
			Providers: map[string]keygate.Policy{"": valid}}, keygate.CodeInvalidRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e.clock.Advance(time.Second)
			_, err := e.s.PutPolicy(e.ctx, tc.policy, event(keygate.ActionPolicyUpdated, tc.policy.Tenant))
			wantCode(t, "PutPolicy", err, tc.code)
			if got := mustHead(t, e.s); got != head {
				t.Errorf("audit head moved from %d to %d on a failed PutPolicy", head, got)
			}
			got, err := e.s.GetPolicy(e.ctx, acme.ID)
			if err != nil {
				t.Fatalf("GetPolicy: %v", err)
			}
			if diff := cmp.Diff(stored, got); diff != "" {
				t.Errorf("GetPolicy after a failed PutPolicy (-want +got):\n%s", diff)
			}
		})
	}
	_, err := e.s.GetPolicy(e.ctx, "tn_nope")
	wantCode(t, "GetPolicy(unknown tenant)", err, keygate.CodeNotFound)
	// Nothing was written for the unknown tenant: once it exists, it has
	// the default policy.
	nope := MustCreateTenant(t, e.s, "nope")
	got, err := e.s.GetPolicy(e.ctx, nope.ID)
	if err != nil {
		t.Fatalf("GetPolicy(tn_nope): %v", err)
	}
	if diff := cmp.Diff(defaultTenantPolicy(nope.ID), got); diff != "" {
		t.Errorf("GetPolicy(tenant created after a failed PutPolicy) (-want +got):\n%s", diff)
	}
	MustVerifyChain(t, e.s)
}

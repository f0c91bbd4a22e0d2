// SPDX-License-Identifier: Apache-2.0

package main

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/client"
)

func TestPolicyCommands(t *testing.T) {
	s := MustFake(t)
	MustTenant(t, s, "acme")
	const header = "PROVIDER  MODE                  REQUEST_KEYS  FALLBACK\n"
	const short = "" +
		"PROVIDER  MODE           REQUEST_KEYS  FALLBACK\n" +
		"*         platform_only  true          false\n" +
		"openai    tenant_only    true          false\n"
	steps := []struct {
		name string
		args []string
		want result
	}{
		{"GetDefaults", []string{"policy", "get", "--tenant", "acme"}, result{stdout: header +
			"*         tenant_then_platform  false         false\n"}},
		{"SetDefault", []string{"policy", "set", "--tenant", "acme", "--allow-request-keys=true"}, result{stdout: header +
			"*         tenant_then_platform  true          false\n"}},
		// A new override starts from the default: only the mode differs.
		{"SetProviderMode", []string{"policy", "set", "--tenant", "acme", "--provider", "openai", "--mode", "tenant_only"}, result{stdout: header +
			"*         tenant_then_platform  true          false\n" +
			"openai    tenant_only           true          false\n"}},
		{"SetProviderFallback", []string{"policy", "set", "--tenant", "tn_0001", "--provider", "anthropic", "--fallback-on-error", "--allow-request-keys=false"}, result{stdout: "" +
			"PROVIDER   MODE                  REQUEST_KEYS  FALLBACK\n" +
			"*          tenant_then_platform  true          false\n" +
			"anthropic  tenant_then_platform  false         true\n" +
			"openai     tenant_only           true          false\n"}},
		// Changing the default leaves the overrides alone.
		{"SetDefaultStar", []string{"policy", "set", "--tenant", "acme", "--provider", "*", "--mode", "platform_only"}, result{stdout: "" +
			"PROVIDER   MODE                  REQUEST_KEYS  FALLBACK\n" +
			"*          platform_only         true          false\n" +
			"anthropic  tenant_then_platform  false         true\n" +
			"openai     tenant_only           true          false\n"}},
		{"Clear", []string{"policy", "set", "--tenant", "acme", "--provider", "anthropic", "--clear"}, result{stdout: short}},
		{"ClearAgain", []string{"policy", "set", "--tenant", "acme", "--provider", "anthropic", "--clear"}, result{exit: exitNotFound,
			stderr: "keygate: tenant acme has no policy override for anthropic; nothing to clear (not_found)\n"}},
		{"Unchanged", []string{"policy", "set", "--tenant", "acme", "--provider", "openai", "--mode", "tenant_only"}, result{
			stdout: short,
			stderr: "the policy of tenant acme already says so; nothing changed\n"}},
		{"UnknownProvider", []string{"policy", "set", "--tenant", "acme", "--provider", "nope", "--mode", "tenant_only"}, result{exit: exitInvalid,
			stderr: "keygate: Unknown provider \"nope\". (unknown_provider)\n"}},
		{"UnknownTenant", []string{"policy", "get", "--tenant", "nope"}, result{exit: exitNotFound,
			stderr: "keygate: Tenant \"nope\" not found. (not_found)\n"}},
	}
	for _, st := range steps {
		got := MustRun(t, s, "", st.args...)
		if diff := cmp.Diff(st.want, got, cmp.AllowUnexported(result{})); diff != "" {
			t.Errorf("%s: (-want +got):\n%s", st.name, diff)
		}
	}

	// Only changes were sent: the unchanged step and the clear of nothing
	// wrote nothing (the unknown provider's PUT was refused).
	puts := 0
	for _, r := range s.Requests() {
		if r.Method == "PUT" {
			puts++
		}
	}
	if puts != 6 {
		t.Errorf("%d PUTs, want 6", puts)
	}

	var p client.Policy
	r := MustRun(t, s, "", "policy", "get", "--tenant", "acme", "--json")
	if err := json.Unmarshal([]byte(r.stdout), &p); err != nil {
		t.Fatalf("get --json: %q: %v", r.stdout, err)
	}
	want := client.Policy{
		Tenant:    "tn_0001",
		Default:   client.PolicyRule{Mode: keygate.ModePlatformOnly, AllowRequestKeys: true},
		Providers: map[string]client.PolicyRule{"openai": {Mode: keygate.ModeTenantOnly, AllowRequestKeys: true}},
	}
	if diff := cmp.Diff(want, p, cmp.FilterPath(func(p cmp.Path) bool { return p.String() == "UpdatedAt" }, cmp.Ignore())); diff != "" || p.UpdatedAt == nil {
		t.Errorf("get --json (-want +got):\n%s\nupdated_at: %v", diff, p.UpdatedAt)
	}
	var raw map[string]any
	_ = json.Unmarshal([]byte(MustRun(t, s, "", "policy", "set", "--tenant", "acme", "--mode", "tenant_then_platform", "--json").stdout), &raw)
	for _, k := range []string{"tenant", "default", "providers", "updated_at"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("set --json: no %q in %v", k, raw)
		}
	}
}

// TestTenantUpdateBYOK checks that BYOK can be withdrawn and granted again.
func TestTenantUpdateBYOK(t *testing.T) {
	s := MustFake(t)
	MustTenant(t, s, "acme")
	for _, v := range []bool{false, true} {
		r := MustRun(t, s, "", "tenant", "update", "acme", "--byok="+map[bool]string{false: "false", true: "true"}[v], "--json")
		var tn client.Tenant
		if err := json.Unmarshal([]byte(r.stdout), &tn); err != nil || tn.BYOKEnabled != v {
			t.Errorf("tenant update --byok=%v: exit %d, stdout %q, stderr %q", v, r.exit, r.stdout, r.stderr)
		}
	}
}

// SPDX-License-Identifier: Apache-2.0

package main

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/keygate/keygate/internal/client"
)

func TestLimitsCommands(t *testing.T) {
	s := MustFake(t)
	MustTenant(t, s, "acme")
	const header = "PROVIDER  RPM  TPM    APPLIES_TO\n"
	runSteps(t, s, []step{
		{"GetNone", []string{"limits", "get", "--tenant", "acme"}, result{stdout: "PROVIDER  RPM  TPM  APPLIES_TO\n"}},
		{"SetAll", []string{"limits", "set", "--tenant", "acme", "--rpm", "60"}, result{stdout: "" +
			"PROVIDER  RPM  TPM  APPLIES_TO\n" +
			"*         60   -    platform\n"}},
		{"SetProvider", []string{"limits", "set", "--tenant", "acme", "--provider", "openai", "--tpm", "10000", "--applies-to", "all"}, result{stdout: header +
			"*         60   -      platform\n" +
			"openai    -    10000  all\n"}},
		{"ChangeStar", []string{"limits", "set", "--tenant", "acme", "--provider", "*", "--rpm", "0", "--tpm", "5000"}, result{stdout: header +
			"*         -    5000   platform\n" +
			"openai    -    10000  all\n"}},
		{"Unchanged", []string{"limits", "set", "--tenant", "acme", "--provider", "openai", "--tpm", "10000"}, result{stdout: header +
			"*         -    5000   platform\n" +
			"openai    -    10000  all\n",
			stderr: "the rate limits of tenant acme already say so; nothing changed\n"}},
		{"Clear", []string{"limits", "set", "--tenant", "acme", "--clear"}, result{stdout: "" +
			"PROVIDER  RPM  TPM    APPLIES_TO\n" +
			"openai    -    10000  all\n"}},
		{"ClearAgain", []string{"limits", "set", "--tenant", "acme", "--clear"}, result{exit: exitNotFound,
			stderr: "keygate: tenant acme has no rate limit for all providers together (*); nothing to clear (not_found)\n"}},
		{"UnknownProvider", []string{"limits", "set", "--tenant", "acme", "--provider", "nope", "--rpm", "1"}, result{exit: exitInvalid,
			stderr: "keygate: Unknown provider \"nope\" in limits. (unknown_provider)\n"}},
		{"Negative", []string{"limits", "set", "--tenant", "acme", "--rpm", "-1"}, result{exit: exitUsage,
			stderr: "keygate: limits set: invalid value \"-1\" for flag -rpm: want a whole number, 0 for no cap (usage)\nRun 'keygate help' for usage.\n"}},
		{"ClearWithValues", []string{"limits", "set", "--tenant", "acme", "--clear", "--rpm", "1"}, result{exit: exitUsage,
			stderr: "keygate: limits set: --clear removes the limit; it takes no --rpm, --tpm or --applies-to (usage)\nRun 'keygate help' for usage.\n"}},
		{"Nothing", []string{"limits", "set", "--tenant", "acme", "--provider", "openai"}, result{exit: exitUsage,
			stderr: "keygate: limits set: nothing to change: give --rpm, --tpm, --applies-to or --clear (usage)\nRun 'keygate help' for usage.\n"}},
	})
	if n := countPUTs(s); n != 5 {
		t.Errorf("%d PUTs, want 5", n)
	}
	var l client.RateLimits
	r := MustRun(t, s, "", "limits", "get", "--tenant", "acme", "--json")
	if err := json.Unmarshal([]byte(r.stdout), &l); err != nil {
		t.Fatalf("get --json: %q: %v", r.stdout, err)
	}
	want := client.RateLimits{Tenant: "tn_0001", Limits: []client.RateLimit{{Provider: "openai", TPM: 10000, AppliesTo: "all"}}}
	if diff := cmp.Diff(want, l); diff != "" {
		t.Errorf("get --json (-want +got):\n%s", diff)
	}
}

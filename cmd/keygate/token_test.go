// SPDX-License-Identifier: Apache-2.0

package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/keygate/keygate/internal/client"
)

func TestTokenCommands(t *testing.T) {
	s := MustFake(t)
	MustTenant(t, s, "acme")

	r := MustRun(t, s, "", "token", "create", "--tenant", "acme", "--name", "web", "--expires-in", "90d")
	token := strings.TrimSpace(r.stdout)
	if r.exit != 0 || !strings.HasPrefix(token, "kg_") || strings.Count(r.stdout, "\n") != 1 {
		t.Fatalf("create: exit %d, stdout %q, stderr %q; want the token alone on one line", r.exit, r.stdout, r.stderr)
	}
	wantStderr := "created gateway token gt_0003 (web) for tenant tn_0001; it is shown only once, store it now:\n"
	if r.stderr != wantStderr {
		t.Errorf("create: stderr %q, want %q", r.stderr, wantStderr)
	}

	// Without --name the token is named "default"; --json prints the object
	// with its token.
	r = MustRun(t, s, "", "token", "create", "--tenant", "tn_0001", "--json")
	var created struct {
		client.GatewayToken
		Token string `json:"token"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &created); err != nil || !strings.HasPrefix(created.Token, created.Prefix) || created.Name != "default" || r.stderr != "" {
		t.Errorf("create --json: stdout %q, stderr %q (%v); want the object named default with its token", r.stdout, r.stderr, err)
	}

	steps := []struct {
		name string
		args []string
		want result
	}{
		{"List", []string{"token", "list", "--tenant", "acme"}, result{stdout: "" +
			"ID       NAME     PREFIX   CREATED               EXPIRES               LAST USED  REVOKED  SCOPE\n" +
			"gt_0005  default  kg_fake  2025-01-02T03:04:08Z  -                     -          -        -\n" +
			"gt_0003  web      kg_fake  2025-01-02T03:04:07Z  2025-04-02T03:04:07Z  -          -        -\n"}},
		{"Revoke", []string{"token", "revoke", "--tenant", "acme", "gt_0003"}, result{stdout: "revoked gateway token gt_0003 of tenant acme\n"}},
		{"RevokeAgain", []string{"token", "revoke", "gt_0003", "--tenant", "acme"}, result{exit: exitNotFound,
			stderr: "keygate: No active gateway token \"gt_0003\" for tenant tn_0001. (not_found)\n"}},
		{"ListAfterRevoke", []string{"token", "list", "--tenant", "acme"}, result{stdout: "" +
			"ID       NAME     PREFIX   CREATED               EXPIRES               LAST USED  REVOKED               SCOPE\n" +
			"gt_0005  default  kg_fake  2025-01-02T03:04:08Z  -                     -          -                     -\n" +
			"gt_0003  web      kg_fake  2025-01-02T03:04:07Z  2025-04-02T03:04:07Z  -          2025-01-02T03:04:10Z  -\n"}},
		{"Scope", []string{"token", "scope", "--tenant", "acme", "gt_0005", "--providers", "openai,anthropic", "--models", "gpt-4o*,claude-sonnet-4-5", "--daily-usd", "5.00", "--rpm", "60"},
			result{stdout: "gateway token gt_0005 of tenant tn_0001: scope providers openai,anthropic; models gpt-4o*,claude-sonnet-4-5; $5/day; 60 rpm\n"}},
		{"ScopeNothing", []string{"token", "scope", "--tenant", "acme", "gt_0005"}, result{exit: exitUsage,
			stderr: "keygate: token scope: nothing to set: give --providers, --models, --daily-usd, --monthly-usd, --daily-tokens, --monthly-tokens, --rpm or --tpm (the whole scope is replaced), or --clear (usage)\nRun 'keygate help' for usage.\n"}},
		{"ScopeClearAndFlags", []string{"token", "scope", "--tenant", "acme", "--clear", "--rpm", "1", "gt_0005"}, result{exit: exitUsage,
			stderr: "keygate: token scope: give either --clear or the scope's flags, not both (usage)\nRun 'keygate help' for usage.\n"}},
		{"ScopeTheToken", []string{"token", "scope", "--tenant", "acme", "--rpm", "1", "kg_secretvalue"}, result{exit: exitUsage,
			stderr: "keygate: token scope: give the token's id (gt_..., see keygate token list), not the token itself (usage)\nRun 'keygate help' for usage.\n"}},
		{"ListScoped", []string{"token", "list", "--tenant", "acme"}, result{stdout: "" +
			"ID       NAME     PREFIX   CREATED               EXPIRES               LAST USED  REVOKED               SCOPE\n" +
			"gt_0005  default  kg_fake  2025-01-02T03:04:08Z  -                     -          -                     providers openai,anthropic; models gpt-4o*,claude-sonnet-4-5; $5/day; 60 rpm\n" +
			"gt_0003  web      kg_fake  2025-01-02T03:04:07Z  2025-04-02T03:04:07Z  -          2025-01-02T03:04:10Z  -\n"}},
		{"ScopeClear", []string{"token", "scope", "--tenant", "acme", "--clear", "gt_0005"}, result{stdout: "gateway token gt_0005 of tenant tn_0001: scope -\n"}},
		{"UnknownTenant", []string{"token", "list", "--tenant", "nope"}, result{exit: exitNotFound,
			stderr: "keygate: Tenant \"nope\" not found. (not_found)\n"}},
	}
	for _, st := range steps {
		got := MustRun(t, s, "", st.args...)
		if diff := cmp.Diff(st.want, got, cmp.AllowUnexported(result{})); diff != "" {
			t.Errorf("%s: (-want +got):\n%s", st.name, diff)
		}
	}

	var l client.GatewayTokenList
	if err := json.Unmarshal([]byte(MustRun(t, s, "", "token", "list", "--tenant", "acme", "--json").stdout), &l); err != nil || len(l.Tokens) != 2 {
		t.Errorf("list --json: %d tokens (%v), want 2", len(l.Tokens), err)
	}
	MustTenant(t, s, "empty")
	if r := MustRun(t, s, "", "token", "list", "--tenant", "empty", "--json"); r.stdout != "{\n  \"tokens\": []\n}\n" {
		t.Errorf("list --json of a tenant without tokens = %q, want an empty list", r.stdout)
	}
	for _, req := range s.Requests() {
		if strings.Contains(req.Path, token) || strings.Contains(req.Query, token) {
			t.Errorf("the gateway token went back to the server in %s %s", req.Method, req.Path)
		}
	}
}

// TestTokenCreateScoped: the scope flags of `token create` reach the server
// as the new token's scope.
func TestTokenCreateScoped(t *testing.T) {
	s := MustFake(t)
	MustTenant(t, s, "acme")
	r := MustRun(t, s, "", "token", "create", "--tenant", "acme", "--name", "bot", "--json",
		"--providers", "openai, anthropic", "--models", "gpt-4o*", "--daily-usd", "5", "--monthly-tokens", "100000", "--tpm", "2000")
	var created client.GatewayToken
	if err := json.Unmarshal([]byte(r.stdout), &created); err != nil || r.exit != 0 {
		t.Fatalf("create: exit %d, %q (%v)", r.exit, r.stderr, err)
	}
	five, tokens := "5", int64(100000)
	want := client.TokenScope{Providers: []string{"openai", "anthropic"}, Models: []string{"gpt-4o*"}, DailyUSD: &five, MonthlyTokens: &tokens, TPM: 2000}
	if diff := cmp.Diff(want, created.Scope); diff != "" {
		t.Errorf("scope (-want +got):\n%s", diff)
	}
	if r := MustRun(t, s, "", "token", "create", "--tenant", "acme", "--daily-usd", "lots"); r.exit != exitUsage {
		t.Errorf("a bad --daily-usd: exit %d, want %d", r.exit, exitUsage)
	}
}

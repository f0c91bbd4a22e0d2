// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/client"
	"github.com/keygate/keygate/internal/fakeprovider"
)

// TestServeTokenScopes: end to end on a real server and the CLI, a token
// created with --providers openai calls OpenAI and is refused Anthropic
// (403 token_scope_provider); `token scope` turns that around for the very
// next call; `usage --group-by token` sums each token's calls.
func TestServeTokenScopes(t *testing.T) {
	fake := fakeprovider.Start(t)
	env := fakeProviderEnv(fake)
	s := MustServe(t, t.TempDir(), env)
	ctx := context.Background()
	c, _ := client.New(s.URL, keygate.NewSecret(s.Token))
	if _, err := c.CreateTenant(ctx, client.CreateTenantParams{Name: "acme"}); err != nil {
		t.Fatal(err)
	}
	for p, k := range map[string]string{"openai": "sk-acmeOpenAIKey000000000000", "anthropic": "sk-ant-acmeAnthropicKey0000000000000000000"} {
		if _, err := c.PutKey(ctx, "acme", p, keygate.NewSecret(k)); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	r := cliRun(t, s, s.Token, "", &out, "token", "create", "--tenant", "acme", "--name", "bot", "--providers", "openai", "--models", "gpt-4o*", "--json")
	var scoped struct {
		client.GatewayToken
		Token string `json:"token"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &scoped); err != nil || r.exit != 0 {
		t.Fatalf("token create: exit %d %s (%v)", r.exit, r.stderr, err)
	}
	free, err := c.CreateGatewayToken(ctx, "acme", "free")
	if err != nil {
		t.Fatal(err)
	}
	gpt := `{"model":"gpt-4o","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`
	claude := `{"model":"claude-sonnet-4-5","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`
	expect := func(what, tok, body string, status int, code string) {
		t.Helper()
		st, _, b := gatewayCall(t, s, tok, body)
		var e struct{ Error struct{ Code string } }
		_ = json.Unmarshal(b, &e)
		if st != status || e.Error.Code != code {
			t.Fatalf("%s: %d %s, want %d %q", what, st, b, status, code)
		}
	}
	expect("scoped gpt-4o", scoped.Token, gpt, 200, "")
	expect("scoped claude", scoped.Token, claude, 403, keygate.CodeTokenScopeProvider)
	expect("free claude", free.Token.Reveal(), claude, 200, "")
	expect("free gpt-4o", free.Token.Reveal(), gpt, 200, "")

	if r := cliRun(t, s, s.Token, "", &out, "token", "scope", "--tenant", "acme", scoped.ID, "--providers", "anthropic"); r.exit != 0 {
		t.Fatalf("token scope: exit %d %s", r.exit, r.stderr)
	}
	expect("rescoped claude", scoped.Token, claude, 200, "")
	expect("rescoped gpt-4o", scoped.Token, gpt, 403, keygate.CodeTokenScopeProvider)

	token := s.Token
	s.Stop(t) // drains the ledger
	s = MustServe(t, s.DataDir, env)
	s.Token = token
	r = cliRun(t, s, s.Token, "", &out, "usage", "--tenant", "acme", "--group-by", "token", "--json")
	var rep client.UsageReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || r.exit != 0 {
		t.Fatalf("usage: exit %d %s (%v)", r.exit, r.stderr, err)
	}
	got := map[string]int64{}
	for _, row := range rep.Rows {
		got[row.Token] = row.Requests
	}
	want := map[string]int64{scoped.ID: 2, free.ID: 2}
	if len(got) != len(want) || got[scoped.ID] != 2 || got[free.ID] != 2 {
		t.Errorf("usage by token %v, want %v", got, want)
	}
}

// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/client"
	"github.com/keygate/keygate/internal/fakeprovider"
)

// TestServePricesImport: `keygate prices import` loads a LiteLLM price list
// into the database as a version; `prices list` shows the table in effect
// (imported prices over the built-in ones); the gateway costs calls with
// it at once and after a restart; the same file twice is one version; a
// bad file imports nothing; the import is audited.
func TestServePricesImport(t *testing.T) {
	fake := fakeprovider.Start(t)
	env := fakeProviderEnv(fake)
	s := MustServe(t, t.TempDir(), env)
	cliEnv := map[string]string{"KEYGATE_ADDR": s.URL, "KEYGATE_TOKEN": s.Token}
	ctx := context.Background()
	c, _ := client.New(s.URL, keygate.NewSecret(s.Token))
	if _, err := c.CreateTenant(ctx, client.CreateTenantParams{Name: "acme"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutKey(ctx, "acme", "openai", keygate.NewSecret("sk-tenantKeyOfacme000000000000")); err != nil {
		t.Fatal(err)
	}
	tok, err := c.CreateGatewayToken(ctx, "acme", "app")
	if err != nil {
		t.Fatal(err)
	}
	call := func(model string) {
		t.Helper()
		if st, _, b := gatewayCall(t, s, tok.Token.Reveal(), `{"model":"`+model+`","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`); st != 200 {
			t.Fatalf("%s: %d %s", model, st, b)
		}
	}
	call("gpt-odd") // before the import: no price, estimated

	const sample = "../../internal/pricing/testdata/litellm_sample.json"
	r := runEnv(t, cliEnv, "", "prices", "import", sample)
	if out := squash(r.stdout); r.exit != 0 || !strings.Contains(out, "version: 1\n") || !strings.Contains(out, "entries: 10\n") || !strings.Contains(out, "provider azure: 1") {
		t.Fatalf("prices import: exit %d\n%s%s", r.exit, r.stdout, r.stderr)
	}
	call("gpt-odd") // after: at the imported price

	// The same file again is the same version; a bad one imports nothing
	// and names the entry.
	if r := runEnv(t, cliEnv, "", "prices", "import", "--source", "litellm", sample); r.exit != 0 || !strings.Contains(squash(r.stdout), "version: 1\n") {
		t.Errorf("import again: exit %d\n%s%s", r.exit, r.stdout, r.stderr)
	}
	bad := `{"gpt-bad": {"litellm_provider": "openai", "input_cost_per_token": "lots"}}`
	if r := runEnv(t, cliEnv, bad, "prices", "import", "-"); r.exit != exitInvalid || !strings.Contains(r.stderr, `entry \"gpt-bad\"`) && !strings.Contains(r.stderr, `entry "gpt-bad"`) {
		t.Errorf("bad import: exit %d\n%s%s", r.exit, r.stdout, r.stderr)
	}

	check := func(when string) {
		t.Helper()
		r := runEnv(t, cliEnv, "", "prices", "list", "--provider", "openai", "--json")
		var tab client.PriceTable
		if err := json.Unmarshal([]byte(r.stdout), &tab); err != nil {
			t.Fatalf("%s: prices list --json: %v\n%s%s", when, err, r.stdout, r.stderr)
		}
		origin := map[string]client.Price{}
		for _, p := range tab.Prices {
			origin[p.Model] = p
		}
		if p := origin["gpt-5.1"]; p.Origin != "import" || p.Input != "1.25" || p.CachedInput != "0.125" {
			t.Errorf("%s: gpt-5.1 = %+v, want the imported price", when, p)
		}
		if p := origin["gpt-4o"]; p.Origin != "builtin" {
			t.Errorf("%s: gpt-4o = %+v, want the built-in price", when, p)
		}
		if len(tab.Versions) != 1 || tab.Versions[0].Entries != 10 || len(tab.Fallbacks) != 1 || tab.Fallbacks[0].Provider != "openai" {
			t.Errorf("%s: versions %+v, fallbacks %+v", when, tab.Versions, tab.Fallbacks)
		}
		if _, ok := origin["claude-opus-4-5"]; ok {
			t.Errorf("%s: --provider openai lists anthropic's models", when)
		}
	}
	check("after the import")
	if r := runEnv(t, cliEnv, "", "prices", "list"); r.exit != 0 || !strings.Contains(r.stdout, "* (fallback)") || !strings.Contains(squash(r.stdout), "import in effect: 1,") {
		t.Errorf("prices list: exit %d\n%s%s", r.exit, r.stdout, r.stderr)
	}

	token := s.Token
	s.Stop(t) // drains the ledger
	s = MustServe(t, s.DataDir, env)
	s.Token = token
	cliEnv["KEYGATE_ADDR"] = s.URL
	check("after a restart")

	var rep struct {
		Rows []struct {
			Model, Priced     string
			EstimatedRequests int64  `json:"estimated_requests"`
			CostUSD           string `json:"cost_usd"`
		}
	}
	jsonCall(t, s, "GET", "/api/v1/tenants/acme/usage?group_by=model", "", &rep)
	if len(rep.Rows) != 1 || rep.Rows[0].Model != "gpt-odd" || rep.Rows[0].Priced != "estimated" || rep.Rows[0].EstimatedRequests != 1 {
		t.Errorf("usage of gpt-odd, once estimated then priced: %+v", rep.Rows)
	}
	var audit struct {
		Events []struct {
			Action string
			Detail json.RawMessage
		}
	}
	jsonCall(t, s, "GET", "/api/v1/audit?action=prices.imported", "", &audit)
	if len(audit.Events) != 1 || !strings.Contains(string(audit.Events[0].Detail), `"entries":10`) {
		t.Errorf("audit of the imports: %+v", audit.Events)
	}
}

// squash collapses runs of spaces, so that a test reads aligned output
// without counting the padding.
func squash(s string) string {
	for strings.Contains(s, "  ") {
		s = strings.ReplaceAll(s, "  ", " ")
	}
	return s
}

// TestServeReplicasReloadPrices: a price list imported through one replica
// is in effect on the others (they hear it on the change feed and reload),
// and a replica started later loads it.
func TestServeReplicasReloadPrices(t *testing.T) {
	fake := fakeprovider.Start(t)
	rc := startReplicas(t, 2, fake)
	ctx := context.Background()
	list, err := os.ReadFile("../../internal/pricing/testdata/openrouter_models.json")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rc.client(t, 0).ImportPrices(ctx, "", list); err != nil {
		t.Fatal(err)
	}
	inEffect := func(i int) bool {
		tab, err := rc.client(t, i).Prices(ctx, "openrouter")
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range tab.Prices {
			if p.Model == "openai/gpt-5.1" && p.Origin == "import" && p.Input == "1.25" {
				return true
			}
		}
		return false
	}
	waitFor(t, "the import on the other replica", func() bool { return inEffect(1) })
	rc.servers = append(rc.servers, rc.start(t, 2))
	if !inEffect(2) {
		t.Error("a replica started after the import does not have it")
	}
}

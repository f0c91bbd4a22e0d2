// SPDX-License-Identifier: Apache-2.0

package pricing_test

import (
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/keygate/keygate/internal/pricing"
)

func readFile(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestImportLiteLLM(t *testing.T) {
	b := readFile(t, "testdata/litellm_sample.json")
	if got := pricing.DetectSource(b); got != pricing.SourceLiteLLM {
		t.Errorf("DetectSource = %q, want litellm", got)
	}
	im, err := pricing.ParseImport(pricing.SourceLiteLLM, b)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]pricing.Price{
		"openai": {
			// 1.25e-07 USD a token is 125000 micro-USD a million, exactly
			// (a float product would be 124999.99999999999).
			"gpt-5.1":                {Input: 1_250_000, Output: 10_000_000, CachedInput: 125_000},
			"gpt-4o-2024-08-06":      {Input: 2_500_000, Output: 10_000_000, CachedInput: 1_250_000},
			"text-embedding-3-large": {Input: 130_000, Output: 0, CachedInput: 130_000},
			// 0.1000000000000000055… rounds to 10¹¹; 3e-13 (0.3) to 0.
			"gpt-odd": {Input: 100_000_000_000, Output: 0, CachedInput: 100_000_000_000},
		},
		"anthropic": {"claude-opus-4-5-20251101": {Input: 5_000_000, Output: 25_000_000, CachedInput: 500_000}},
		"google": {
			// The Gemini API's price wins over Vertex AI's for one model.
			"gemini-3-pro-preview":      {Input: 2_000_000, Output: 12_000_000, CachedInput: 200_000},
			"gemini-2.0-flash-lite-001": {Input: 75_000, Output: 300_000, CachedInput: 75_000},
		},
		"mistral":    {"mistral-medium-latest": {Input: 400_000, Output: 2_000_000, CachedInput: 400_000}},
		"groq":       {"llama-3.3-70b-versatile": {Input: 590_000, Output: 790_000, CachedInput: 590_000}},
		"openrouter": {"anthropic/claude-sonnet-4.5": {Input: 3_000_000, Output: 15_000_000, CachedInput: 3_000_000}},
	}
	if diff := cmp.Diff(want, im.Prices); diff != "" {
		t.Errorf("prices (-want +got):\n%s", diff)
	}
	wantSkipped := map[string]int{
		"provider azure": 1, "provider bedrock": 1, "mode image_generation": 1, "mode audio_transcription": 1,
		"no token price": 1, "vertex_ai price of a gemini model": 1,
	}
	if diff := cmp.Diff(wantSkipped, im.Skipped); diff != "" {
		t.Errorf("skipped (-want +got):\n%s", diff)
	}
	if im.Count() != 10 {
		t.Errorf("Count = %d, want 10", im.Count())
	}
}

func TestImportOpenRouter(t *testing.T) {
	b := readFile(t, "testdata/openrouter_models.json")
	if got := pricing.DetectSource(b); got != pricing.SourceOpenRouter {
		t.Errorf("DetectSource = %q, want openrouter", got)
	}
	im, err := pricing.ParseImport(pricing.SourceOpenRouter, b)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]pricing.Price{"openrouter": {
		"openai/gpt-5.1":                         {Input: 1_250_000, Output: 10_000_000, CachedInput: 125_000},
		"anthropic/claude-sonnet-4.5":            {Input: 3_000_000, Output: 15_000_000, CachedInput: 300_000},
		"meta-llama/llama-3.3-70b-instruct:free": {},
	}}
	if diff := cmp.Diff(want, im.Prices); diff != "" {
		t.Errorf("prices (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]int{"variable price": 1}, im.Skipped); diff != "" {
		t.Errorf("skipped (-want +got):\n%s", diff)
	}
}

// TestImportBad: a file with one bad entry imports nothing and names it.
func TestImportBad(t *testing.T) {
	tests := []struct {
		name, source, body, want string
	}{
		{"NotJSON", pricing.SourceLiteLLM, `{`, "decode"},
		{"Trailing", pricing.SourceLiteLLM, `{} {}`, "after the JSON"},
		{"Negative", pricing.SourceLiteLLM, `{"gpt-x": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": -1e-06, "output_cost_per_token": 0}}`, `entry "gpt-x": input price "-1e-06" is negative`},
		{"NotNumber", pricing.SourceLiteLLM, `{"ok": {"litellm_provider": "openai", "input_cost_per_token": 1e-06}, "gpt-y": {"litellm_provider": "openai", "input_cost_per_token": 1e-06, "output_cost_per_token": "lots"}}`, `entry "gpt-y"`},
		{"TooLarge", pricing.SourceLiteLLM, `{"gpt-z": {"litellm_provider": "openai", "input_cost_per_token": 1e300}}`, "too large"},
		{"ORNoData", pricing.SourceOpenRouter, `{"models": []}`, `no "data" array`},
		{"ORBadPrice", pricing.SourceOpenRouter, `{"data": [{"id": "a/b", "pricing": {"prompt": "0.1", "completion": "x"}}]}`, `model "a/b"`},
		{"ORNoID", pricing.SourceOpenRouter, `{"data": [{"pricing": {"prompt": "0.1"}}]}`, "data[0]: no id"},
		{"UnknownSource", "csv", `{}`, "unknown price source"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			im, err := pricing.ParseImport(tc.source, []byte(tc.body))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ParseImport = %v, %v; want an error with %q", im, err, tc.want)
			}
		})
	}
}

// TestEffective: an import overlays the built-in table and the operator's
// file overlays the import; Entries says where each price comes from.
func TestEffective(t *testing.T) {
	im, err := pricing.ParseImport(pricing.SourceLiteLLM, readFile(t, "testdata/litellm_sample.json"))
	if err != nil {
		t.Fatal(err)
	}
	stored, err := im.File("2025-12-01")
	if err != nil {
		t.Fatal(err)
	}
	over := writeFile(t, `{"providers": {"openai": {"gpt-odd": {"input": 7, "output": 8}}}}`)
	tab, err := pricing.Effective(over, stored)
	if err != nil {
		t.Fatal(err)
	}
	if tab.AsOf() != "2025-12-01" {
		t.Errorf("AsOf = %q, want the import's date", tab.AsOf())
	}
	origins := map[string]string{}
	for _, e := range tab.Entries("openai") {
		origins[e.Model] = e.Origin
	}
	for model, want := range map[string]string{"gpt-4o": pricing.OriginBuiltin, "gpt-4o-2024-08-06": pricing.OriginImport, "gpt-odd": pricing.OriginFile} {
		if origins[model] != want {
			t.Errorf("origin of %s = %q, want %q", model, origins[model], want)
		}
	}
	if p, _ := tab.Price("openai", "gpt-odd"); p.Input != 7 {
		t.Errorf("gpt-odd input = %d, want the file's 7", p.Input)
	}
	if p, ok := tab.Price("openrouter", "anthropic/claude-sonnet-4.5"); !ok || p.Input != 3_000_000 {
		t.Errorf("openrouter price = %+v, %v; want the import's", p, ok)
	}
	if len(tab.Entries("groq")) == 0 || tab.Entries("nope") != nil {
		t.Errorf("Entries by provider: groq %d, nope %d", len(tab.Entries("groq")), len(tab.Entries("nope")))
	}
}

// SPDX-License-Identifier: Apache-2.0

package pricing_test

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/keygate/keygate/internal/pricing"
)

// MustLoad loads the table with the override file holding override (none
// when empty) and fails tb on error.
func MustLoad(tb testing.TB, override string) *pricing.Table {
	tb.Helper()
	path := ""
	if override != "" {
		path = writeFile(tb, override)
	}
	t, err := pricing.Load(path)
	if err != nil {
		tb.Fatalf("Load: %v", err)
	}
	return t
}

func writeFile(tb testing.TB, content string) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "prices.json")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

func TestEmbedded(t *testing.T) {
	tab := MustLoad(t, "")
	if _, err := time.Parse(time.DateOnly, tab.AsOf()); err != nil {
		t.Errorf("AsOf() = %q, want a date: %v", tab.AsOf(), err)
	}
	// The models the tests and the fake provider use, and a current model
	// of every provider the table covers.
	for _, pm := range [][2]string{
		{"openai", "gpt-4o"}, {"openai", "gpt-4o-mini"}, {"openai", "text-embedding-3-small"},
		{"anthropic", "claude-sonnet-4-5"}, {"openai", "gpt-5"}, {"openai", "o3"}, {"openai", "gpt-4.1"},
		{"anthropic", "claude-opus-4-1"}, {"anthropic", "claude-haiku-4-5"},
		{"google", "gemini-2.5-pro"}, {"google", "gemini-2.5-flash"},
		{"mistral", "mistral-large-latest"}, {"mistral", "mistral-small-2503"},
	} {
		p, ok := tab.Price(pm[0], pm[1])
		if !ok {
			t.Errorf("Price(%s, %s): no price", pm[0], pm[1])
			continue
		}
		if p.Input <= 0 || p.Output < 0 || p.CachedInput <= 0 || p.CachedInput > p.Input {
			t.Errorf("Price(%s, %s) = %+v, want input > 0 and 0 < cached input <= input", pm[0], pm[1], p)
		}
	}
}

func TestPriceMatch(t *testing.T) {
	tab := MustLoad(t, `{"providers": {"acme": {
		"m": {"input": 1, "output": 1},
		"m-large": {"input": 2, "output": 2},
		"m-large-2": {"input": 3, "output": 3},
		"star*": {"input": 4, "output": 4},
		"star-x": {"input": 5, "output": 5}
	}}}`)
	tests := []struct {
		name, provider, model string
		want                  int64 // Input; 0 for no price
	}{
		{"Exact", "acme", "m", 1},
		{"DatedVariant", "acme", "m-2025-01-01", 1},
		{"TaggedVariant", "acme", "m:latest", 1},
		{"AtVariant", "acme", "m@001", 1},
		{"LongestWins", "acme", "m-large-latest", 2},
		{"LongerStill", "acme", "m-large-2-preview", 3},
		{"NoBoundary", "acme", "mx", 0},
		{"NoBoundaryDot", "acme", "m.5", 0},
		{"Star", "acme", "starship", 4},
		{"StarBare", "acme", "star", 4},
		{"LongerBeatsStar", "acme", "star-x-001", 5},
		{"NewVersionNotRevision", "acme", "star-x-1", 4},
		{"CaseInsensitive", "ACME", "M-Large", 2},
		{"UnknownModel", "acme", "other", 0},
		{"EmptyModel", "acme", "", 0},
		{"UnknownProvider", "nope", "m", 0},
		{"VendorPrefix", "openrouter", "acme/m-large", 2},
		{"GoogleModelsPrefix", "acme", "models/m", 1},
		{"EmbeddedDated", "openai", "gpt-4o-2024-08-06", 2_500_000},
		{"EmbeddedMiniNotBase", "openai", "gpt-4o-mini-2024-07-18", 150_000},
		{"EmbeddedClaudeDated", "anthropic", "claude-sonnet-4-5-20250929", 3_000_000},
		{"EmbeddedGpt4NotGpt4o", "openai", "gpt-4o", 2_500_000},
		{"OpenRouterVendor", "openrouter", "anthropic/claude-sonnet-4-5", 3_000_000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, ok := tab.Price(tc.provider, tc.model)
			if ok != (tc.want != 0) || p.Input != tc.want {
				t.Errorf("Price(%q, %q) = %+v, %v; want input %d", tc.provider, tc.model, p, ok, tc.want)
			}
		})
	}
}

func TestCost(t *testing.T) {
	tab := MustLoad(t, `{"providers": {"acme": {
		"cheap": {"input": 150000, "output": 600000, "cached_input": 75000},
		"nocache": {"input": 3000000, "output": 15000000},
		"odd": {"input": 1, "output": 3},
		"huge": {"input": 9223372036854775807, "output": 9223372036854775807}
	}}}`)
	tests := []struct {
		name                  string
		model                 string
		input, output, cached int64
		want                  int64
		wantKnown             bool
	}{
		{"Zero", "cheap", 0, 0, 0, 0, true},
		{"Plain", "cheap", 1_000_000, 1_000_000, 0, 750_000, true},
		{"Cached", "cheap", 1_000_000, 0, 400_000, 600_000*150_000/1_000_000 + 400_000*75_000/1_000_000, true},
		{"NoCachePriceIsInput", "nocache", 1_000_000, 0, 500_000, 3_000_000, true},
		{"CachedOverInput", "cheap", 100, 0, 1000, 8, true}, // 100 cached at 0.075 = 7.5 → 8
		{"Negative", "cheap", -5, -5, -5, 0, true},
		{"RoundHalfUp", "odd", 500_000, 0, 0, 1, true},    // 0.5 → 1
		{"RoundDown", "odd", 499_999, 0, 0, 0, true},      // 0.499999 → 0
		{"RoundUpAbove", "odd", 1_500_001, 0, 0, 2, true}, // 1.500001 → 2
		{"OutputThirds", "odd", 0, 500_000, 0, 2, true},   // 1.5 → 2
		{"SmallCall", "nocache", 12, 7, 0, 141, true},     // 12·3 + 7·15 µ$
		{"Overflow", "huge", math.MaxInt64, math.MaxInt64, 0, math.MaxInt64, true},
		{"Unknown", "nope", 1000, 1000, 0, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, known := tab.Cost("acme", tc.model, tc.input, tc.output, tc.cached)
			if got != tc.want || known != tc.wantKnown {
				t.Errorf("Cost(%s, %d, %d, %d) = %d, %v; want %d, %v", tc.model, tc.input, tc.output, tc.cached, got, known, tc.want, tc.wantKnown)
			}
		})
	}
	var nilTable *pricing.Table
	if got, known := nilTable.Cost("openai", "gpt-4o", 1, 1, 0); got != 0 || known {
		t.Errorf("nil Table Cost = %d, %v; want 0, false", got, known)
	}
}

func TestLoadOverride(t *testing.T) {
	base := MustLoad(t, "")
	tab := MustLoad(t, `{"as_of": "2030-01-02", "providers": {
		"openai": {"gpt-4o": {"input": 1, "output": 2, "cached_input": 0}},
		"newco": {"brain-1": {"input": 5, "output": 6}}
	}}`)
	if got := tab.AsOf(); got != "2030-01-02" {
		t.Errorf("AsOf() = %q, want the override's", got)
	}
	tests := []struct {
		provider, model string
		want            pricing.Price
	}{
		{"openai", "gpt-4o", pricing.Price{Input: 1, Output: 2, CachedInput: 0}},
		{"newco", "brain-1", pricing.Price{Input: 5, Output: 6, CachedInput: 5}},
		{"openai", "gpt-4o-mini", mustPrice(t, base, "openai", "gpt-4o-mini")},
		{"anthropic", "claude-sonnet-4-5", mustPrice(t, base, "anthropic", "claude-sonnet-4-5")},
	}
	for _, tc := range tests {
		if diff := cmp.Diff(tc.want, mustPrice(t, tab, tc.provider, tc.model)); diff != "" {
			t.Errorf("Price(%s, %s) (-want +got):\n%s", tc.provider, tc.model, diff)
		}
	}
	// No as_of in the override keeps the embedded date.
	if got := MustLoad(t, `{"providers": {}}`).AsOf(); got != base.AsOf() {
		t.Errorf("AsOf() = %q, want the embedded %q", got, base.AsOf())
	}
}

func mustPrice(tb testing.TB, tab *pricing.Table, provider, model string) pricing.Price {
	tb.Helper()
	p, ok := tab.Price(provider, model)
	if !ok {
		tb.Fatalf("Price(%s, %s): none", provider, model)
	}
	return p
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name, content, want string
	}{
		{"UnknownTopField", `{"providers": {}, "currency": "EUR"}`, `unknown field "currency"`},
		{"UnknownPriceField", `{"providers": {"openai": {"gpt-4o": {"input": 1, "output": 1, "cache_write": 3}}}}`, `unknown field "cache_write"`},
		{"Float", `{"providers": {"openai": {"gpt-4o": {"input": 2.5, "output": 1}}}}`, "decode"},
		{"NoOutput", `{"providers": {"openai": {"gpt-4o": {"input": 1}}}}`, "input and output prices are required"},
		{"Negative", `{"providers": {"openai": {"gpt-4o": {"input": 1, "output": -1}}}}`, "negative price"},
		{"NegativeCached", `{"providers": {"openai": {"gpt-4o": {"input": 1, "output": 1, "cached_input": -1}}}}`, "negative price"},
		{"EmptyModel", `{"providers": {"openai": {"": {"input": 1, "output": 1}}}}`, "want a model name"},
		{"OnlyStar", `{"providers": {"openai": {"*": {"input": 1, "output": 1}}}}`, "want a model name"},
		{"InnerStar", `{"providers": {"openai": {"gpt*4": {"input": 1, "output": 1}}}}`, "want a model name"},
		{"UpperProvider", `{"providers": {"OpenAI": {"gpt-4o": {"input": 1, "output": 1}}}}`, "lowercase provider"},
		{"BadDate", `{"as_of": "01/02/2030", "providers": {}}`, "YYYY-MM-DD"},
		{"Trailing", `{"providers": {}} {}`, "data after"},
		{"NotJSON", `prices`, "decode"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := pricing.Load(writeFile(t, tc.content))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Load: err = %v, want one containing %q", err, tc.want)
			}
		})
	}
	if _, err := pricing.Load(filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Error("Load(missing file): no error")
	}
}

func BenchmarkCost(b *testing.B) {
	tab := MustLoad(b, "")
	for b.Loop() {
		tab.Cost("anthropic", "claude-sonnet-4-5-20250929", 12_000, 800, 4_000)
	}
}

// TestRealModelIDs: the ids the providers' APIs name models by (dated,
// -latest, provider/model) are priced at their own entry, and a version
// family the table does not list is not priced as a cheaper relative by a
// prefix accident.
func TestRealModelIDs(t *testing.T) {
	tab := MustLoad(t, "")
	tests := []struct {
		provider, model string
		want            string // the entry it is priced as; "" for none
	}{
		{"openai", "gpt-5.1", "gpt-5.1"},
		{"openai", "gpt-5.1-2025-11-13", "gpt-5.1"},
		{"openai", "gpt-5.1-codex-mini", "gpt-5.1-codex-mini"},
		{"openai", "gpt-5.2", ""},
		{"openai", "gpt-5-pro-2025-10-06", "gpt-5-pro"},
		{"openai", "gpt-5-2025-08-07", "gpt-5"},
		{"openai", "gpt-5-chat-latest", "gpt-5-chat-latest"},
		{"openai", "gpt-5-turbo-instruct", ""},
		{"openai", "gpt-4o-2024-11-20", "gpt-4o"},
		{"openai", "gpt-4o-mini-2024-07-18", "gpt-4o-mini"},
		{"openai", "gpt-4o-search-preview", ""},
		{"openai", "gpt-4-0613", "gpt-4"},
		{"openai", "gpt-3.5-turbo-0125", "gpt-3.5-turbo"},
		{"openai", "chatgpt-4o-latest", "chatgpt-4o-latest"},
		{"openai", "o3-2025-04-16", "o3"},
		{"openai", "openai/gpt-4o", "gpt-4o"},
		{"anthropic", "claude-sonnet-4-5-20250929", "claude-sonnet-4-5"},
		{"anthropic", "claude-opus-4-5-20251101", "claude-opus-4-5"},
		{"anthropic", "claude-3-5-haiku-latest", "claude-3-5-haiku"},
		{"anthropic", "claude-opus-4-7", ""},
		{"google", "gemini-2.5-flash-preview-09-2025", "gemini-2.5-flash"},
		{"google", "models/gemini-2.0-flash-001", "gemini-2.0-flash"},
		{"google", "gemini-3-pro-preview", "gemini-3-pro-preview"},
		{"google", "gemini-flash-latest", "gemini-flash-latest"},
		{"mistral", "mistral-medium-2508", "mistral-medium"},
		{"mistral", "devstral-small-latest", "devstral-small"},
		{"mistral", "codestral-2508", "codestral"},
		{"groq", "llama-3.3-70b-versatile", "llama-3.3-70b-versatile"},
		{"groq", "openai/gpt-oss-120b", "openai/gpt-oss-120b"},
		{"groq", "meta-llama/llama-4-scout-17b-16e-instruct", "meta-llama/llama-4-scout-17b-16e-instruct"},
		{"groq", "mixtral-8x7b-32768", ""},
		{"openrouter", "openai/gpt-5.1", "gpt-5.1"},
		{"openrouter", "anthropic/claude-haiku-4-5", "claude-haiku-4-5"},
		{"exa", "", ""},
	}
	byName := map[string]pricing.Price{}
	for _, e := range tab.Entries("") {
		byName[e.Provider+" "+e.Model] = e.Price
	}
	for _, tc := range tests {
		t.Run(tc.provider+"/"+tc.model, func(t *testing.T) {
			got, ok := tab.Price(tc.provider, tc.model)
			if tc.want == "" {
				if ok {
					t.Errorf("Price = %+v, want none", got)
				}
				return
			}
			want, found := byName[tc.provider+" "+tc.want]
			if !found {
				vendor, _, _ := strings.Cut(tc.model, "/")
				want, found = byName[vendor+" "+tc.want]
			}
			if !found {
				t.Fatalf("no entry %q", tc.want)
			}
			if !ok || got != want {
				t.Errorf("Price = %+v, %v; want %s's %+v", got, ok, tc.want, want)
			}
		})
	}
}

// TestQuote: a model without a price is costed at its provider's highest
// prices and marked estimated; a provider without prices is unpriced.
func TestQuote(t *testing.T) {
	tab := MustLoad(t, `{"providers": {"acme": {
		"cheap": {"input": 1000000, "output": 2000000},
		"big-in": {"input": 5000000, "output": 1000000},
		"big-out": {"input": 1000000, "output": 9000000}
	}}}`)
	tests := []struct {
		name, provider, model string
		in, out, cached       int64
		want                  int64
		wantPriced            string
	}{
		{"Known", "acme", "cheap", 1_000_000, 1_000_000, 0, 3_000_000, "priced"},
		{"UnknownAtHighest", "acme", "new-model", 1_000_000, 1_000_000, 0, 14_000_000, "estimated"},
		{"UnknownCachedAtInput", "acme", "new-model", 1_000_000, 0, 1_000_000, 5_000_000, "estimated"},
		{"UnknownNoTokens", "acme", "new-model", 0, 0, 0, 0, "priced"},
		{"NoModel", "acme", "", 10, 0, 0, 50, "estimated"},
		{"AggregatorVendor", "openrouter", "acme/new-model", 1_000_000, 0, 0, 5_000_000, "estimated"},
		{"NoPrices", "exa", "", 1000, 1000, 0, 0, "unpriced"},
		{"NoPricesNoTokens", "exa", "", 0, 0, 0, 0, "unpriced"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, priced := tab.Quote(tc.provider, tc.model, tc.in, tc.out, tc.cached)
			if got != tc.want || priced != tc.wantPriced {
				t.Errorf("Quote = %d, %q; want %d, %q", got, priced, tc.want, tc.wantPriced)
			}
		})
	}
	// Every provider of the embedded table has a fallback.
	emb := MustLoad(t, "")
	for _, p := range []string{"openai", "anthropic", "google", "mistral", "groq"} {
		if _, ok := emb.Fallback(p, "x"); !ok {
			t.Errorf("no fallback for %s", p)
		}
	}
}

// BenchmarkQuote prices a call as the proxy does (three quotes a call: the
// refusal check, the reservation, the settlement), in the built-in table
// and in one with 2,000 imported entries for the provider.
func BenchmarkQuote(b *testing.B) {
	var big strings.Builder
	big.WriteString(`{"providers": {"openai": {`)
	for i := range 2000 {
		if i > 0 {
			big.WriteString(",")
		}
		fmt.Fprintf(&big, `"model-%04d": {"input": %d, "output": %d}`, i, i+1, 2*i+1)
	}
	big.WriteString(`}}}`)
	for _, tc := range []struct {
		name string
		tab  *pricing.Table
	}{{"Builtin", MustLoad(b, "")}, {"Imported2000", MustLoad(b, big.String())}} {
		for _, model := range []string{"gpt-4o-mini-2024-07-18", "gpt-9-unknown"} {
			b.Run(tc.name+"/"+model, func(b *testing.B) {
				for b.Loop() {
					tc.tab.Quote("openai", model, 1000, 500, 0)
				}
			})
		}
	}
}

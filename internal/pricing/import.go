// SPDX-License-Identifier: Apache-2.0

package pricing

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/big"
	"slices"
	"strings"
)

// Import sources: the formats ParseImport reads.
const (
	// SourceLiteLLM is LiteLLM's model_prices_and_context_window.json: one
	// object, model id → {"input_cost_per_token", "output_cost_per_token",
	// "cache_read_input_token_cost", "litellm_provider", "mode", ...}, with
	// a "sample_spec" entry that documents the shape. Costs are USD per
	// token.
	SourceLiteLLM = "litellm"
	// SourceOpenRouter is OpenRouter's GET /api/v1/models listing:
	// {"data": [{"id": "vendor/model", "pricing": {"prompt", "completion",
	// "input_cache_read", ...}}]}, costs as decimal strings of USD per
	// token. Every entry is priced at provider "openrouter".
	SourceOpenRouter = "openrouter"
)

// Imported is a price list read from a community format: entries in the
// table's unit, by keygate provider and model, and what was skipped.
type Imported struct {
	Source string
	// Prices maps a keygate catalog provider to its models' prices.
	Prices map[string]map[string]Price
	// Skipped counts the entries not imported, by reason ("provider
	// azure", "mode image_generation", "no token price").
	Skipped map[string]int
}

// Count returns the number of imported entries.
func (im *Imported) Count() int {
	n := 0
	for _, ms := range im.Prices {
		n += len(ms)
	}
	return n
}

// File returns the entries in the shape of a price file (prices.json), the
// form an import is stored in and Overlay reads.
func (im *Imported) File(asOf string) ([]byte, error) {
	f := struct {
		AsOf      string                          `json:"as_of,omitempty"`
		Providers map[string]map[string]filePrice `json:"providers"`
	}{AsOf: asOf, Providers: map[string]map[string]filePrice{}}
	for provider, ms := range im.Prices {
		f.Providers[provider] = map[string]filePrice{}
		for model, p := range ms {
			f.Providers[provider][model] = filePrice{Input: &p.Input, Output: &p.Output, CachedInput: &p.CachedInput}
		}
	}
	return json.Marshal(f)
}

// litellmProvider maps LiteLLM's "litellm_provider" to keygate's catalog
// provider name, or "" for a provider keygate does not price from LiteLLM
// (skipped). Google's Vertex AI prices are taken for a model only when the
// Gemini API ("gemini") has none.
func litellmProvider(p string) string {
	switch p {
	case "openai", "text-completion-openai":
		return "openai"
	case "anthropic":
		return "anthropic"
	case "gemini", "vertex_ai-language-models":
		return "google"
	case "mistral", "codestral", "text-completion-codestral":
		return "mistral"
	case "groq", "openrouter":
		return p
	}
	return ""
}

// tokenMode reports whether a LiteLLM mode is priced per token; the others
// (images, audio, rerank, moderation...) are priced in their own unit,
// not yet by keygate, and skipped.
func tokenMode(m string) bool {
	switch m {
	case "", "chat", "completion", "responses", "embedding":
		return true
	}
	return false
}

// ParseImport reads a price list of source (SourceLiteLLM or
// SourceOpenRouter). It is all or nothing: an entry whose price is not a
// non-negative decimal number fails the whole file with an error that
// names it. USD per token become micro-USD per million tokens (×10¹²)
// exactly, in decimal arithmetic, rounded half up to an integer.
func ParseImport(source string, b []byte) (*Imported, error) {
	switch source {
	case SourceLiteLLM:
		return parseLiteLLM(b)
	case SourceOpenRouter:
		return parseOpenRouter(b)
	}
	return nil, fmt.Errorf("unknown price source %q (want %s or %s)", source, SourceLiteLLM, SourceOpenRouter)
}

// DetectSource returns the source whose shape b has: an object with a
// "data" array is OpenRouter's listing, any other object LiteLLM's.
func DetectSource(b []byte) string {
	var probe struct {
		Data json.RawMessage `json:"data"`
	}
	if json.Unmarshal(b, &probe) == nil && bytes.HasPrefix(bytes.TrimSpace(probe.Data), []byte("[")) {
		return SourceOpenRouter
	}
	return SourceLiteLLM
}

func decodeAll(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("decode: data after the JSON value")
	}
	return nil
}

func parseLiteLLM(b []byte) (*Imported, error) {
	var raw map[string]json.RawMessage
	if err := decodeAll(b, &raw); err != nil {
		return nil, err
	}
	im := &Imported{Source: SourceLiteLLM, Prices: map[string]map[string]Price{}, Skipped: map[string]int{}}
	vertex := map[string]Price{}
	for _, id := range slices.Sorted(maps.Keys(raw)) {
		if id == "sample_spec" {
			continue
		}
		var e struct {
			Provider  string     `json:"litellm_provider"`
			Mode      string     `json:"mode"`
			Input     *rawNumber `json:"input_cost_per_token"`
			Output    *rawNumber `json:"output_cost_per_token"`
			CacheRead *rawNumber `json:"cache_read_input_token_cost"`
		}
		if err := json.Unmarshal(raw[id], &e); err != nil {
			return nil, fmt.Errorf("entry %q: %w", id, err)
		}
		provider := litellmProvider(e.Provider)
		if provider == "" {
			im.Skipped["provider "+orNone(e.Provider)]++
			continue
		}
		if !tokenMode(e.Mode) {
			im.Skipped["mode "+e.Mode]++
			continue
		}
		if e.Input == nil {
			im.Skipped["no token price"]++
			continue
		}
		p, err := tokenPrice(e.Input, e.Output, e.CacheRead)
		if err != nil {
			return nil, fmt.Errorf("entry %q: %w", id, err)
		}
		model := strings.ToLower(strings.TrimPrefix(id, e.Provider+"/"))
		if model == "" {
			return nil, fmt.Errorf("entry %q: empty model name", id)
		}
		if e.Provider == "vertex_ai-language-models" {
			vertex[model] = p
			continue
		}
		if im.Prices[provider] == nil {
			im.Prices[provider] = map[string]Price{}
		}
		im.Prices[provider][model] = p
	}
	for model, p := range vertex {
		if im.Prices["google"] == nil {
			im.Prices["google"] = map[string]Price{}
		}
		if _, ok := im.Prices["google"][model]; ok {
			im.Skipped["vertex_ai price of a gemini model"]++
			continue
		}
		im.Prices["google"][model] = p
	}
	return im, nil
}

func parseOpenRouter(b []byte) (*Imported, error) {
	var list struct {
		Data *[]struct {
			ID      string `json:"id"`
			Pricing *struct {
				Prompt     *rawNumber `json:"prompt"`
				Completion *rawNumber `json:"completion"`
				CacheRead  *rawNumber `json:"input_cache_read"`
			} `json:"pricing"`
		} `json:"data"`
	}
	if err := decodeAll(b, &list); err != nil {
		return nil, err
	}
	if list.Data == nil {
		return nil, errors.New(`not an OpenRouter models listing: no "data" array`)
	}
	im := &Imported{Source: SourceOpenRouter, Prices: map[string]map[string]Price{}, Skipped: map[string]int{}}
	for i, m := range *list.Data {
		if m.ID == "" {
			return nil, fmt.Errorf("data[%d]: no id", i)
		}
		if m.Pricing == nil || m.Pricing.Prompt == nil {
			im.Skipped["no token price"]++
			continue
		}
		// OpenRouter quotes -1 for a router whose price depends on the
		// model it picks (openrouter/auto): not a price.
		if strings.HasPrefix(m.Pricing.Prompt.String(), "-") || m.Pricing.Completion != nil && strings.HasPrefix(m.Pricing.Completion.String(), "-") {
			im.Skipped["variable price"]++
			continue
		}
		p, err := tokenPrice(m.Pricing.Prompt, m.Pricing.Completion, m.Pricing.CacheRead)
		if err != nil {
			return nil, fmt.Errorf("model %q: %w", m.ID, err)
		}
		if im.Prices["openrouter"] == nil {
			im.Prices["openrouter"] = map[string]Price{}
		}
		im.Prices["openrouter"][strings.ToLower(m.ID)] = p
	}
	return im, nil
}

// rawNumber is a price as written: a JSON number or a string holding one
// (OpenRouter quotes its prices), checked when converted, so that a bad
// one is reported with the entry it belongs to.
type rawNumber string

func (n *rawNumber) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		*n = rawNumber(s)
		return nil
	}
	*n = rawNumber(b)
	return nil
}

// String returns the number as written.
func (n rawNumber) String() string { return string(n) }

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// tokenPrice converts USD-per-token numbers to a Price; output and cached
// may be nil (0, and the input price).
func tokenPrice(input, output, cached *rawNumber) (Price, error) {
	var p Price
	var err error
	if p.Input, err = perMillionMicros("input", input); err != nil {
		return Price{}, err
	}
	if output != nil {
		if p.Output, err = perMillionMicros("output", output); err != nil {
			return Price{}, err
		}
	}
	p.CachedInput = p.Input
	if cached != nil {
		if p.CachedInput, err = perMillionMicros("cached input", cached); err != nil {
			return Price{}, err
		}
	}
	return p, nil
}

// perMillionMicros converts a decimal USD-per-token number (a JSON number
// or a string of one: "0.0000025", 2.5e-06) to micro-USD per million
// tokens, exactly, rounded half up.
func perMillionMicros(what string, n *rawNumber) (int64, error) {
	s := strings.TrimSpace(n.String())
	r, ok := new(big.Rat).SetString(s)
	if !ok || s == "" || strings.Contains(s, "/") {
		return 0, fmt.Errorf("%s price %q is not a decimal number", what, s)
	}
	if r.Sign() < 0 {
		return 0, fmt.Errorf("%s price %q is negative", what, s)
	}
	r.Mul(r, big.NewRat(1_000_000_000_000, 1)) // 10⁶ micro-USD × 10⁶ tokens
	// round half up: floor(r + 1/2)
	r.Add(r, big.NewRat(1, 2))
	q := new(big.Int).Quo(r.Num(), r.Denom())
	if !q.IsInt64() {
		return 0, fmt.Errorf("%s price %q is too large", what, s)
	}
	return q.Int64(), nil
}

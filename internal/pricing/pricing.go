// Package pricing is the price table of the usage ledger: what a call
// costs, by provider and model, in micro-USD (millionths of a dollar).
//
// The table is data: prices.json, embedded in the binary and dated by its
// "as_of" field, holds approximate public list prices (standard tier,
// shortest-context tier) of the common models of OpenAI, Anthropic, Google
// and Mistral. An operator corrects or extends it with a file of the same
// shape (Load), whose entries replace the embedded ones model by model.
//
// Prices are integers, micro-USD per million tokens, and costs are computed
// with integer arithmetic only: a float would make the same call cost a
// different amount on different replicas' sums.
package pricing

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"os"
	"slices"
	"strings"
	"time"
)

//go:embed prices.json
var embedded []byte

// Price is what one model costs, in micro-USD per million tokens
// (1_000_000 is $1.00 per 1M tokens).
type Price struct {
	Input  int64
	Output int64
	// CachedInput is the price of input tokens read from the provider's
	// cache; models without a cache discount have CachedInput == Input.
	CachedInput int64
}

// Table is a price table. It is immutable once loaded and safe for
// concurrent use. A nil *Table knows no prices.
type Table struct {
	asOf string
	// models maps a provider to its entries, longest name first, so the
	// first match is the longest.
	models map[string][]entry
}

type entry struct {
	name   string // without a trailing '*'
	prefix bool   // the entry ended with '*'
	price  Price
}

// file is the JSON shape of prices.json and of an operator's file.
type file struct {
	AsOf      string                          `json:"as_of"`
	Note      string                          `json:"note"`
	Providers map[string]map[string]filePrice `json:"providers"`
}

type filePrice struct {
	Input       *int64 `json:"input"`
	Output      *int64 `json:"output"`
	CachedInput *int64 `json:"cached_input"` // absent: same as input
}

// Load returns the embedded table with, if overridePath is not empty, the
// operator's file at overridePath merged over it: each of its (provider,
// model) entries replaces or adds that entry, and its as_of, if set,
// replaces the table's. Decoding is strict. It fails if the file cannot be
// read, is not one JSON object of the documented shape (an unknown field
// is an error that names it), or has an entry without an input or output
// price, a negative price, an empty name or an as_of that is not a
// YYYY-MM-DD date.
func Load(overridePath string) (*Table, error) {
	base, err := parse(embedded)
	if err != nil {
		return nil, fmt.Errorf("embedded price table: %w", err)
	}
	if overridePath == "" {
		return build(base), nil
	}
	b, err := os.ReadFile(overridePath)
	if err != nil {
		return nil, fmt.Errorf("read price file: %w", err)
	}
	over, err := parse(b)
	if err != nil {
		return nil, fmt.Errorf("price file %s: %w", overridePath, err)
	}
	if over.AsOf != "" {
		base.AsOf = over.AsOf
	}
	for provider, models := range over.Providers {
		if base.Providers[provider] == nil {
			base.Providers[provider] = map[string]filePrice{}
		}
		for model, p := range models {
			base.Providers[provider][model] = p
		}
	}
	return build(base), nil
}

// parse decodes and checks one price file.
func parse(b []byte) (file, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var f file
	if err := dec.Decode(&f); err != nil {
		return file{}, fmt.Errorf("decode: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return file{}, errors.New("decode: data after the JSON object")
	}
	if f.AsOf != "" {
		if _, err := time.Parse(time.DateOnly, f.AsOf); err != nil {
			return file{}, fmt.Errorf("as_of %q is not a YYYY-MM-DD date", f.AsOf)
		}
	}
	if f.Providers == nil {
		f.Providers = map[string]map[string]filePrice{}
	}
	for provider, models := range f.Providers {
		if provider == "" || strings.ToLower(provider) != provider {
			return file{}, fmt.Errorf("provider %q: want a lowercase provider name", provider)
		}
		for model, p := range models {
			what := fmt.Sprintf("%s model %q", provider, model)
			if strings.TrimSuffix(model, "*") == "" || strings.Contains(strings.TrimSuffix(model, "*"), "*") {
				return file{}, fmt.Errorf("%s: want a model name, optionally ending in '*'", what)
			}
			if p.Input == nil || p.Output == nil {
				return file{}, fmt.Errorf("%s: input and output prices are required", what)
			}
			if *p.Input < 0 || *p.Output < 0 || p.CachedInput != nil && *p.CachedInput < 0 {
				return file{}, fmt.Errorf("%s: negative price", what)
			}
		}
	}
	return f, nil
}

// build indexes a checked file.
func build(f file) *Table {
	t := &Table{asOf: f.AsOf, models: map[string][]entry{}}
	for provider, models := range f.Providers {
		es := make([]entry, 0, len(models))
		for model, p := range models {
			e := entry{name: strings.ToLower(strings.TrimSuffix(model, "*")), prefix: strings.HasSuffix(model, "*"),
				price: Price{Input: *p.Input, Output: *p.Output, CachedInput: *p.Input}}
			if p.CachedInput != nil {
				e.price.CachedInput = *p.CachedInput
			}
			es = append(es, e)
		}
		// Longest first; among equals, exact before '*', then by name, so
		// the order (and so the match) never depends on map order.
		slices.SortFunc(es, func(a, b entry) int {
			if len(a.name) != len(b.name) {
				return len(b.name) - len(a.name)
			}
			if a.prefix != b.prefix {
				if a.prefix {
					return 1
				}
				return -1
			}
			return strings.Compare(a.name, b.name)
		})
		t.models[provider] = es
	}
	return t
}

// AsOf returns the date ("YYYY-MM-DD") the table's prices were taken on.
func (t *Table) AsOf() string {
	if t == nil {
		return ""
	}
	return t.asOf
}

// Price returns the price of model at provider, and whether the table has
// one. Names are case-insensitive. An entry matches a model named exactly
// like it; or, as a prefix, a model that continues it after '-', ':' or '@'
// (a dated or tagged variant: "gpt-4o" prices "gpt-4o-2024-08-06", not
// "gpt-4o1"); or, when the entry ends in '*', any model that starts with
// the rest. The longest matching entry wins, so "gpt-4o-mini" prices
// "gpt-4o-mini-2024-07-18" though "gpt-4o" matches it too. A Google model
// named "models/..." is looked up without that prefix. A model named
// "vendor/model" (OpenRouter and other aggregators) that the provider has
// no entry for is looked up as model at vendor.
func (t *Table) Price(provider, model string) (Price, bool) {
	if t == nil {
		return Price{}, false
	}
	provider, model = strings.ToLower(provider), strings.ToLower(model)
	model = strings.TrimPrefix(model, "models/")
	if p, ok := lookup(t.models[provider], model); ok {
		return p, true
	}
	if vendor, rest, ok := strings.Cut(model, "/"); ok && vendor != provider {
		return lookup(t.models[vendor], rest)
	}
	return Price{}, false
}

func lookup(es []entry, model string) (Price, bool) {
	if model == "" {
		return Price{}, false
	}
	for _, e := range es {
		if !strings.HasPrefix(model, e.name) {
			continue
		}
		if e.prefix || len(model) == len(e.name) {
			return e.price, true
		}
		switch model[len(e.name)] {
		case '-', ':', '@':
			return e.price, true
		}
	}
	return Price{}, false
}

// Cost returns what a call to model at provider costs, in micro-USD, and
// whether the table knows the model (0, false if not). input counts every
// input token, cached ones included, as keygate.UsageEvent does; cached is
// the part of input read from a cache and is charged at the cached price.
// Negative counts are taken as 0, and cached as at most input.
//
// cost = ((input-cached)·Input + cached·CachedInput + output·Output) / 10⁶,
// rounded half up, computed exactly in 128-bit integers and capped at
// math.MaxInt64.
func (t *Table) Cost(provider, model string, input, output, cached int64) (micros int64, known bool) {
	p, ok := t.Price(provider, model)
	if !ok {
		return 0, false
	}
	input, output, cached = max(input, 0), max(output, 0), max(cached, 0)
	cached = min(cached, input)
	var hi, lo uint64
	add := func(tokens, price int64) {
		h, l := bits.Mul64(uint64(tokens), uint64(price))
		var carry uint64
		lo, carry = bits.Add64(lo, l, 0)
		hi += h + carry
	}
	add(input-cached, p.Input)
	add(cached, p.CachedInput)
	add(output, p.Output)
	add(1, perMillion/2) // round half up
	if hi >= perMillion {
		return math.MaxInt64, true // the quotient would not fit in 64 bits
	}
	q, _ := bits.Div64(hi, lo, perMillion)
	if q > math.MaxInt64 {
		return math.MaxInt64, true
	}
	return int64(q), true
}

// perMillion is the token count prices are quoted for.
const perMillion = 1_000_000

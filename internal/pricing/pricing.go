// SPDX-License-Identifier: Apache-2.0

// Package pricing is the price table of the usage ledger: what a call
// costs, by provider and model, in micro-USD (millionths of a dollar).
//
// The table is data: prices.json, embedded in the binary and dated by its
// "as_of" field, holds approximate public list prices (standard tier,
// shortest-context tier) of the common models of OpenAI, Anthropic, Google,
// Mistral and Groq. An operator corrects or extends it with a file of the same
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
	"sync/atomic"
	"time"

	"github.com/keygate/keygate"
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
	// exact indexes, by provider, the entries without '*' by name, and
	// stars holds the '*' entries, longest first: a lookup costs a map
	// probe per '-', ':' or '@' of the model, not a scan of the table.
	exact map[string]map[string]entry
	stars map[string][]entry
	// fallback is, by provider, the price of a model the table does not
	// know: the highest input and the highest output price among the
	// provider's entries (and the input price for cached input).
	fallback map[string]Price
}

type entry struct {
	name   string // without a trailing '*'
	prefix bool   // the entry ended with '*'
	price  Price
	origin string
}

// Entry is one entry of a table, as Entries lists it.
type Entry struct {
	Provider string
	Model    string // as written, a trailing '*' included
	Price    Price
	Origin   string // OriginBuiltin, OriginImport or OriginFile
}

// Entries returns the table's entries, by provider then model, of every
// provider or (provider != "") of one.
func (t *Table) Entries(provider string) []Entry {
	if t == nil {
		return nil
	}
	var out []Entry
	for p, es := range t.models {
		if provider != "" && p != strings.ToLower(provider) {
			continue
		}
		for _, e := range es {
			name := e.name
			if e.prefix {
				name += "*"
			}
			out = append(out, Entry{Provider: p, Model: name, Price: e.price, Origin: e.origin})
		}
	}
	slices.SortFunc(out, func(a, b Entry) int {
		if c := strings.Compare(a.Provider, b.Provider); c != 0 {
			return c
		}
		return strings.Compare(a.Model, b.Model)
	})
	return out
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
	origin      string // OriginBuiltin, OriginImport or OriginFile
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
	return Effective(overridePath, nil)
}

// Effective returns the table in effect: the embedded one, overlaid by
// imported (a stored import, in the price-file shape Imported.File
// writes; nil for none), overlaid by the operator's file at overridePath
// (as Load). Each overlay replaces or adds entries model by model, and
// its as_of, if set, replaces the table's.
func Effective(overridePath string, imported []byte) (*Table, error) {
	base, err := parse(embedded)
	if err != nil {
		return nil, fmt.Errorf("embedded price table: %w", err)
	}
	mark(base, OriginBuiltin)
	if imported != nil {
		im, err := parse(imported)
		if err != nil {
			return nil, fmt.Errorf("imported price table: %w", err)
		}
		overlay(&base, im, OriginImport)
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
	overlay(&base, over, OriginFile)
	return build(base), nil
}

// Where an entry of the effective table comes from.
const (
	OriginBuiltin = "builtin" // the table embedded in the release
	OriginImport  = "import"  // the newest import (keygate prices import)
	OriginFile    = "file"    // the operator's prices_file
)

func mark(f file, origin string) {
	for _, models := range f.Providers {
		for model, p := range models {
			p.origin = origin
			models[model] = p
		}
	}
}

func overlay(base *file, over file, origin string) {
	if over.AsOf != "" {
		base.AsOf = over.AsOf
	}
	for provider, models := range over.Providers {
		if base.Providers[provider] == nil {
			base.Providers[provider] = map[string]filePrice{}
		}
		for model, p := range models {
			p.origin = origin
			base.Providers[provider][model] = p
		}
	}
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
	t := &Table{asOf: f.AsOf, models: map[string][]entry{}, exact: map[string]map[string]entry{},
		stars: map[string][]entry{}, fallback: map[string]Price{}}
	for provider, models := range f.Providers {
		es := make([]entry, 0, len(models))
		for model, p := range models {
			e := entry{name: strings.ToLower(strings.TrimSuffix(model, "*")), prefix: strings.HasSuffix(model, "*"),
				price: Price{Input: *p.Input, Output: *p.Output, CachedInput: *p.Input}, origin: p.origin}
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
		t.exact[provider] = map[string]entry{}
		for _, e := range es {
			if e.prefix {
				t.stars[provider] = append(t.stars[provider], e)
			} else {
				t.exact[provider][e.name] = e
			}
		}
		if len(es) > 0 {
			var fb Price
			for _, e := range es {
				fb.Input, fb.Output = max(fb.Input, e.price.Input), max(fb.Output, e.price.Output)
			}
			fb.CachedInput = fb.Input
			t.fallback[provider] = fb
		}
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
// like it; or a version of it: the entry followed by segments that are
// dates, revisions, "latest", "preview" or "exp" (versionSuffix:
// "gpt-4o" prices "gpt-4o-2024-08-06" and "claude-3-5-sonnet-latest", not
// "gpt-4o1", "gpt-4o-audio" or "gpt-4o.1"); or, when the entry ends in
// '*', any model that starts with the rest. The longest matching entry
// wins, so "gpt-4o-mini" prices "gpt-4o-mini-2024-07-18" though "gpt-4o"
// matches it too. A Google model named "models/..." is looked up without
// that prefix. A model named "vendor/model" (OpenRouter, Groq and other
// aggregators) is looked up as named at provider first, then as model at
// provider when vendor is the provider itself, then as model at vendor.
func (t *Table) Price(provider, model string) (Price, bool) {
	if t == nil {
		return Price{}, false
	}
	provider, model = strings.ToLower(provider), strings.ToLower(model)
	model = strings.TrimPrefix(model, "models/")
	if p, ok := t.lookup(provider, model); ok {
		return p, true
	}
	if vendor, rest, ok := strings.Cut(model, "/"); ok {
		return t.lookup(vendor, rest)
	}
	return Price{}, false
}

// lookup finds the longest entry of provider that prices model: named
// like it, or like a part of it that the rest only versions
// (versionSuffix), or a '*' entry it starts with; at equal length an entry
// without '*' wins.
func (t *Table) lookup(provider, model string) (Price, bool) {
	if model == "" {
		return Price{}, false
	}
	best, price := -1, Price{}
	names := t.exact[provider]
	for i := len(model); i > 0; i-- {
		if i < len(model) && model[i] != '-' && model[i] != ':' && model[i] != '@' {
			continue
		}
		if e, ok := names[model[:i]]; ok && (i == len(model) || versionSuffix(model[i:])) {
			best, price = i, e.price
			break
		}
	}
	for _, e := range t.stars[provider] {
		if len(e.name) <= best {
			break
		}
		if strings.HasPrefix(model, e.name) {
			return e.price, true
		}
	}
	return price, best >= 0
}

// versionSuffix reports whether s, what follows an entry's name in a model
// id, only names a version of that model: segments, each after '-', ':'
// or '@', that are all digits (a date "-2024-08-06", "-20241022", "-0613",
// a revision "-001"), or "latest", "preview" or "exp". A segment that names
// another model ("-mini", "-pro", "-codex", ".1") is not a version, nor is
// a first segment of one or two digits ("claude-opus-4-7" is a new model,
// not a revision of "claude-opus-4"; "-08-06" after "-2024" is a date): the
// model is not priced as the shorter entry, so "gpt-5-pro" never costs
// what "gpt-5" does by a prefix accident.
func versionSuffix(s string) bool {
	if s == "" {
		return false
	}
	first := true
	for s != "" {
		switch s[0] {
		case '-', ':', '@':
		default:
			return false
		}
		s = s[1:]
		seg := s
		if i := strings.IndexAny(s, "-:@"); i >= 0 {
			seg, s = s[:i], s[i:]
		} else {
			s = ""
		}
		switch {
		case seg == "latest", seg == "preview", seg == "exp":
		case seg != "" && strings.Trim(seg, "0123456789") == "" && (len(seg) >= 3 || !first):
		default:
			return false
		}
		first = false
	}
	return true
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
	return cost(p, input, output, cached), true
}

// Fallback returns the conservative price of a model the table has no
// price for at provider: the highest input and the highest output price
// of the provider's entries. A "vendor/model" name at a provider with no
// entries (an aggregator) falls back to vendor's. It reports false when
// neither has any entry: nothing of that provider can be estimated.
func (t *Table) Fallback(provider, model string) (Price, bool) {
	if t == nil {
		return Price{}, false
	}
	provider, model = strings.ToLower(provider), strings.ToLower(model)
	if p, ok := t.fallback[provider]; ok {
		return p, true
	}
	if vendor, _, ok := strings.Cut(model, "/"); ok {
		p, ok := t.fallback[vendor]
		return p, ok
	}
	return Price{}, false
}

// Quote returns what a call costs and how sure that is: at the model's
// price (keygate.PricedExact); at the provider's Fallback price when the
// model has none (keygate.PricedEstimated); or 0 and keygate.PricedNone
// when the provider has no price at all. A call that used no tokens at a
// provider with prices costs 0, exactly: it used nothing a price applies
// to.
func (t *Table) Quote(provider, model string, input, output, cached int64) (micros int64, priced string) {
	if p, ok := t.Price(provider, model); ok {
		return cost(p, input, output, cached), keygate.PricedExact
	}
	p, ok := t.Fallback(provider, model)
	if !ok {
		return 0, keygate.PricedNone
	}
	if input <= 0 && output <= 0 {
		return 0, keygate.PricedExact
	}
	return cost(p, input, output, cached), keygate.PricedEstimated
}

// cost prices tokens at p, as Cost documents.
func cost(p Price, input, output, cached int64) int64 {
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
		return math.MaxInt64 // the quotient would not fit in 64 bits
	}
	q, _ := bits.Div64(hi, lo, perMillion)
	if q > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(q)
}

// perMillion is the token count prices are quoted for.
const perMillion = 1_000_000

// Live is the table in effect, replaced whole when an import lands (Set)
// while calls read it (Table, Quote). The zero Live knows no prices.
type Live struct {
	t atomic.Pointer[Table]
}

// NewLive returns a Live holding t.
func NewLive(t *Table) *Live {
	l := &Live{}
	l.t.Store(t)
	return l
}

// Table returns the table in effect.
func (l *Live) Table() *Table { return l.t.Load() }

// Set makes t the table in effect.
func (l *Live) Set(t *Table) { l.t.Store(t) }

// Quote is Table().Quote.
func (l *Live) Quote(provider, model string, input, output, cached int64) (int64, string) {
	return l.t.Load().Quote(provider, model, input, output, cached)
}

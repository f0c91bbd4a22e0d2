// SPDX-License-Identifier: Apache-2.0

package api

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"time"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/pricing"
)

// Prices is the price table in effect and its imported versions
// (pricing.Book).
type Prices interface {
	Table() *pricing.Table
	Versions(ctx context.Context) ([]keygate.PriceImport, error)
	Import(ctx context.Context, source string, data []byte, ev keygate.AuditEvent) (keygate.PriceImport, *pricing.Imported, error)
}

// maxPriceListBytes caps an imported price list: LiteLLM's full file is a
// few MiB.
const maxPriceListBytes = 32 << 20

type priceJSON struct {
	Provider string `json:"provider"`
	Model    string `json:"model"`
	// Prices in USD per million tokens, decimal strings.
	Input       usd    `json:"input_usd_per_mtok"`
	Output      usd    `json:"output_usd_per_mtok"`
	CachedInput usd    `json:"cached_input_usd_per_mtok"`
	Origin      string `json:"origin,omitempty"` // builtin, import, file; empty for a fallback
}

type priceImportJSON struct {
	Version    int64     `json:"version"`
	ImportedAt time.Time `json:"imported_at"`
	Source     string    `json:"source"`
	Digest     string    `json:"digest"`
	Entries    int       `json:"entries"`
	Skipped    int       `json:"skipped"`
	Actor      string    `json:"actor"`
}

func toPriceImportJSON(p keygate.PriceImport) priceImportJSON {
	return priceImportJSON{Version: p.Version, ImportedAt: p.ImportedAt.UTC(), Source: p.Source, Digest: p.Digest,
		Entries: p.Entries, Skipped: p.Skipped, Actor: p.Actor}
}

func toPriceJSON(e pricing.Entry) priceJSON {
	return priceJSON{Provider: e.Provider, Model: e.Model, Input: usd(e.Price.Input), Output: usd(e.Price.Output),
		CachedInput: usd(e.Price.CachedInput), Origin: e.Origin}
}

// handlePricesGet answers the table in effect (optionally of one
// provider), each provider's fallback price, and the imported versions.
func (a *API) handlePricesGet(c *call) (int, any, error) {
	if a.d.Prices == nil {
		return 0, nil, keygate.Errorf(keygate.CodeUnsupported, "This server has no price table.")
	}
	provider := c.r.URL.Query().Get("provider")
	t := a.d.Prices.Table()
	entries := t.Entries(provider)
	prices := make([]priceJSON, 0, len(entries))
	var providers []string
	for _, e := range entries {
		prices = append(prices, toPriceJSON(e))
		if !slices.Contains(providers, e.Provider) {
			providers = append(providers, e.Provider)
		}
	}
	fallbacks := make([]priceJSON, 0, len(providers))
	for _, p := range providers {
		if fb, ok := t.Fallback(p, ""); ok {
			fallbacks = append(fallbacks, toPriceJSON(pricing.Entry{Provider: p, Model: "*", Price: fb}))
		}
	}
	versions, err := a.d.Prices.Versions(c.r.Context())
	if err != nil {
		return 0, nil, err
	}
	vs := make([]priceImportJSON, 0, len(versions))
	for _, v := range versions {
		vs = append(vs, toPriceImportJSON(v))
	}
	return http.StatusOK, map[string]any{"as_of": t.AsOf(), "prices": prices, "fallbacks": fallbacks, "versions": vs}, nil
}

type priceImportRequest struct {
	// Source is litellm or openrouter; empty: told by the list's shape.
	Source string `json:"source"`
	// Prices is the price list file as published (a JSON object).
	Prices json.RawMessage `json:"prices"`
}

// handlePricesImport imports a price list in LiteLLM's or OpenRouter's
// format as the newest version of the prices in effect.
func (a *API) handlePricesImport(c *call) (int, any, error) {
	if a.d.Prices == nil {
		return 0, nil, keygate.Errorf(keygate.CodeUnsupported, "This server has no price table.")
	}
	var req priceImportRequest
	if err := c.decodeMax(&req, maxPriceListBytes); err != nil {
		return 0, nil, err
	}
	if t := bytes.TrimSpace(req.Prices); len(t) == 0 || t[0] != '{' {
		return 0, nil, keygate.Errorf(keygate.CodeInvalidJSON, "prices: the price list, a JSON object, is required.")
	}
	switch req.Source {
	case "", pricing.SourceLiteLLM, pricing.SourceOpenRouter:
	default:
		return 0, nil, keygate.Errorf(keygate.CodeInvalidRequest, "source: want %s or %s.", pricing.SourceLiteLLM, pricing.SourceOpenRouter)
	}
	p, im, err := a.d.Prices.Import(c.r.Context(), req.Source, req.Prices, c.event("", keygate.ActionPricesImported))
	if err != nil {
		return 0, nil, err
	}
	skipped := im.Skipped
	if skipped == nil {
		skipped = map[string]int{}
	}
	return http.StatusOK, map[string]any{"version": toPriceImportJSON(p), "skipped": skipped}, nil
}

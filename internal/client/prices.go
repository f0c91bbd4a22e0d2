// SPDX-License-Identifier: Apache-2.0

package client

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"time"

	"github.com/keygate/keygate"
)

// Price is the price of one model, or (Model "*") a provider's fallback
// price for models without one, in decimal strings of US dollars per
// million tokens.
type Price struct {
	Provider    string `json:"provider"`
	Model       string `json:"model"`
	Input       string `json:"input_usd_per_mtok"`
	Output      string `json:"output_usd_per_mtok"`
	CachedInput string `json:"cached_input_usd_per_mtok"`
	// Origin is builtin, import or file; empty for a fallback.
	Origin string `json:"origin,omitempty"`
}

// PriceImport is one imported price list (a version).
type PriceImport struct {
	Version    int64     `json:"version"`
	ImportedAt time.Time `json:"imported_at"`
	Source     string    `json:"source"`
	Digest     string    `json:"digest"`
	Entries    int       `json:"entries"`
	Skipped    int       `json:"skipped"`
	Actor      string    `json:"actor"`
}

// PriceTable is the price table in effect.
type PriceTable struct {
	AsOf      string        `json:"as_of"`
	Prices    []Price       `json:"prices"`
	Fallbacks []Price       `json:"fallbacks"`
	Versions  []PriceImport `json:"versions"`
}

// PriceImportResult is the answer to an import: the version in effect and
// the entries of the file not imported, by reason.
type PriceImportResult struct {
	Version PriceImport    `json:"version"`
	Skipped map[string]int `json:"skipped"`
}

// Prices returns the price table in effect, of every provider or (provider
// not empty) of one.
func (c *Client) Prices(ctx context.Context, provider string) (PriceTable, error) {
	var q url.Values
	if provider != "" {
		q = url.Values{"provider": {provider}}
	}
	var t PriceTable
	_, err := c.do(ctx, call{method: http.MethodGet, path: "/prices", query: q, out: &t})
	return t, err
}

// ImportPrices imports list, a price list file in LiteLLM's
// (source "litellm") or OpenRouter's ("openrouter") format, or told by its
// shape (source ""), as the newest version of the prices in effect.
func (c *Client) ImportPrices(ctx context.Context, source string, list []byte) (PriceImportResult, error) {
	if t := bytes.TrimSpace(list); len(t) == 0 || t[0] != '{' || !json.Valid(t) {
		return PriceImportResult{}, &Error{Method: http.MethodPost, Path: "/api/v1/prices",
			Err: keygate.Errorf(keygate.CodeInvalidJSON, "The price list is not a JSON object.")}
	}
	// The list is sent as it is, not decoded and encoded again: its
	// decimal prices keep every digit.
	var body bytes.Buffer
	body.WriteString(`{`)
	if source != "" {
		s, _ := json.Marshal(source)
		body.WriteString(`"source":`)
		body.Write(s)
		body.WriteString(`,`)
	}
	body.WriteString(`"prices":`)
	body.Write(bytes.TrimSpace(list))
	body.WriteString(`}`)
	var r PriceImportResult
	_, err := c.do(ctx, call{method: http.MethodPost, path: "/prices", body: body.Bytes(), maxBody: MaxPriceListBody, out: &r})
	return r, err
}

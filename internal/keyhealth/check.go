// SPDX-License-Identifier: Apache-2.0

package keyhealth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/provider"
	"github.com/keygate/keygate/internal/scrub"
)

// Status is the outcome of a check.
type Status string

// Outcomes.
const (
	// Valid: the provider accepted the key.
	Valid Status = "valid"
	// Rejected: the provider refused the key (401/403, or its own "invalid
	// key" answer).
	Rejected Status = "rejected"
	// Unverifiable: the provider could not say (network error, timeout,
	// rate limit, 5xx).
	Unverifiable Status = "unverifiable"
)

// Result is what a check found. Neither Error nor Models ever contains
// the key (a model id that holds it, in clear or encoded, is scrubbed).
type Result struct {
	Status Status
	// Models lists up to MaxModels model ids the key can use, when the
	// probe lists models; ModelCount is the full count.
	Models     []string
	ModelCount int
	Error      string
}

// MaxModels caps the model ids a Result carries.
const MaxModels = 50

// Catalog is the provider catalog a Checker needs.
type Catalog interface {
	Lookup(name string) (provider.Provider, bool)
	CheckKeyFormat(provider string, key keygate.Secret) error
}

// Checker tells whether a provider accepts a key, by making the
// provider's cheapest authenticated call (its catalog probe, usually "list
// models") with that key and nothing else: never a fallback key, so a
// broken key can never look valid. It is safe for concurrent use.
type Checker struct {
	catalog   Catalog
	transport http.RoundTripper
	timeout   time.Duration
}

// NewChecker returns a Checker that sends probes through transport (nil: a new
// http.Transport) and gives each up after timeout (0: 10s).
func NewChecker(catalog Catalog, transport http.RoundTripper, timeout time.Duration) *Checker {
	if transport == nil {
		transport = &http.Transport{Proxy: http.ProxyFromEnvironment, ForceAttemptHTTP2: true, MaxIdleConnsPerHost: 16, IdleConnTimeout: 90 * time.Second}
	}
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	return &Checker{catalog: catalog, transport: transport, timeout: timeout}
}

// Check checks the format of key, then asks the provider. Errors are
// unknown_provider and invalid_key_format (*keygate.Error); everything the
// provider answers, including failures to reach it, is a Result.
func (c *Checker) Check(ctx context.Context, name string, key keygate.Secret) (Result, error) {
	if err := c.catalog.CheckKeyFormat(name, key); err != nil {
		return Result{}, err
	}
	p, _ := c.catalog.Lookup(name)
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var body io.Reader
	if p.Probe.Body != "" {
		body = strings.NewReader(p.Probe.Body)
	}
	req, err := http.NewRequestWithContext(ctx, p.Probe.Method, p.URL(p.Probe.Path), body)
	if err != nil {
		return Result{}, fmt.Errorf("build %s probe: %w", name, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	p.ApplyHeaders(req.Header)
	p.SetAuth(req.Header, key)
	resp, err := c.transport.RoundTrip(req)
	if err != nil {
		msg := fmt.Sprintf("%s could not be reached", p.DisplayName)
		if errors.Is(err, context.DeadlineExceeded) {
			msg = fmt.Sprintf("%s did not answer within %s", p.DisplayName, c.timeout)
		}
		return Result{Status: Unverifiable, Error: msg}, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return Result{Status: Rejected, Error: fmt.Sprintf("%s rejected the key (HTTP %d)", p.DisplayName, resp.StatusCode)}, nil
	case resp.StatusCode == http.StatusBadRequest && invalidKeyAnswer(b):
		// Google answers an unknown key with 400 API_KEY_INVALID.
		return Result{Status: Rejected, Error: fmt.Sprintf("%s rejected the key (HTTP 400, invalid API key)", p.DisplayName)}, nil
	case resp.StatusCode == http.StatusTooManyRequests:
		return Result{Status: Unverifiable, Error: fmt.Sprintf("%s is rate limiting this key (HTTP 429); try again later", p.DisplayName)}, nil
	case resp.StatusCode >= 500:
		return Result{Status: Unverifiable, Error: fmt.Sprintf("%s failed (HTTP %d)", p.DisplayName, resp.StatusCode)}, nil
	case resp.StatusCode != p.Probe.SuccessStatus:
		return Result{Status: Unverifiable, Error: fmt.Sprintf("%s answered HTTP %d to the key check", p.DisplayName, resp.StatusCode)}, nil
	}
	res := Result{Status: Valid}
	if p.Probe.SuccessField != "" {
		var doc map[string]json.RawMessage
		if json.Unmarshal(b, &doc) != nil || len(doc[p.Probe.SuccessField]) == 0 {
			return Result{Status: Unverifiable, Error: fmt.Sprintf("%s answered the key check in an unexpected shape", p.DisplayName)}, nil
		}
		res.Models, res.ModelCount = modelIDs(doc[p.Probe.SuccessField])
		// The ids are the provider's text: one that echoes the key it
		// received must not show it to whoever asked for the check.
		s := scrub.New(key)
		for i, id := range res.Models {
			res.Models[i], _ = s.String(id)
		}
	}
	return res, nil
}

// invalidKeyAnswer reports whether a 400 body says the key is invalid.
func invalidKeyAnswer(b []byte) bool {
	return bytes.Contains(b, []byte("API_KEY_INVALID")) || bytes.Contains(b, []byte("API key not valid"))
}

// modelIDs reads ids ("id", or "name" without a "models/" prefix) from a
// list of objects; other shapes give none.
func modelIDs(raw json.RawMessage) ([]string, int) {
	var items []struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	if json.Unmarshal(raw, &items) != nil {
		return nil, 0
	}
	var out []string
	for _, it := range items {
		id := it.ID
		if id == "" {
			id = strings.TrimPrefix(it.Name, "models/")
		}
		if id != "" && len(out) < MaxModels {
			out = append(out, id)
		}
	}
	return out, len(items)
}

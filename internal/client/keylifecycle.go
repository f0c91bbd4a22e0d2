// SPDX-License-Identifier: Apache-2.0

package client

import (
	"context"
	"encoding/json"
	"net/http"
	"sort"
	"time"

	"github.com/keygate/keygate"
)

// KeyTestStatus is the outcome of testing a key with its provider.
type KeyTestStatus string

// Key test outcomes, as the API names them.
const (
	// KeyTestValid: the provider accepted the key.
	KeyTestValid KeyTestStatus = "valid"
	// KeyTestRejected: the provider refused the key (401/403, its own
	// "invalid key" answer), or the key does not have the provider's format.
	KeyTestRejected KeyTestStatus = "rejected"
	// KeyTestUnverifiable: the provider could not say (network error,
	// timeout, rate limit, 5xx); try again later.
	KeyTestUnverifiable KeyTestStatus = "unverifiable"
)

// KeyTestResult is the API's outcome of testing one provider's key. Models
// lists some of the models the key can use (the server caps the list),
// ModelCount how many there are; Error says why a key is rejected or
// unverifiable, and never contains the key.
type KeyTestResult struct {
	Status     KeyTestStatus `json:"status"`
	Models     []string      `json:"models"`
	ModelCount int           `json:"model_count"`
	Error      string        `json:"error"`
}

// KeyTestResults is the API's answer to POST .../keys:test: one result per
// provider tested.
type KeyTestResults struct {
	Results map[string]KeyTestResult `json:"results"`
}

// TestKeys asks the server to test candidate keys, by provider, for owner (a
// tenant id or name, or keygate.PlatformScope) without storing them. Each
// test is audited (key.tested, with the hint, never the key). A key with a
// bad format comes back as rejected with the format problem rather than as
// an error, so one typo does not hide the other results. The keys are
// revealed only into the JSON request body, wiped once the call returns.
// Errors: invalid_request (no keys), unknown_provider (a provider not in the
// catalog), not_found (unknown tenant), unsupported (the server cannot test
// keys).
func (c *Client) TestKeys(ctx context.Context, owner string, keys map[string]keygate.Secret) (map[string]KeyTestResult, error) {
	if len(keys) == 0 {
		return nil, keygate.Errorf(keygate.CodeInvalidRequest, "At least one key to test is required.")
	}
	plain := make(map[string]string, len(keys))
	for p, k := range keys {
		if err := required("provider", p); err != nil {
			return nil, err
		}
		if k.IsZero() {
			return nil, keygate.Errorf(keygate.CodeInvalidRequest, "The %s key is empty.", p)
		}
		plain[p] = k.Reveal()
	}
	p, err := keysPath(owner, "")
	if err != nil {
		return nil, err
	}
	// As in PutKey: marshal plain strings (a Secret marshals as
	// "[REDACTED]") into a buffer we own and wipe.
	body, err := json.Marshal(struct {
		Keys map[string]string `json:"keys"`
	}{plain})
	if err != nil {
		return nil, err
	}
	defer clear(body)
	var out KeyTestResults
	if _, err := c.do(ctx, call{method: http.MethodPost, path: p + ":test", body: body, out: &out}); err != nil {
		return nil, err
	}
	return out.Results, nil
}

// TestKey tests one key (see TestKeys) and returns its result. A server
// answer without a result for provider is an internal error.
func (c *Client) TestKey(ctx context.Context, owner, provider string, key keygate.Secret) (KeyTestResult, error) {
	rs, err := c.TestKeys(ctx, owner, map[string]keygate.Secret{provider: key})
	if err != nil {
		return KeyTestResult{}, err
	}
	r, ok := rs[provider]
	if !ok {
		return KeyTestResult{}, keygate.Errorf(keygate.CodeInternal, "The server's answer has no result for %s.", provider)
	}
	return r, nil
}

// KeyVersion is the API's object for one version of a stored key: metadata
// only, never key material.
type KeyVersion struct {
	KeyID       string `json:"key_id"`
	Version     int    `json:"version"`
	Hint        string `json:"hint"`
	Fingerprint string `json:"fingerprint"`
	// Current reports whether the gateway uses this version.
	Current   bool      `json:"current"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
	// SupersededAt is when the version stopped being current; nil while it
	// is current.
	SupersededAt *time.Time `json:"superseded_at"`
	// DestroyedAt is when its ciphertext was erased; nil while it can still
	// be restored by a rollback.
	DestroyedAt *time.Time `json:"destroyed_at"`
}

// KeyVersionList is the API's answer to GET .../keys/{provider}/versions.
type KeyVersionList struct {
	Versions []KeyVersion `json:"versions"`
}

// ListKeyVersions returns every version of owner's key for provider, newest
// first; not_found if there is no key.
func (c *Client) ListKeyVersions(ctx context.Context, owner, provider string) ([]KeyVersion, error) {
	if err := required("provider", provider); err != nil {
		return nil, err
	}
	p, err := keysPath(owner, provider)
	if err != nil {
		return nil, err
	}
	var l KeyVersionList
	if _, err := c.do(ctx, call{method: http.MethodGet, path: p + "/versions", out: &l}); err != nil {
		return nil, err
	}
	// Newest first is the API's contract; sort anyway so callers can rely
	// on it whatever the server.
	sort.SliceStable(l.Versions, func(i, j int) bool { return l.Versions[i].Version > l.Versions[j].Version })
	return l.Versions, nil
}

// RollbackKey makes the previous version of owner's key for provider current
// again and returns the key as it now is (its Version is the restored one,
// its status unknown until the key is next checked). Errors: not_found (no
// key), conflict (nothing to restore: no earlier version, or each was
// destroyed or replaced longer ago than the server's rollback window).
func (c *Client) RollbackKey(ctx context.Context, owner, provider string) (Key, error) {
	var k Key
	if err := required("provider", provider); err != nil {
		return k, err
	}
	p, err := keysPath(owner, provider)
	if err != nil {
		return k, err
	}
	_, err = c.do(ctx, call{method: http.MethodPost, path: p + ":rollback", out: &k})
	return k, err
}

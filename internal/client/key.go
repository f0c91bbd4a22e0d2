// SPDX-License-Identifier: Apache-2.0

package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"time"

	"github.com/keygate/keygate"
)

// Key is the API's provider key object: metadata only, never the key.
type Key struct {
	// ID is the key's id ("pk_..."); it stays the same across rotations.
	ID string `json:"id"`
	// Owner is the tenant id, or keygate.PlatformScope for a platform key.
	Owner         keygate.TenantID  `json:"owner"`
	Provider      string            `json:"provider"`
	Version       int               `json:"version"`
	Hint          string            `json:"hint"`
	Fingerprint   string            `json:"fingerprint"`
	Status        keygate.KeyStatus `json:"status"`
	LastCheckedAt *time.Time        `json:"last_checked_at"`
	LastError     string            `json:"last_error"`
	CreatedBy     string            `json:"created_by"`
	CreatedAt     time.Time         `json:"created_at"`
	UpdatedAt     time.Time         `json:"updated_at"`
}

// KeyList is the API's answer to GET .../keys.
type KeyList struct {
	Keys []Key `json:"keys"`
}

// KeyChange is the result of PutKey: the stored version, and whether it
// replaced an earlier version (the server answered 200) rather than being the
// first (201).
type KeyChange struct {
	Key     Key
	Rotated bool
}

// keysPath returns the keys collection of owner, or one provider's key in it:
// /platform/keys for keygate.PlatformScope, /tenants/{owner}/keys otherwise.
func keysPath(owner, provider string) (string, error) {
	if err := required("tenant (or the platform)", owner); err != nil {
		return "", err
	}
	p := "/tenants/" + pathEscape(owner) + "/keys"
	if keygate.TenantID(owner).IsPlatform() {
		p = "/platform/keys"
	}
	if provider != "" {
		p += "/" + pathEscape(provider)
	}
	return p, nil
}

// PutKey stores key as the owner's key for provider: the first version, or a
// rotation of the current one. owner is a tenant id or name, or
// keygate.PlatformScope for the platform's shared key. The key is revealed
// only into the JSON request body, and that buffer is wiped once the call
// returns. The server answers invalid_key_format or unknown_provider for a
// key it refuses, and not_found for an unknown tenant.
func (c *Client) PutKey(ctx context.Context, owner, provider string, key keygate.Secret) (KeyChange, error) {
	return c.putKey(ctx, owner, provider, key, nil)
}

// PutKeyTested is PutKey with the key tested first (PUT ...?test=true): the
// server asks the provider whether it accepts the key before storing it. A
// key the provider refuses is not stored, and the server answers
// key_rejected (422) with the provider's reason; a key the provider could
// not judge (network error, rate limit, 5xx) is stored with status unknown,
// and one it accepted with status valid.
func (c *Client) PutKeyTested(ctx context.Context, owner, provider string, key keygate.Secret) (KeyChange, error) {
	return c.putKey(ctx, owner, provider, key, url.Values{"test": {"true"}})
}

// putKey sends the PUT of PutKey and PutKeyTested with query q.
func (c *Client) putKey(ctx context.Context, owner, provider string, key keygate.Secret, q url.Values) (KeyChange, error) {
	var ch KeyChange
	if err := required("provider", provider); err != nil {
		return ch, err
	}
	if key.IsZero() {
		return ch, keygate.Errorf(keygate.CodeInvalidRequest, "The provider key is empty.")
	}
	p, err := keysPath(owner, provider)
	if err != nil {
		return ch, err
	}
	// Marshal a plain string: Secret itself always marshals as
	// "[REDACTED]". json.Marshal escapes into a fresh buffer we own.
	body, err := json.Marshal(struct {
		Key string `json:"key"`
	}{key.Reveal()})
	if err != nil {
		return ch, err
	}
	defer clear(body)
	status, err := c.do(ctx, call{method: http.MethodPut, path: p, query: q, body: body, out: &ch.Key})
	ch.Rotated = status == http.StatusOK
	return ch, err
}

// ListKeys returns the current version of each of owner's keys (a tenant id or
// name, or keygate.PlatformScope).
func (c *Client) ListKeys(ctx context.Context, owner string) ([]Key, error) {
	var l KeyList
	p, err := keysPath(owner, "")
	if err != nil {
		return nil, err
	}
	_, err = c.do(ctx, call{method: http.MethodGet, path: p, out: &l})
	return l.Keys, err
}

// GetKey returns the current version of owner's key for provider; not_found
// if there is none.
func (c *Client) GetKey(ctx context.Context, owner, provider string) (Key, error) {
	var k Key
	if err := required("provider", provider); err != nil {
		return k, err
	}
	p, err := keysPath(owner, provider)
	if err != nil {
		return k, err
	}
	_, err = c.do(ctx, call{method: http.MethodGet, path: p, out: &k})
	return k, err
}

// DeleteKey erases every version of owner's key for provider; not_found if
// there is none.
func (c *Client) DeleteKey(ctx context.Context, owner, provider string) error {
	if err := required("provider", provider); err != nil {
		return err
	}
	p, err := keysPath(owner, provider)
	if err != nil {
		return err
	}
	_, err = c.do(ctx, call{method: http.MethodDelete, path: p})
	return err
}

// SPDX-License-Identifier: Apache-2.0

package api

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/keygate/keygate"
)

type keyJSON struct {
	ID            string            `json:"id"`
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

func toKeyJSON(k keygate.ProviderKey) keyJSON {
	out := keyJSON{
		ID: k.ID, Owner: k.Owner, Provider: k.Provider, Version: k.Version, Hint: k.Hint,
		Fingerprint: k.Fingerprint, Status: k.Status, LastError: k.LastError, CreatedBy: k.CreatedBy,
		CreatedAt: k.CreatedAt, UpdatedAt: k.UpdatedAt,
	}
	if !k.LastCheckedAt.IsZero() {
		t := k.LastCheckedAt
		out.LastCheckedAt = &t
	}
	return out
}

// owner is the owner of the keys a key route addresses: the path's tenant,
// or the platform on /platform/ routes.
func (c *call) owner() keygate.TenantID {
	if c.tenant.ID != "" {
		return c.tenant.ID
	}
	return keygate.PlatformScope
}

// provider returns the path's provider, or unknown_provider.
func (c *call) provider() (string, error) {
	return c.providerNamed(c.r.PathValue("provider"))
}

// providerNamed returns p if it is a catalog provider, or unknown_provider.
func (c *call) providerNamed(p string) (string, error) {
	if !slices.Contains(c.api.d.Providers.Names(), p) {
		return "", keygate.Errorf(keygate.CodeUnknownProvider, "Unknown provider %s; known providers: %s.", c.api.ref(p), strings.Join(c.api.d.Providers.Names(), ", "))
	}
	return p, nil
}

func (a *API) handleKeyPut(c *call) (int, any, error) {
	provider, err := c.provider()
	if err != nil {
		return 0, nil, err
	}
	var req struct {
		Key *string `json:"key"`
	}
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	if req.Key == nil || *req.Key == "" {
		return 0, nil, keygate.Errorf(keygate.CodeInvalidKeyFormat, "The key is empty: send {\"key\": \"...\"}.")
	}
	key := keygate.NewSecret(*req.Key)
	var k keygate.ProviderKey
	switch c.r.URL.Query().Get("test") {
	case "true", "1":
		k, err = a.putTested(c, provider, key)
	case "", "false", "0":
		k, err = a.d.Vault.Put(c.r.Context(), c.change(), c.owner(), provider, key)
	default:
		return 0, nil, keygate.Errorf(keygate.CodeInvalidRequest, "test must be true or false.")
	}
	if err != nil {
		return 0, nil, err
	}
	status := http.StatusOK
	if k.Version == 1 {
		status = http.StatusCreated
	}
	return status, toKeyJSON(k), nil
}

func (a *API) handleKeyList(c *call) (int, any, error) {
	keys, err := a.d.Vault.List(c.r.Context(), c.owner())
	if err != nil {
		return 0, nil, err
	}
	out := make([]keyJSON, 0, len(keys))
	for _, k := range keys {
		out = append(out, toKeyJSON(k))
	}
	return http.StatusOK, map[string]any{"keys": out}, nil
}

func (a *API) handleKeyGet(c *call) (int, any, error) {
	provider, err := c.provider()
	if err != nil {
		return 0, nil, err
	}
	k, err := a.d.Vault.Get(c.r.Context(), c.owner(), provider)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, toKeyJSON(k), nil
}

func (a *API) handleKeyDelete(c *call) (int, any, error) {
	provider, err := c.provider()
	if err != nil {
		return 0, nil, err
	}
	if err := a.d.Vault.Delete(c.r.Context(), c.change(), c.owner(), provider); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}

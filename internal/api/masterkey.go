// SPDX-License-Identifier: Apache-2.0

package api

import (
	"context"
	"net/http"

	"github.com/keygate/keygate"
)

type masterKeyJSON struct {
	Primary       string `json:"primary"`
	Previous      string `json:"previous,omitempty"`
	Kind          string `json:"kind"`
	PendingRewrap int    `json:"pending_rewrap"`
}

func (a *API) handleMasterKeyGet(c *call) (int, any, error) {
	n, err := a.d.Vault.PendingRewrap(c.r.Context())
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, masterKeyJSON{Primary: a.d.Vault.PrimaryKEK(), Kind: a.d.MasterKeyKind, PendingRewrap: n}, nil
}

// handleMasterKeyRotate makes a new primary master key and starts the
// re-wrap of older data keys in the background; it answers 202 at once.
func (a *API) handleMasterKeyRotate(c *call) (int, any, error) {
	if a.d.MasterKeys == nil {
		return 0, nil, keygate.Errorf(keygate.CodeUnsupported, "This server's master key cannot be rotated from the API.")
	}
	prev, primary, err := a.d.Vault.RotateMasterKey(c.r.Context(), c.change(), a.d.MasterKeys)
	if err != nil {
		return 0, nil, err
	}
	if a.d.AuditKeys != nil {
		// A new audit key under the new master key: whoever holds the old
		// master key and an old backup cannot seal new events.
		if _, err := a.d.AuditKeys.Rotate(c.r.Context(), c.event("", keygate.ActionAuditKeyCreated)); err != nil {
			return 0, nil, err
		}
	}
	n, err := a.d.Vault.PendingRewrap(c.r.Context())
	if err != nil {
		return 0, nil, err
	}
	vault, logger := a.d.Vault, a.d.Logger
	a.d.Background("rewrap", func(ctx context.Context) error {
		done, err := vault.Rewrap(ctx)
		logger.Info("master key re-wrap finished", "rewrapped", done, "primary", primary)
		return err
	})
	return http.StatusAccepted, masterKeyJSON{Primary: primary, Previous: prev, Kind: a.d.MasterKeyKind, PendingRewrap: n}, nil
}

type retireRequest struct {
	ID string `json:"id"`
}

type retireJSON struct {
	Retired string `json:"retired"`
	Primary string `json:"primary"`
}

// handleMasterKeyRetire removes an older master key from the keeper for
// good, once nothing is wrapped by it (409 conflict until the rewrap is
// done).
func (a *API) handleMasterKeyRetire(c *call) (int, any, error) {
	var req retireRequest
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	if req.ID == "" {
		return 0, nil, keygate.Errorf(keygate.CodeInvalidRequest, "id: the id of the master key to retire (mk_...) is required.")
	}
	if a.d.MasterKeys == nil {
		return 0, nil, keygate.Errorf(keygate.CodeUnsupported, "This server's master keys cannot be retired from the API: remove the old key from your configuration.")
	}
	if err := a.d.Vault.RetireMasterKey(c.r.Context(), c.change(), a.d.MasterKeys, req.ID); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, retireJSON{Retired: req.ID, Primary: a.d.Vault.PrimaryKEK()}, nil
}

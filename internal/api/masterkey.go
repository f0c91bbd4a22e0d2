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

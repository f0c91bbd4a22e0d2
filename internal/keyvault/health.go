// SPDX-License-Identifier: Apache-2.0

package keyvault

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/keygate/keygate"
)

// ReportStatus records what a provider said about one key version: valid
// after a success, invalid after a 401/403. A change of status is audited
// (key.status_changed), and the store's announcement of it (a key_status
// change) updates the status of the gateway's cached key in place; a
// repeat of the same status only refreshes last_checked_at.
// Reports about a version that is no longer current are ignored.
func (s *Service) ReportStatus(ctx context.Context, c Change, k keygate.ProviderKey, status keygate.KeyStatus, lastError string) (bool, error) {
	detail, _ := json.Marshal(map[string]string{"from": string(k.Status), "to": string(status), "error": lastError})
	ev := c.event(k.Owner, k.Provider, keygate.ActionKeyStatus)
	ev.Detail = string(detail)
	changed, err := s.store.SetKeyStatus(ctx, keygate.KeyStatusUpdate{
		Owner: k.Owner, Provider: k.Provider, KeyID: k.ID, Version: k.Version, Status: status, LastError: lastError,
	}, ev)
	if err != nil {
		return false, fmt.Errorf("record %s status of %s key %s v%d: %w", status, k.Provider, k.ID, k.Version, err)
	}
	return changed, nil
}

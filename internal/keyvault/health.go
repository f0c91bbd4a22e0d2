package keyvault

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/keygate/keygate"
)

// ReportStatus records what a provider said about one key version: valid
// after a success, invalid after a 401/403. A change of status is audited
// (key.status_changed) and updates the cached copy in place, so the next
// call sees the new status without a storage read; a repeat of the same
// status only refreshes last_checked_at.
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
	if changed {
		s.setCachedStatus(k, status, lastError)
	}
	return changed, nil
}

// setCachedStatus updates the health of a cached key in place: the key did
// not change, so dropping it would only force a storage read (and fail
// calls while storage is down).
func (s *Service) setCachedStatus(k keygate.ProviderKey, status keygate.KeyStatus, lastError string) {
	ck := cacheKey{k.Owner, k.Provider}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.cache[ck]
	if !ok || c.absent || c.meta.ID != k.ID || c.meta.Version != k.Version {
		return
	}
	c.meta.Status, c.meta.LastError = status, lastError
	c.meta.LastCheckedAt = s.opt.Now()
	s.cache[ck] = c
}

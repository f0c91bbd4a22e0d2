// SPDX-License-Identifier: Apache-2.0

package auth

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/keygate/keygate"
)

// TokenToucher is the storage Uses.Flush writes to (keygate.Store).
type TokenToucher interface {
	TouchTokens(ctx context.Context, uses []keygate.TokenUse) error
}

// useKey names one token.
type useKey struct {
	kind keygate.TokenKind
	id   string
}

// maxUses bounds how many tokens Uses remembers; past it, new tokens' uses
// are not recorded until the next Flush forgets old ones. Tokens are minted
// by admins, so this is only a guard.
const maxUses = 100_000

// Uses records, coarsely, when tokens were last used: at most once per
// interval per token, in memory, written to storage by Flush, off the
// request's path. Seen costs a lock and a map lookup, and no storage round
// trip. It is safe for concurrent use.
type Uses struct {
	interval time.Duration

	mu      sync.Mutex
	noted   map[useKey]time.Time // the last use recorded or pending, per token
	pending map[useKey]time.Time // not written yet
}

// NewUses returns a Uses that records a token's use at most once per
// interval (keygate.TokenUseInterval if interval <= 0).
func NewUses(interval time.Duration) *Uses {
	if interval <= 0 {
		interval = keygate.TokenUseInterval
	}
	return &Uses{interval: interval, noted: map[useKey]time.Time{}, pending: map[useKey]time.Time{}}
}

// Seen notes that the token id of kind authenticated at now; stored is its
// last use as storage had it when the token was read (zero: none). The use
// is recorded only if neither stored nor an earlier use noted here is
// within the interval before now.
func (u *Uses) Seen(kind keygate.TokenKind, id string, stored, now time.Time) {
	if u == nil {
		return
	}
	if !stored.IsZero() && now.Sub(stored) < u.interval {
		return
	}
	k := useKey{kind, id}
	u.mu.Lock()
	defer u.mu.Unlock()
	if last, ok := u.noted[k]; ok && now.Sub(last) < u.interval {
		return
	}
	if len(u.noted) >= maxUses {
		return
	}
	u.noted[k] = now
	u.pending[k] = now
}

// Pending returns how many uses wait for Flush.
func (u *Uses) Pending() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.pending)
}

// Flush writes the pending uses to store in one call and forgets tokens
// whose last noted use is older than the interval at now. Uses whose write
// fails are kept for the next Flush (unless a newer one was noted since).
func (u *Uses) Flush(ctx context.Context, store TokenToucher, now time.Time) error {
	u.mu.Lock()
	batch := make([]keygate.TokenUse, 0, len(u.pending))
	for k, at := range u.pending {
		batch = append(batch, keygate.TokenUse{Kind: k.kind, ID: k.id, At: at})
	}
	clear(u.pending)
	for k, at := range u.noted {
		if now.Sub(at) >= u.interval {
			delete(u.noted, k)
		}
	}
	u.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	if err := store.TouchTokens(ctx, batch); err != nil {
		u.mu.Lock()
		for _, b := range batch {
			k := useKey{b.Kind, b.ID}
			if _, newer := u.pending[k]; !newer {
				u.pending[k] = b.At
				u.noted[k] = b.At
			}
		}
		u.mu.Unlock()
		return fmt.Errorf("record the last use of %d tokens: %w", len(batch), err)
	}
	return nil
}

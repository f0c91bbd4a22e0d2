// SPDX-License-Identifier: Apache-2.0

package resolver_test

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/auth"
	"github.com/keygate/keygate/internal/resolver"
)

// TestCachedTokenExpires: a gateway token that expires while it is cached
// is refused with token_expired from its expiry on, by the injected clock,
// on the very next call: the cache's TTL (an hour here) does not extend it.
// Its uses are told to Options.Uses, coarsely, without a store write.
func TestCachedTokenExpires(t *testing.T) {
	ctx := context.Background()
	st, tenant, _, _ := mustStore(t)
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := &fakeClock{now: start}
	tok, hash, _ := auth.Mint(rand.Reader, auth.GatewayTokenPrefix)
	if _, err := st.DB.CreateGatewayToken(ctx, keygate.GatewayToken{ID: "gt_exp", Name: "ci", Tenant: tenant, Hash: hash, Prefix: tok.Reveal()[:7], ExpiresAt: start.Add(10 * time.Minute)},
		keygate.AuditEvent{Action: keygate.ActionTokenCreated, Tenant: tenant}); err != nil {
		t.Fatal(err)
	}
	uses := auth.NewUses(time.Hour)
	res := resolver.New(st, newFakeKeys(), resolver.Options{TTL: time.Hour, Clock: clock.Now, Uses: uses})
	reads := reads0(st)
	for range 3 {
		if c, err := res.Authenticate(ctx, tok); err != nil || c.TokenID != "gt_exp" {
			t.Fatalf("before expiry: %+v, %v", c, err)
		}
	}
	if n := reads0(st) - reads; n != 1 {
		t.Fatalf("%d token reads for three calls, want 1 (cached)", n)
	}
	if n := uses.Pending(); n != 1 {
		t.Errorf("%d uses noted for three calls, want 1", n)
	}
	clock.Advance(10*time.Minute - time.Nanosecond)
	if _, err := res.Authenticate(ctx, tok); err != nil {
		t.Fatalf("just before expiry: %v", err)
	}
	clock.Advance(time.Nanosecond)
	_, err := res.Authenticate(ctx, tok)
	if !keygate.IsCode(err, keygate.CodeTokenExpired) || keygate.HTTPStatus(keygate.ErrorCode(err)) != 401 {
		t.Fatalf("at expiry, cached: %v, want 401 token_expired", err)
	}
	if n := reads0(st) - reads; n != 1 {
		t.Errorf("%d token reads, want the one cached read: expiry is decided from the cache", n)
	}
}

func reads0(st *testStore) int {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.tokenReads
}

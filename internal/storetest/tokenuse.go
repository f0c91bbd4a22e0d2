// SPDX-License-Identifier: Apache-2.0

package storetest

import (
	"testing"
	"time"

	"github.com/keygate/keygate"
)

// testTokenExpiryAndUse: both kinds of token keep their expiry (none, or a
// time, at microsecond precision) and record their last use, which only
// moves forward; unknown ids are skipped.
func testTokenExpiryAndUse(t *testing.T, e *env) {
	acme := MustCreateTenant(t, e.s, "acme")
	expires := e.now().Add(90*24*time.Hour + 123456789*time.Nanosecond)
	stored := expires.UTC().Truncate(time.Microsecond)
	at, err := e.s.CreateAdminToken(e.ctx, keygate.AdminToken{ID: "at_exp", Name: "ci", Role: keygate.RoleAdmin, Tenant: acme.ID, Hash: []byte("h-at"), ExpiresAt: expires},
		event(keygate.ActionTokenCreated, acme.ID))
	if err != nil {
		t.Fatalf("CreateAdminToken: %v", err)
	}
	gt, err := e.s.CreateGatewayToken(e.ctx, keygate.GatewayToken{ID: "gt_exp", Name: "app", Tenant: acme.ID, Hash: []byte("h-gt"), Prefix: "kg_x", ExpiresAt: expires},
		event(keygate.ActionTokenCreated, acme.ID))
	if err != nil {
		t.Fatalf("CreateGatewayToken: %v", err)
	}
	never, err := e.s.CreateGatewayToken(e.ctx, keygate.GatewayToken{ID: "gt_never", Name: "app", Tenant: acme.ID, Hash: []byte("h-never"), Prefix: "kg_y"},
		event(keygate.ActionTokenCreated, acme.ID))
	if err != nil {
		t.Fatalf("CreateGatewayToken: %v", err)
	}
	if !at.ExpiresAt.Equal(stored) || !gt.ExpiresAt.Equal(stored) || !never.ExpiresAt.IsZero() {
		t.Errorf("created with expiry %v, %v, %v; want %v, %v and none", at.ExpiresAt, gt.ExpiresAt, never.ExpiresAt, stored, stored)
	}

	check := func(step string, wantUsed time.Time) {
		t.Helper()
		a, err := e.s.AdminTokenByHash(e.ctx, []byte("h-at"))
		if err != nil {
			t.Fatal(err)
		}
		g, err := e.s.GatewayTokenByHash(e.ctx, []byte("h-gt"))
		if err != nil {
			t.Fatal(err)
		}
		n, err := e.s.GatewayTokenByHash(e.ctx, []byte("h-never"))
		if err != nil {
			t.Fatal(err)
		}
		if !a.ExpiresAt.Equal(stored) || !g.ExpiresAt.Equal(stored) || !n.ExpiresAt.IsZero() {
			t.Errorf("%s: expiry read back as %v, %v, %v", step, a.ExpiresAt, g.ExpiresAt, n.ExpiresAt)
		}
		if !a.LastUsedAt.Equal(wantUsed) || !g.LastUsedAt.Equal(wantUsed) || !n.LastUsedAt.IsZero() {
			t.Errorf("%s: last used %v (admin), %v (gateway), %v (unused); want %v, %v, none", step, a.LastUsedAt, g.LastUsedAt, n.LastUsedAt, wantUsed, wantUsed)
		}
		ls, err := e.s.ListGatewayTokens(e.ctx, acme.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range ls {
			if l.ID == "gt_exp" && (!l.LastUsedAt.Equal(wantUsed) || !l.ExpiresAt.Equal(stored)) {
				t.Errorf("%s: listed with last use %v, expiry %v", step, l.LastUsedAt, l.ExpiresAt)
			}
		}
	}
	check("Fresh", time.Time{})

	used := e.now().Add(time.Hour)
	uses := []keygate.TokenUse{
		{Kind: keygate.TokenAdmin, ID: "at_exp", At: used},
		{Kind: keygate.TokenGateway, ID: "gt_exp", At: used},
		{Kind: keygate.TokenGateway, ID: "gt_unknown", At: used},
	}
	if err := e.s.TouchTokens(e.ctx, uses); err != nil {
		t.Fatalf("TouchTokens: %v", err)
	}
	check("Touched", used.UTC())

	// An older use (one recorded late by another replica) does not move
	// the last use back.
	if err := e.s.TouchTokens(e.ctx, []keygate.TokenUse{
		{Kind: keygate.TokenAdmin, ID: "at_exp", At: used.Add(-time.Minute)},
		{Kind: keygate.TokenGateway, ID: "gt_exp", At: used.Add(-time.Minute)},
	}); err != nil {
		t.Fatalf("TouchTokens(older): %v", err)
	}
	check("Older", used.UTC())

	err = e.s.TouchTokens(e.ctx, []keygate.TokenUse{{Kind: "root", ID: "at_exp", At: used}})
	wantCode(t, "TouchTokens(bad kind)", err, keygate.CodeInvalidRequest)
}

// SPDX-License-Identifier: Apache-2.0

package postgres_test

import (
	"testing"
	"time"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/storetest"
)

// TestTouchTokensNotifiesNothing: recording a gateway token's last use
// sends nothing on the change feed (other replicas keep the token cached),
// while a real change of the token still does. Commit order is delivery
// order, so another token's change arriving next proves the touch sent
// none.
func TestTouchTokensNotifiesNothing(t *testing.T) {
	db, changes := listenFresh(t)
	ctx := t.Context()

	acme := storetest.MustCreateTenant(t, db, "acme")
	receive(t, "tenant change", changes)
	ev := keygate.AuditEvent{Action: keygate.ActionTokenCreated, Tenant: acme.ID}
	if _, err := db.CreateGatewayToken(ctx, keygate.GatewayToken{ID: "gt_1", Name: "app", Tenant: acme.ID, Hash: []byte("h-1"), Prefix: "kg_1"}, ev); err != nil {
		t.Fatal(err)
	}
	if c := receive(t, "token change", changes); c.Kind != keygate.ChangeToken || c.ID != "gt_1" {
		t.Fatalf("change = %+v, want gt_1's", c)
	}
	if err := db.TouchTokens(ctx, []keygate.TokenUse{{Kind: keygate.TokenGateway, ID: "gt_1", At: time.Now()}}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateGatewayToken(ctx, keygate.GatewayToken{ID: "gt_2", Name: "app", Tenant: acme.ID, Hash: []byte("h-2"), Prefix: "kg_2"}, ev); err != nil {
		t.Fatal(err)
	}
	if c := receive(t, "token change", changes); c.Kind != keygate.ChangeToken || c.ID != "gt_2" {
		t.Fatalf("change = %+v, want gt_2's: the touch of gt_1 notified", c)
	}
	ev.Action = keygate.ActionTokenRevoked
	if err := db.RevokeGatewayToken(ctx, acme.ID, "gt_1", ev); err != nil {
		t.Fatal(err)
	}
	if c := receive(t, "revocation change", changes); c.Kind != keygate.ChangeToken || c.ID != "gt_1" {
		t.Fatalf("change = %+v, want gt_1's revocation", c)
	}
	tok, err := db.GatewayTokenByHash(ctx, []byte("h-1"))
	if err != nil || tok.LastUsedAt.IsZero() || tok.RevokedAt.IsZero() {
		t.Fatalf("token after touch and revoke: %+v, %v", tok, err)
	}
}

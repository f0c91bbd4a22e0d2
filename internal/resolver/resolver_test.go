package resolver_test

import (
	"context"
	"crypto/rand"
	"path/filepath"
	"testing"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/auth"
	"github.com/keygate/keygate/internal/resolver"
	"github.com/keygate/keygate/internal/sqlite"
)

// pausingStore is a real SQLite store whose reads can be held between
// reading the row and returning it: the window in which a change can land.
type pausingStore struct {
	*sqlite.DB
	hold chan chan struct{} // when set, a read sends a channel and waits for it to close
}

func (p *pausingStore) pause() {
	if p.hold == nil {
		return
	}
	release := make(chan struct{})
	p.hold <- release
	<-release
}

func (p *pausingStore) GatewayTokenByHash(ctx context.Context, h []byte) (keygate.GatewayToken, error) {
	t, err := p.DB.GatewayTokenByHash(ctx, h)
	p.pause()
	return t, err
}

func (p *pausingStore) GetTenant(ctx context.Context, ref string) (keygate.Tenant, error) {
	t, err := p.DB.GetTenant(ctx, ref)
	p.pause()
	return t, err
}

// duringRead runs read in the background and, while read's store call is
// held open between reading its row and returning it, runs change; then it
// lets the read finish and returns its error.
func (p *pausingStore) duringRead(read func() error, change func()) error {
	p.hold = make(chan chan struct{})
	defer func() { p.hold = nil }()
	done := make(chan error)
	go func() { done <- read() }()
	release := <-p.hold
	change()
	close(release)
	return <-done
}

// noKeys answers every key lookup with "none stored".
type noKeys struct{}

func (noKeys) Lookup(context.Context, keygate.TenantID, string) (keygate.Secret, keygate.ProviderKey, bool, error) {
	return keygate.Secret{}, keygate.ProviderKey{}, false, nil
}

func mustStore(tb testing.TB) (*pausingStore, keygate.TenantID, keygate.Secret, string) {
	tb.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(tb.TempDir(), "keygate.db"), sqlite.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	id := keygate.TenantID("tn_acme")
	if _, err := db.CreateTenant(ctx, keygate.Tenant{ID: id, Name: "acme", BYOKEnabled: true}, keygate.AuditEvent{Action: keygate.ActionTenantCreated, Tenant: id}); err != nil {
		tb.Fatal(err)
	}
	tok, hash, err := auth.Mint(rand.Reader, auth.GatewayTokenPrefix)
	if err != nil {
		tb.Fatal(err)
	}
	gid, _ := auth.NewID(rand.Reader, "gt_")
	if _, err := db.CreateGatewayToken(ctx, keygate.GatewayToken{ID: gid, Name: "app", Tenant: id, Hash: hash, Prefix: tok.Reveal()[:7]}, keygate.AuditEvent{Action: keygate.ActionTokenCreated, Tenant: id}); err != nil {
		tb.Fatal(err)
	}
	return &pausingStore{DB: db}, id, tok, gid
}

// TestRevokedWhileReadingIsNotCached: a token read from the store just
// before it is revoked (and whose invalidation arrives before the read
// returns) may serve the call in flight, but must not be cached as valid:
// the next call is refused.
func TestRevokedWhileReadingIsNotCached(t *testing.T) {
	ctx := context.Background()
	st, tenant, tok, gid := mustStore(t)
	res := resolver.New(st, noKeys{}, resolver.Options{})
	err := st.duringRead(func() error {
		_, err := res.Authenticate(ctx, tok)
		return err
	}, func() { // the token row (not yet revoked) has been read
		if err := st.DB.RevokeGatewayToken(ctx, tenant, gid, keygate.AuditEvent{Action: keygate.ActionTokenRevoked, Tenant: tenant}); err != nil {
			t.Error(err)
		}
		res.InvalidateToken(gid)
	})
	if err != nil {
		t.Fatalf("the call in flight: %v", err)
	}
	if _, err := res.Authenticate(ctx, tok); !keygate.IsCode(err, keygate.CodeUnauthorized) {
		t.Fatalf("after revocation: err = %v, want unauthorized (a stale read was cached)", err)
	}
}

// TestTenantChangedWhileReadingIsNotCached: the same for a tenant's
// entitlement: BYOK switched off while the tenant was being read.
func TestTenantChangedWhileReadingIsNotCached(t *testing.T) {
	ctx := context.Background()
	st, tenant, _, _ := mustStore(t)
	res := resolver.New(st, noKeys{}, resolver.Options{})
	err := st.duringRead(func() error {
		_, _, err := res.Tenant(ctx, tenant)
		return err
	}, func() {
		off := false
		if _, err := st.DB.UpdateTenant(ctx, tenant, keygate.TenantUpdate{BYOKEnabled: &off}, keygate.AuditEvent{Action: keygate.ActionTenantUpdated, Tenant: tenant}); err != nil {
			t.Error(err)
		}
		res.InvalidateTenant(tenant)
	})
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := res.Tenant(ctx, tenant)
	if err != nil {
		t.Fatal(err)
	}
	if got.BYOKEnabled {
		t.Fatal("BYOK still on after it was switched off: a stale read was cached")
	}
}

// TestUnrelatedChangesDoNotStopCaching: a change to another token or
// tenant while a token and its tenant are being read must not keep them out
// of the cache: cached answers are what keeps calls working while the
// store is down.
func TestUnrelatedChangesDoNotStopCaching(t *testing.T) {
	ctx := context.Background()
	st, tenant, tok, _ := mustStore(t)
	res := resolver.New(st, noKeys{}, resolver.Options{})
	others := func() {
		res.InvalidateToken("gt_other")
		res.InvalidateTenant("tn_other")
	}
	if err := st.duringRead(func() error { _, err := res.Authenticate(ctx, tok); return err }, others); err != nil {
		t.Fatal(err)
	}
	if err := st.duringRead(func() error { _, _, err := res.Tenant(ctx, tenant); return err }, others); err != nil {
		t.Fatal(err)
	}
	if err := st.DB.Close(); err != nil { // the store is gone from here on
		t.Fatal(err)
	}
	if _, err := res.Authenticate(ctx, tok); err != nil {
		t.Errorf("token not cached: %v", err)
	}
	if _, _, err := res.Tenant(ctx, tenant); err != nil {
		t.Errorf("tenant not cached: %v", err)
	}
}

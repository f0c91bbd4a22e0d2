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
	st.hold = make(chan chan struct{})
	done := make(chan error)
	go func() {
		_, err := res.Authenticate(ctx, tok)
		done <- err
	}()
	release := <-st.hold // the token row (not yet revoked) has been read
	if err := st.DB.RevokeGatewayToken(ctx, tenant, gid, keygate.AuditEvent{Action: keygate.ActionTokenRevoked, Tenant: tenant}); err != nil {
		t.Fatal(err)
	}
	res.InvalidateToken(gid)
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("the call in flight: %v", err)
	}
	st.hold = nil
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
	st.hold = make(chan chan struct{})
	done := make(chan error)
	go func() {
		_, _, err := res.Tenant(ctx, tenant)
		done <- err
	}()
	release := <-st.hold
	off := false
	if _, err := st.DB.UpdateTenant(ctx, tenant, keygate.TenantUpdate{BYOKEnabled: &off}, keygate.AuditEvent{Action: keygate.ActionTenantUpdated, Tenant: tenant}); err != nil {
		t.Fatal(err)
	}
	res.InvalidateTenant(tenant)
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	st.hold = nil
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
	st.hold = make(chan chan struct{})
	done := make(chan error)
	go func() {
		_, err := res.Authenticate(ctx, tok)
		done <- err
	}()
	release := <-st.hold // the token has been read
	res.InvalidateToken("gt_other")
	res.InvalidateTenant("tn_other")
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	go func() {
		_, _, err := res.Tenant(ctx, tenant)
		done <- err
	}()
	release = <-st.hold // the tenant has been read
	res.InvalidateTenant("tn_other")
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	st.hold = nil
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

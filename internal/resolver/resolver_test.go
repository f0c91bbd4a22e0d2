// SPDX-License-Identifier: Apache-2.0

package resolver_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/auth"
	"github.com/keygate/keygate/internal/envelope"
	"github.com/keygate/keygate/internal/keeper"
	"github.com/keygate/keygate/internal/keyvault"
	"github.com/keygate/keygate/internal/provider"
	"github.com/keygate/keygate/internal/resolver"
	"github.com/keygate/keygate/internal/sqlite"
)

// testStore is a real SQLite store whose reads can be held between reading
// the row and returning it (the window in which a change can land), and
// whose change announcements the test makes itself, so that each test says
// exactly which change reaches the cache and when.
type testStore struct {
	*sqlite.DB
	hold chan chan struct{} // when set, a read sends a channel and waits for it to close

	mu         sync.Mutex
	subs       []func(keygate.Change)
	tokenReads int
}

func (p *testStore) pause() {
	if p.hold == nil {
		return
	}
	release := make(chan struct{})
	p.hold <- release
	<-release
}

func (p *testStore) GatewayTokenByHash(ctx context.Context, h []byte) (keygate.GatewayToken, error) {
	p.mu.Lock()
	p.tokenReads++
	p.mu.Unlock()
	t, err := p.DB.GatewayTokenByHash(ctx, h)
	p.pause()
	return t, err
}

func (p *testStore) GetTenant(ctx context.Context, ref string) (keygate.Tenant, error) {
	t, err := p.DB.GetTenant(ctx, ref)
	p.pause()
	return t, err
}

func (p *testStore) Subscribe(f func(keygate.Change)) func() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.subs = append(p.subs, f)
	return func() {}
}

// announce delivers c to the subscribers, as the store does after a commit.
func (p *testStore) announce(c keygate.Change) {
	p.mu.Lock()
	subs := append([]func(keygate.Change){}, p.subs...)
	p.mu.Unlock()
	for _, f := range subs {
		f(c)
	}
}

// duringRead runs read in the background and, while read's store call is
// held open between reading its row and returning it, runs change; then it
// lets the read finish and returns its error.
func (p *testStore) duringRead(read func() error, change func()) error {
	p.hold = make(chan chan struct{})
	defer func() { p.hold = nil }()
	done := make(chan error)
	go func() { done <- read() }()
	release := <-p.hold
	change()
	close(release)
	return <-done
}

// fakeKeys serves keys from a map, counts how often each owner's key is
// opened, and fails the owners in broken.
type fakeKeys struct {
	mu     sync.Mutex
	keys   map[keygate.TenantID]keygate.Secret
	broken map[keygate.TenantID]bool
	// unreadable: the owner's stored key does not decrypt (keyvault's
	// key_unreadable), unlike broken (storage or master key unreachable).
	unreadable map[keygate.TenantID]bool
	opens      map[keygate.TenantID]int
}

func newFakeKeys() *fakeKeys {
	return &fakeKeys{keys: map[keygate.TenantID]keygate.Secret{}, broken: map[keygate.TenantID]bool{}, unreadable: map[keygate.TenantID]bool{}, opens: map[keygate.TenantID]int{}}
}

func (f *fakeKeys) Open(_ context.Context, owner keygate.TenantID, provider string) (keygate.Secret, keygate.ProviderKey, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.opens[owner]++
	if f.broken[owner] {
		return keygate.Secret{}, keygate.ProviderKey{}, false, errors.New("dial tcp: connection refused")
	}
	if f.unreadable[owner] {
		return keygate.Secret{}, keygate.ProviderKey{}, false, fmt.Errorf("%w: message authentication failed", keygate.Errorf(keygate.CodeKeyUnreadable, "The stored %s key of %s cannot be decrypted.", provider, owner))
	}
	k, ok := f.keys[owner]
	return k, keygate.ProviderKey{ID: "pk_" + string(owner), Owner: owner, Provider: provider, Version: 1}, ok, nil
}

func (f *fakeKeys) Forget(keygate.Sealed) {}

func (f *fakeKeys) opened(owner keygate.TenantID) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.opens[owner]
}

// fakeClock is a clock the test moves.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func mustStore(tb testing.TB) (*testStore, keygate.TenantID, keygate.Secret, string) {
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
	return &testStore{DB: db}, id, tok, gid
}

func mustPolicy(tb testing.TB, st *testStore, tenant keygate.TenantID, p keygate.Policy) {
	tb.Helper()
	if _, err := st.DB.PutPolicy(context.Background(), keygate.TenantPolicy{Tenant: tenant, Default: p}, keygate.AuditEvent{Action: keygate.ActionPolicyUpdated, Tenant: tenant}); err != nil {
		tb.Fatal(err)
	}
	st.announce(keygate.Change{Kind: keygate.ChangeTenant, Owner: tenant})
}

// TestRevokedWhileReadingIsNotCached: a token read from the store just
// before it is revoked (and whose change arrives before the read returns)
// may serve the call in flight, but must not be cached as valid: the next
// call is refused.
func TestRevokedWhileReadingIsNotCached(t *testing.T) {
	ctx := context.Background()
	st, tenant, tok, gid := mustStore(t)
	res := resolver.New(st, newFakeKeys(), resolver.Options{})
	err := st.duringRead(func() error {
		_, err := res.Authenticate(ctx, tok)
		return err
	}, func() { // the token row (not yet revoked) has been read
		if err := st.DB.RevokeGatewayToken(ctx, tenant, gid, keygate.AuditEvent{Action: keygate.ActionTokenRevoked, Tenant: tenant}); err != nil {
			t.Error(err)
		}
		st.announce(keygate.Change{Kind: keygate.ChangeToken, Owner: tenant, ID: gid})
	})
	if err != nil {
		t.Fatalf("the call in flight: %v", err)
	}
	if _, err := res.Authenticate(ctx, tok); !keygate.IsCode(err, keygate.CodeUnauthorized) {
		t.Fatalf("after revocation: err = %v, want unauthorized (a stale read was cached)", err)
	}
}

// TestTenantChangedWhileReadingIsNotCached: the same for a tenant's
// entitlement: BYOK switched off while the tenant was being read. The call
// in flight may still use the tenant's key; the next may not.
func TestTenantChangedWhileReadingIsNotCached(t *testing.T) {
	ctx := context.Background()
	st, tenant, _, _ := mustStore(t)
	keys := newFakeKeys()
	keys.keys[tenant] = keygate.NewSecret("sk-tenant")
	res := resolver.New(st, keys, resolver.Options{})
	caller := resolver.Caller{Tenant: tenant}
	var d resolver.Decision
	err := st.duringRead(func() (err error) {
		d, err = res.Resolve(ctx, caller, "openai", keygate.Secret{})
		return err
	}, func() {
		off := false
		if _, err := st.DB.UpdateTenant(ctx, tenant, keygate.TenantUpdate{BYOKEnabled: &off}, keygate.AuditEvent{Action: keygate.ActionTenantUpdated, Tenant: tenant}); err != nil {
			t.Error(err)
		}
		st.announce(keygate.Change{Kind: keygate.ChangeTenant, Owner: tenant})
	})
	if err != nil || d.Credential.Source != keygate.SourceTenant {
		t.Fatalf("the call in flight: %v, source %q", err, d.Credential.Source)
	}
	if _, err := res.Resolve(ctx, caller, "openai", keygate.Secret{}); !keygate.IsCode(err, keygate.CodeProviderKeyMissing) {
		t.Fatalf("after BYOK was switched off: %v, want provider_key_missing (a stale read was cached)", err)
	}
}

// TestUnrelatedChangesDoNotStopCaching: a change to another token, tenant
// or key while a token and its tenant are being read must not keep them
// out of the cache: cached answers are what keeps calls working while the
// store is down.
func TestUnrelatedChangesDoNotStopCaching(t *testing.T) {
	ctx := context.Background()
	st, tenant, tok, _ := mustStore(t)
	keys := newFakeKeys()
	keys.keys[tenant] = keygate.NewSecret("sk-tenant")
	res := resolver.New(st, keys, resolver.Options{})
	others := func() {
		st.announce(keygate.Change{Kind: keygate.ChangeToken, Owner: "tn_other", ID: "gt_other"})
		st.announce(keygate.Change{Kind: keygate.ChangeTenant, Owner: "tn_other"})
		st.announce(keygate.Change{Kind: keygate.ChangeKey, Owner: "tn_other", Provider: "openai"})
		st.announce(keygate.Change{Kind: keygate.ChangeUsage})
	}
	var caller resolver.Caller
	if err := st.duringRead(func() (err error) { caller, err = res.Authenticate(ctx, tok); return err }, others); err != nil {
		t.Fatal(err)
	}
	if err := st.duringRead(func() error { _, err := res.Resolve(ctx, caller, "openai", keygate.Secret{}); return err }, others); err != nil {
		t.Fatal(err)
	}
	if err := st.DB.Close(); err != nil { // the store is gone from here on
		t.Fatal(err)
	}
	if _, err := res.Authenticate(ctx, tok); err != nil {
		t.Errorf("token not cached: %v", err)
	}
	if d, err := res.Resolve(ctx, caller, "openai", keygate.Secret{}); err != nil || d.Credential.Source != keygate.SourceTenant {
		t.Errorf("tenant or key not cached: %v", err)
	}
	if n := keys.opened(tenant); n != 1 {
		t.Errorf("the tenant's key was opened %d times, want once", n)
	}
}

// TestUnknownTokensAreNotCached: anyone can send random tokens; caching
// them would grow the cache without bound.
func TestUnknownTokensAreNotCached(t *testing.T) {
	ctx := context.Background()
	st, _, _, _ := mustStore(t)
	res := resolver.New(st, newFakeKeys(), resolver.Options{})
	for range 2 {
		if _, err := res.Authenticate(ctx, keygate.NewSecret("kg_unknown")); !keygate.IsCode(err, keygate.CodeUnauthorized) {
			t.Fatalf("err = %v, want unauthorized", err)
		}
	}
	if st.tokenReads != 2 {
		t.Fatalf("the store was asked %d times, want 2 (an unknown token is not cached)", st.tokenReads)
	}
}

// TestEntriesExpire: a change the cache never heard of (a replica without
// a change feed) is seen once the entry's TTL has passed.
func TestEntriesExpire(t *testing.T) {
	ctx := context.Background()
	st, tenant, tok, gid := mustStore(t)
	clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	res := resolver.New(st, newFakeKeys(), resolver.Options{TTL: time.Minute, Clock: clock.Now})
	if _, err := res.Authenticate(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if err := st.DB.RevokeGatewayToken(ctx, tenant, gid, keygate.AuditEvent{Action: keygate.ActionTokenRevoked, Tenant: tenant}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(59 * time.Second)
	if _, err := res.Authenticate(ctx, tok); err != nil {
		t.Fatalf("within the TTL the cached answer stands: %v", err)
	}
	clock.Advance(time.Second)
	if _, err := res.Authenticate(ctx, tok); !keygate.IsCode(err, keygate.CodeUnauthorized) {
		t.Fatalf("after the TTL: %v, want unauthorized", err)
	}
}

// TestFallbackKeyOpenedOnlyWhenUsed: the platform key is looked up when it
// pays for the call, or when the fallback is used (a fallback opened
// eagerly fails "TenantPaysWithFallback"); a platform key that cannot be
// read (unavailable) or cannot be decrypted (key_unreadable, kept as such)
// fails only those calls.
func TestFallbackKeyOpenedOnlyWhenUsed(t *testing.T) {
	for _, brk := range []string{keygate.CodeUnavailable, keygate.CodeKeyUnreadable} {
		t.Run(brk, func(t *testing.T) { testFallbackKeyOpenedOnlyWhenUsed(t, brk) })
	}
}

func testFallbackKeyOpenedOnlyWhenUsed(t *testing.T, brk string) {
	ctx := context.Background()
	tests := []struct {
		name        string
		policy      keygate.Policy
		tenantKey   bool
		wantCode    string // of Resolve
		wantSource  keygate.KeySource
		wantFB      bool
		wantOpenedP int // platform key opens by Resolve
	}{
		{"TenantPaysNoFallback", keygate.Policy{Mode: keygate.ModeTenantThenPlatform}, true, "", keygate.SourceTenant, false, 0},
		{"TenantOnly", keygate.Policy{Mode: keygate.ModeTenantOnly, FallbackOnError: true}, true, "", keygate.SourceTenant, false, 0},
		{"TenantPaysWithFallback", keygate.Policy{Mode: keygate.ModeTenantThenPlatform, FallbackOnError: true}, true, "", keygate.SourceTenant, true, 0},
		{"PlatformPays", keygate.Policy{Mode: keygate.ModeTenantThenPlatform}, false, keygate.CodeUnavailable, "", false, 1},
		{"PlatformOnly", keygate.Policy{Mode: keygate.ModePlatformOnly}, true, keygate.CodeUnavailable, "", false, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, tenant, _, _ := mustStore(t)
			keys := newFakeKeys()
			if brk == keygate.CodeUnavailable {
				keys.broken[keygate.PlatformScope] = true
			} else {
				keys.unreadable[keygate.PlatformScope] = true
			}
			if tc.wantCode != "" {
				tc.wantCode = brk
			}
			if tc.tenantKey {
				keys.keys[tenant] = keygate.NewSecret("sk-tenant")
			}
			res := resolver.New(st, keys, resolver.Options{})
			mustPolicy(t, st, tenant, tc.policy)
			d, err := res.Resolve(ctx, resolver.Caller{Tenant: tenant}, "openai", keygate.Secret{})
			if keygate.ErrorCode(err) != tc.wantCode && !(tc.wantCode == "" && err == nil) {
				t.Fatalf("Resolve: %v, want %q", err, tc.wantCode)
			}
			if n := keys.opened(keygate.PlatformScope); n != tc.wantOpenedP {
				t.Fatalf("the platform key was opened %d times by Resolve, want %d", n, tc.wantOpenedP)
			}
			if err != nil {
				return
			}
			if d.Credential.Source != tc.wantSource || d.HasFallback() != tc.wantFB {
				t.Fatalf("decision: source %q, fallback %v; want %q, %v", d.Credential.Source, d.HasFallback(), tc.wantSource, tc.wantFB)
			}
			_, ok, err := d.Fallback(ctx)
			if tc.wantFB {
				if keygate.ErrorCode(err) != brk || keys.opened(keygate.PlatformScope) != 1 {
					t.Fatalf("Fallback: %v after %d opens, want %s after one", err, keys.opened(keygate.PlatformScope), brk)
				}
			} else if ok || err != nil {
				t.Fatalf("Fallback without one: %v %v", ok, err)
			}
		})
	}
}

// TestFallbackWithoutPlatformKey: a fallback the policy allows, when the
// platform has no key, is reported as none when the retry asks for it.
func TestFallbackWithoutPlatformKey(t *testing.T) {
	ctx := context.Background()
	st, tenant, _, _ := mustStore(t)
	keys := newFakeKeys()
	keys.keys[tenant] = keygate.NewSecret("sk-tenant")
	res := resolver.New(st, keys, resolver.Options{})
	mustPolicy(t, st, tenant, keygate.Policy{Mode: keygate.ModeTenantThenPlatform, FallbackOnError: true})
	d, err := res.Resolve(ctx, resolver.Caller{Tenant: tenant}, "openai", keygate.Secret{})
	if err != nil || !d.HasFallback() {
		t.Fatalf("Resolve: %v, fallback %v", err, d.HasFallback())
	}
	if _, ok, err := d.Fallback(ctx); ok || err != nil {
		t.Fatalf("Fallback: ok %v, err %v; want none", ok, err)
	}
	keys.mu.Lock()
	keys.keys[keygate.PlatformScope] = keygate.NewSecret("sk-platform")
	keys.mu.Unlock()
	st.announce(keygate.Change{Kind: keygate.ChangeKey, Owner: keygate.PlatformScope, Provider: "openai"})
	c, ok, err := d.Fallback(ctx)
	if err != nil || !ok || c.Source != keygate.SourcePlatform || !c.Key.Equal(keygate.NewSecret("sk-platform")) {
		t.Fatalf("Fallback after a platform key was set: %+v %v %v", c, ok, err)
	}
}

// vaultFixture is a real key vault on a real store, whose keyring the
// test can inspect.
type vaultFixture struct {
	vault   *keyvault.Service
	keyring *envelope.Keyring
}

func mustMasterKey(tb testing.TB) envelope.KEK {
	tb.Helper()
	set, err := keeper.Open(context.Background(), "", keeper.Options{DataDir: tb.TempDir()})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { set.Close() })
	return set.Primary()
}

// mustVault returns a vault on db whose keyring holds primary and older.
func mustVault(tb testing.TB, db *sqlite.DB, primary envelope.KEK, older ...envelope.KEK) vaultFixture {
	tb.Helper()
	kr, err := envelope.NewKeyring(primary, older...)
	if err != nil {
		tb.Fatal(err)
	}
	cat, err := provider.Default()
	if err != nil {
		tb.Fatal(err)
	}
	v := keyvault.New(db, kr, cat, keyvault.Options{})
	if err := v.Init(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return vaultFixture{vault: v, keyring: kr}
}

var change = keyvault.Change{Actor: keygate.Actor{ID: "at_test", Name: "test"}}

// TestUnreadablePlatformKeyFailsOnlyItsCalls: a platform key sealed under
// a master key this keyring does not hold (as after a lost master key, or
// a corrupt row) fails the calls that need it, with key_unreadable (not
// unavailable: no retry will help), and no other: a tenant whose own key
// pays, with no fallback, is served.
func TestUnreadablePlatformKeyFailsOnlyItsCalls(t *testing.T) {
	ctx := context.Background()
	st, tenant, _, _ := mustStore(t)
	known, unknown := mustMasterKey(t), mustMasterKey(t)
	gw := mustVault(t, st.DB, known)
	other := mustVault(t, st.DB, unknown, known) // seals under a master key the gateway lacks
	if _, err := other.vault.Put(ctx, change, keygate.PlatformScope, "openai", keygate.NewSecret("sk-platformPPPPPPPPPPPPPPPPPPPPPPPPP")); err != nil {
		t.Fatal(err)
	}
	if _, err := gw.vault.Put(ctx, change, tenant, "openai", keygate.NewSecret("sk-tenantAAAAAAAAAAAAAAAAAAAAAAAAAAAA")); err != nil {
		t.Fatal(err)
	}
	res := resolver.New(st, gw.vault, resolver.Options{})
	caller := resolver.Caller{Tenant: tenant}
	d, err := res.Resolve(ctx, caller, "openai", keygate.Secret{})
	if err != nil || d.Credential.Source != keygate.SourceTenant {
		t.Fatalf("a tenant paying with its own key: %v", err)
	}
	mustPolicy(t, st, tenant, keygate.Policy{Mode: keygate.ModePlatformOnly})
	if _, err := res.Resolve(ctx, caller, "openai", keygate.Secret{}); !keygate.IsCode(err, keygate.CodeKeyUnreadable) ||
		!strings.Contains(keygate.ErrorMessage(err), "stored openai key of the platform") {
		t.Fatalf("a tenant on the platform key: %v, want key_unreadable naming the key", err)
	}
}

// pausingKeys holds Open between reading the key and returning it.
type pausingKeys struct {
	*keyvault.Service
	hold chan chan struct{}
}

func (p *pausingKeys) Open(ctx context.Context, owner keygate.TenantID, prov string) (keygate.Secret, keygate.ProviderKey, bool, error) {
	k, meta, ok, err := p.Service.Open(ctx, owner, prov)
	if p.hold != nil {
		release := make(chan struct{})
		p.hold <- release
		<-release
	}
	return k, meta, ok, err
}

// TestKeyLoadsStoppedByChange: a first load of a key (nothing cached yet)
// that read the old version before a change, and returns after the change
// (of that key, or a resync of the change feed), must not cache the old
// version: the next call uses the new one.
func TestKeyLoadsStoppedByChange(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(st *testStore, res *resolver.Service, tenant keygate.TenantID)
	}{
		{"KeyChange", func(st *testStore, _ *resolver.Service, tenant keygate.TenantID) {
			st.announce(keygate.Change{Kind: keygate.ChangeKey, Owner: tenant, Provider: "openai"})
		}},
		{"TenantChange", func(st *testStore, _ *resolver.Service, tenant keygate.TenantID) {
			st.announce(keygate.Change{Kind: keygate.ChangeTenant, Owner: tenant})
		}},
		{"Resync", func(_ *testStore, res *resolver.Service, _ keygate.TenantID) {
			_ = res.Listen(context.Background(), resyncFeed{})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			st, tenant, _, _ := mustStore(t)
			f := mustVault(t, st.DB, mustMasterKey(t))
			if _, err := f.vault.Put(ctx, change, tenant, "openai", keygate.NewSecret("sk-testkey000000000000000000000001")); err != nil {
				t.Fatal(err)
			}
			keys := &pausingKeys{Service: f.vault}
			res := resolver.New(st, keys, resolver.Options{})
			caller := resolver.Caller{Tenant: tenant}
			if _, err := res.Resolve(ctx, caller, "anthropic", keygate.Secret{}); !keygate.IsCode(err, keygate.CodeProviderKeyMissing) {
				t.Fatal(err) // the tenant snapshot is cached; only the key is read below
			}
			keys.hold = make(chan chan struct{})
			done := make(chan keygate.Secret)
			go func() {
				d, err := res.Resolve(ctx, caller, "openai", keygate.Secret{})
				if err != nil {
					t.Error(err)
				}
				done <- d.Credential.Key
			}()
			release := <-keys.hold // version 1 has been read
			if _, err := f.vault.Put(ctx, change, tenant, "openai", keygate.NewSecret("sk-testkey000000000000000000000002")); err != nil {
				t.Fatal(err)
			}
			tc.change(st, res, tenant)
			close(release)
			if k := <-done; !k.Equal(keygate.NewSecret("sk-testkey000000000000000000000001")) {
				t.Fatal("the load in flight should answer with what it read")
			}
			keys.hold = nil
			d, err := res.Resolve(ctx, caller, "openai", keygate.Secret{})
			if err != nil {
				t.Fatal(err)
			}
			if !d.Credential.Key.Equal(keygate.NewSecret("sk-testkey000000000000000000000002")) {
				t.Fatal("the gateway still uses version 1: a stale load was cached")
			}
		})
	}
}

// resyncFeed is a change feed that connects once and ends.
type resyncFeed struct{}

func (resyncFeed) Listen(_ context.Context, _ func(keygate.Change), resync func()) error {
	resync()
	return nil
}

// TestRotationsDoNotFillTheDataKeyCache: the keyring caches the data key of
// every version opened; a superseded version's must go when its cached key
// does, or a busy rotation schedule fills the keyring's cache with entries
// that are never read again (each holding a few KiB until evicted).
func TestRotationsDoNotFillTheDataKeyCache(t *testing.T) {
	ctx := context.Background()
	st, tenant, _, _ := mustStore(t)
	f := mustVault(t, st.DB, mustMasterKey(t))
	res := resolver.New(st, f.vault, resolver.Options{})
	base := f.keyring.CachedDataKeys()
	const rotations = 50
	for i := range rotations {
		if _, err := f.vault.Put(ctx, change, tenant, "openai", keygate.NewSecret(fmt.Sprintf("sk-testkey%030d", i))); err != nil {
			t.Fatal(err)
		}
		st.announce(keygate.Change{Kind: keygate.ChangeKey, Owner: tenant, Provider: "openai"})
		if _, err := res.Resolve(ctx, resolver.Caller{Tenant: tenant}, "openai", keygate.Secret{}); err != nil {
			t.Fatal(err)
		}
	}
	got := f.keyring.CachedDataKeys() - base
	t.Logf("after %d rotations, each read once: %d data keys cached besides the server's own", rotations, got)
	if got > 2 {
		t.Errorf("%d data keys cached after %d rotations of one key, want at most 2", got, rotations)
	}
}

// countingFeed counts, in order, what the cache told its observer, and
// checks, when a change is counted, that the cache no longer serves the
// token it dropped.
type countingFeed struct {
	t      *testing.T
	res    *resolver.Service
	tok    keygate.Secret
	events []string
}

func (c *countingFeed) ObserveChange(kind string) {
	if _, err := c.res.Authenticate(context.Background(), c.tok); !keygate.IsCode(err, keygate.CodeUnauthorized) {
		c.t.Errorf("counted a %s change whose entry is still served: %v", kind, err)
	}
	c.events = append(c.events, "change:"+kind)
}

func (c *countingFeed) ObserveResync() { c.events = append(c.events, "resync") }

// replayFeed delivers its changes, then reconnects once.
type replayFeed struct{ changes []keygate.Change }

func (r replayFeed) Listen(_ context.Context, f func(keygate.Change), resync func()) error {
	for _, c := range r.changes {
		f(c)
	}
	resync()
	return nil
}

// TestListenDropsThenCounts: a change from another replica is counted only
// once its entry is gone, and a reconnection once everything is.
func TestListenDropsThenCounts(t *testing.T) {
	ctx := context.Background()
	st, tenant, tok, gid := mustStore(t)
	obs := &countingFeed{t: t, tok: tok}
	res := resolver.New(st, newFakeKeys(), resolver.Options{Feed: obs})
	obs.res = res
	if _, err := res.Authenticate(ctx, tok); err != nil {
		t.Fatal(err)
	}
	// Revoked by another replica: this one hears of it only from the feed.
	if err := st.DB.RevokeGatewayToken(ctx, tenant, gid, keygate.AuditEvent{Action: keygate.ActionTokenRevoked, Tenant: tenant}); err != nil {
		t.Fatal(err)
	}
	if _, err := res.Authenticate(ctx, tok); err != nil {
		t.Fatalf("before the feed's notice the cached answer stands: %v", err)
	}
	if err := res.Listen(ctx, replayFeed{changes: []keygate.Change{{Kind: keygate.ChangeToken, Owner: tenant, ID: gid}}}); err != nil {
		t.Fatal(err)
	}
	if len(obs.events) != 2 || obs.events[0] != "change:token" || obs.events[1] != "resync" {
		t.Fatalf("observed %v, want [change:token resync]", obs.events)
	}
}

// BenchmarkDecisionWarm is one call's questions with a warm cache: token
// → caller, then the decision (tenant snapshot and tenant key). It must
// not allocate. Token uses are noted, as in the server.
func BenchmarkDecisionWarm(b *testing.B) {
	ctx := context.Background()
	st, tenant, tok, _ := mustStore(b)
	f := mustVault(b, st.DB, mustMasterKey(b))
	if _, err := f.vault.Put(ctx, change, tenant, "openai", keygate.NewSecret("sk-tenantAAAAAAAAAAAAAAAAAAAAAAAAAAAA")); err != nil {
		b.Fatal(err)
	}
	res := resolver.New(st, f.vault, resolver.Options{Uses: auth.NewUses(0)})
	if _, err := res.Resolve(ctx, resolver.Caller{Tenant: tenant}, "openai", keygate.Secret{}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		c, err := res.Authenticate(ctx, tok)
		if err != nil {
			b.Fatal(err)
		}
		if d, err := res.Resolve(ctx, c, "openai", keygate.Secret{}); err != nil || d.Credential.Source != keygate.SourceTenant {
			b.Fatal(err)
		}
	}
}

// BenchmarkKeyWarm is the credential lookup of a warm call alone (what the
// key vault's own cache measured before the gateway had one cache).
func BenchmarkKeyWarm(b *testing.B) {
	ctx := context.Background()
	st, tenant, _, _ := mustStore(b)
	f := mustVault(b, st.DB, mustMasterKey(b))
	if _, err := f.vault.Put(ctx, change, tenant, "openai", keygate.NewSecret("sk-tenantAAAAAAAAAAAAAAAAAAAAAAAAAAAA")); err != nil {
		b.Fatal(err)
	}
	res := resolver.New(st, f.vault, resolver.Options{})
	caller := resolver.Caller{Tenant: tenant}
	if _, err := res.Resolve(ctx, caller, "openai", keygate.Secret{}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := res.Resolve(ctx, caller, "openai", keygate.Secret{}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestStatusChangeKeepsTheCachedKey: the store announces a health change
// as a key_status change; the cache keeps the opened key with its new
// status, so calls right after it work with storage down. A rotation after
// it still drops the key.
func TestStatusChangeKeepsTheCachedKey(t *testing.T) {
	for _, rotate := range []bool{false, true} {
		t.Run(fmt.Sprintf("rotate=%v", rotate), func(t *testing.T) {
			ctx := context.Background()
			st, tenant, _, _ := mustStore(t)
			f := mustVault(t, st.DB, mustMasterKey(t))
			if _, err := f.vault.Put(ctx, change, tenant, "openai", keygate.NewSecret("sk-testkey000000000000000000000001")); err != nil {
				t.Fatal(err)
			}
			res := resolver.New(st.DB, f.vault, resolver.Options{}) // the store's own announcements
			caller := resolver.Caller{Tenant: tenant}
			d, err := res.Resolve(ctx, caller, "openai", keygate.Secret{})
			if err != nil {
				t.Fatal(err)
			}
			if changed, err := f.vault.ReportStatus(ctx, change, d.Credential.Meta, keygate.KeyStatusValid, ""); err != nil || !changed {
				t.Fatalf("ReportStatus: %v %v", changed, err)
			}
			if rotate {
				if _, err := f.vault.Put(ctx, change, tenant, "openai", keygate.NewSecret("sk-testkey000000000000000000000002")); err != nil {
					t.Fatal(err)
				}
				d, err := res.Resolve(ctx, caller, "openai", keygate.Secret{})
				if err != nil || !d.Credential.Key.Equal(keygate.NewSecret("sk-testkey000000000000000000000002")) {
					t.Fatalf("after a rotation that followed a status report: %v, the old key is still used", err)
				}
				return
			}
			if err := st.DB.Close(); err != nil {
				t.Fatal(err)
			}
			d, err = res.Resolve(ctx, caller, "openai", keygate.Secret{})
			if err != nil || d.Credential.Meta.Status != keygate.KeyStatusValid {
				t.Fatalf("after a health change, with storage down: %v, status %q", err, d.Credential.Meta.Status)
			}
		})
	}
}

// SPDX-License-Identifier: Apache-2.0

package keyvault_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/envelope"
	"github.com/keygate/keygate/internal/keeper"
	"github.com/keygate/keygate/internal/keyvault"
	"github.com/keygate/keygate/internal/provider"
	"github.com/keygate/keygate/internal/sqlite"
)

type fixture struct {
	vault *keyvault.Service
	store *sqlite.DB
	keys  *keeper.Set
}

// MustVault returns a vault on a fresh SQLite store and a local key file.
func MustVault(tb testing.TB) fixture {
	tb.Helper()
	ctx := context.Background()
	dir := tb.TempDir()
	set, err := keeper.Open(ctx, "", keeper.Options{DataDir: dir})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { set.Close() })
	kr, err := envelope.NewKeyring(set.Primary())
	if err != nil {
		tb.Fatal(err)
	}
	db, err := sqlite.Open(ctx, filepath.Join(dir, "keygate.db"), sqlite.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	cat, err := provider.Default()
	if err != nil {
		tb.Fatal(err)
	}
	v := keyvault.New(db, kr, cat, keyvault.Options{})
	if err := v.Init(ctx); err != nil {
		tb.Fatal(err)
	}
	return fixture{vault: v, store: db, keys: set}
}

func MustTenant(tb testing.TB, db keygate.Store, name string) keygate.TenantID {
	tb.Helper()
	id := keygate.TenantID("tn_" + name)
	if _, err := db.CreateTenant(context.Background(), keygate.Tenant{ID: id, Name: name, BYOKEnabled: true},
		keygate.AuditEvent{Action: keygate.ActionTenantCreated, Tenant: id}); err != nil {
		tb.Fatal(err)
	}
	return id
}

var change = keyvault.Change{Actor: keygate.Actor{ID: "at_test", Name: "test"}, RequestID: "req_test"}

func key(n int) keygate.Secret {
	return keygate.NewSecret(fmt.Sprintf("sk-testkey%030d", n))
}

type masterKeys struct{ set *keeper.Set }

func (m masterKeys) Rotate(ctx context.Context) (envelope.KEK, error) { return m.set.Rotate(ctx) }
func (m masterKeys) Retire(ctx context.Context, id string) error      { return m.set.Retire(ctx, id) }

func TestPutResolveDelete(t *testing.T) {
	f := MustVault(t)
	ctx := context.Background()
	tn := MustTenant(t, f.store, "acme")

	k1, err := f.vault.Put(ctx, change, tn, "openai", key(1))
	if err != nil {
		t.Fatal(err)
	}
	if k1.Version != 1 || k1.Hint != key(1).Hint() || k1.Fingerprint != f.vault.Fingerprint(key(1)) || len(k1.Sealed.Ciphertext) != 0 {
		t.Fatalf("put: %+v", k1)
	}
	got, meta, err := f.vault.Resolve(ctx, tn, "openai")
	if err != nil || !got.Equal(key(1)) || meta.Version != 1 || len(meta.Sealed.WrappedDEK) != 0 {
		t.Fatalf("resolve: %v %+v", err, meta)
	}
	// Open, for the gateway's cache, keeps the wrapped data key (to
	// forget it later) and never the ciphertext.
	if _, meta, ok, err := f.vault.Open(ctx, tn, "openai"); err != nil || !ok || len(meta.Sealed.WrappedDEK) == 0 || meta.Sealed.KEKID == "" || len(meta.Sealed.Ciphertext) != 0 {
		t.Fatalf("open: %v %v %+v", ok, err, meta.Sealed)
	}
	if _, _, ok, err := f.vault.Open(ctx, tn, "gemini"); ok || err != nil {
		t.Fatalf("open of a missing key: %v %v, want ok=false and no error", ok, err)
	}
	// A rotation is visible at once.
	if _, err := f.vault.Put(ctx, change, tn, "openai", key(2)); err != nil {
		t.Fatal(err)
	}
	got, meta, err = f.vault.Resolve(ctx, tn, "openai")
	if err != nil || !got.Equal(key(2)) || meta.Version != 2 {
		t.Fatalf("resolve after rotation: %v %+v", err, meta)
	}
	// Never across owners or providers.
	if _, _, err := f.vault.Resolve(ctx, tn, "anthropic"); keygate.ErrorCode(err) != keygate.CodeNotFound {
		t.Fatalf("other provider: %v", err)
	}
	if _, _, err := f.vault.Resolve(ctx, keygate.PlatformScope, "openai"); keygate.ErrorCode(err) != keygate.CodeNotFound {
		t.Fatalf("platform: %v", err)
	}
	if err := f.vault.Delete(ctx, change, tn, "openai"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.vault.Resolve(ctx, tn, "openai"); keygate.ErrorCode(err) != keygate.CodeNotFound {
		t.Fatalf("resolve after delete: %v", err)
	}
}

func TestPutRejects(t *testing.T) {
	f := MustVault(t)
	ctx := context.Background()
	tn := MustTenant(t, f.store, "acme")
	tests := []struct {
		name     string
		owner    keygate.TenantID
		provider string
		key      keygate.Secret
		code     string
	}{
		{"UnknownProvider", tn, "nope", key(1), keygate.CodeUnknownProvider},
		{"Empty", tn, "openai", keygate.Secret{}, keygate.CodeInvalidKeyFormat},
		{"Newline", tn, "openai", keygate.NewSecret("sk-testkey000000000000000000001\n"), keygate.CodeInvalidKeyFormat},
		{"UnknownTenant", "tn_nobody", "openai", key(1), keygate.CodeNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.vault.Put(ctx, change, tc.owner, tc.provider, tc.key)
			if keygate.ErrorCode(err) != tc.code {
				t.Fatalf("err = %v, want %s", err, tc.code)
			}
		})
	}
	if seq, _, _ := f.store.AuditHead(ctx); seq != 1 { // tenant.created only
		t.Errorf("rejected puts wrote audit rows: head %d", seq)
	}
}

// TestMasterKeyRotationUnderLoad rotates the master key three times while
// writers rotate provider keys and readers open them, and checks that every
// read returns a key that was written, that nothing is lost, and that all
// data keys end wrapped by the newest master key.
func TestMasterKeyRotationUnderLoad(t *testing.T) {
	f := MustVault(t)
	ctx := context.Background()
	const tenants = 5
	ids := make([]keygate.TenantID, tenants)
	for i := range ids {
		ids[i] = MustTenant(t, f.store, fmt.Sprintf("t%d", i))
		if _, err := f.vault.Put(ctx, change, ids[i], "openai", key(i*1000)); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	errs := make(chan error, 100)
	last := make([]int, tenants)
	for w := 0; w < tenants; w++ {
		wg.Add(1)
		go func(w int) { // writer: rotates tenant w's key
			defer wg.Done()
			for n := 1; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := f.vault.Put(ctx, change, ids[w], "openai", key(w*1000+n)); err != nil {
					errs <- fmt.Errorf("put: %w", err)
					return
				}
				last[w] = w*1000 + n
			}
		}(w)
		wg.Add(1)
		go func(w int) { // reader: opens tenant w's key
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, _, err := f.vault.Resolve(ctx, ids[w], "openai"); err != nil {
					errs <- fmt.Errorf("resolve: %w", err)
					return
				}
			}
		}(w)
	}
	for i := 0; i < 3; i++ {
		if _, _, err := f.vault.RotateMasterKey(ctx, change, masterKeys{f.keys}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.vault.Rewrap(ctx); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if _, err := f.vault.Rewrap(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := f.vault.PendingRewrap(ctx); err != nil || n != 0 {
		t.Fatalf("pending rewrap = %d, %v", n, err)
	}
	for w := range ids {
		got, _, err := f.vault.Resolve(ctx, ids[w], "openai")
		if err != nil || !got.Equal(key(last[w])) {
			t.Errorf("tenant %d: err %v, key is not the last one written", w, err)
		}
	}
}

// TestRollbackGrace: a rotation can be rolled back within the grace period
// and not after it; DestroyExpired then erases the superseded version.
func TestRollbackGrace(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	set, err := keeper.Open(ctx, "", keeper.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	kr, _ := envelope.NewKeyring(set.Primary())
	db, err := sqlite.Open(ctx, filepath.Join(dir, "keygate.db"), sqlite.Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cat, _ := provider.Default()
	v := keyvault.New(db, kr, cat, keyvault.Options{Clock: clock, Grace: time.Hour})
	if err := v.Init(ctx); err != nil {
		t.Fatal(err)
	}
	tn := MustTenant(t, db, "acme")
	for _, n := range []int{1, 2, 3} {
		if _, err := v.Put(ctx, change, tn, "openai", key(n)); err != nil {
			t.Fatal(err)
		}
	}
	now = now.Add(30 * time.Minute) // within the grace period of v2
	k, err := v.Rollback(ctx, change, tn, "openai")
	if err != nil || k.Version != 2 {
		t.Fatalf("rollback within grace: %+v %v", k, err)
	}
	if got, _, err := v.Resolve(ctx, tn, "openai"); err != nil || !got.Equal(key(2)) {
		t.Fatalf("the gateway does not use v2 after rollback: %v", err)
	}
	now = now.Add(2 * time.Hour) // v1 was superseded 2.5h ago
	if _, err := v.Rollback(ctx, change, tn, "openai"); keygate.ErrorCode(err) != keygate.CodeConflict {
		t.Fatalf("rollback after grace: %v, want conflict", err)
	}
	n, err := v.DestroyExpired(ctx)
	if err != nil || n < 1 {
		t.Fatalf("destroy expired: %d %v", n, err)
	}
	vs, err := v.Versions(ctx, tn, "openai")
	if err != nil {
		t.Fatal(err)
	}
	for _, ver := range vs {
		if ver.Current != (ver.Version == 2) || (ver.Version != 2 && ver.DestroyedAt.IsZero()) {
			t.Errorf("version %+v", ver)
		}
	}
	if got, _, err := v.Resolve(ctx, tn, "openai"); err != nil || !got.Equal(key(2)) {
		t.Fatalf("the current version must survive destruction: %v", err)
	}
}

// SPDX-License-Identifier: Apache-2.0

package keeper_test

import (
	"context"
	"testing"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/envelope"
	"github.com/keygate/keygate/internal/keeper"
)

// Every keeper KEK is an envelope KEK.
var _ envelope.KEK = keeper.KEK(nil)

// TestWithEnvelope runs the whole chain: a key file's master key seals a
// provider key, the file rotates, the keyring switches primary and rewraps,
// and the value reads back under the new key after a restart.
func TestWithEnvelope(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	set := MustOpen(t, "", keeper.Options{DataDir: dir})
	kr, err := envelope.NewKeyring(set.Primary())
	if err != nil {
		t.Fatal(err)
	}
	ad := envelope.AD{Owner: "tn_acme", Provider: "openai", KeyID: "pk_1", Version: 1}
	sealed := mustSealCanary(t, kr, ad)

	newKEK, err := set.Rotate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := kr.SetPrimary(newKEK); err != nil {
		t.Fatal(err)
	}
	sealed.WrappedDEK, sealed.KEKID, err = kr.Rewrap(ctx, sealed.WrappedDEK, sealed.KEKID)
	if err != nil {
		t.Fatal(err)
	}

	restarted := MustOpen(t, "", keeper.Options{DataDir: dir})
	kr2, err := envelope.NewKeyring(restarted.Primary())
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range restarted.Others() {
		if err := kr2.Add(k); err != nil {
			t.Fatal(err)
		}
	}
	got, err := kr2.Open(ctx, sealed, ad)
	if err != nil {
		t.Fatalf("Open after rotation and restart: %v", err)
	}
	if got.Reveal() != "sk-live-canary" {
		t.Error("wrong plaintext")
	}
}

// TestUnreadableWrappedKey: a wrapped data key that a local master key
// refuses makes the record unreadable for envelope (keeper.ErrDecrypt is
// permanent), unlike a master key that cannot be reached.
func TestUnreadableWrappedKey(t *testing.T) {
	ctx := context.Background()
	set := MustOpen(t, "", keeper.Options{DataDir: t.TempDir()})
	kr, err := envelope.NewKeyring(set.Primary())
	if err != nil {
		t.Fatal(err)
	}
	ad := envelope.AD{Owner: "tn_acme", Provider: "openai", KeyID: "pk_1", Version: 1}
	sealed := mustSealCanary(t, kr, ad)
	for name, mutate := range map[string]func([]byte) []byte{
		"Tampered":  func(w []byte) []byte { w[len(w)-1] ^= 1; return w },
		"Truncated": func(w []byte) []byte { return w[:3] },
	} {
		bad := sealed
		bad.WrappedDEK = mutate(append([]byte(nil), sealed.WrappedDEK...))
		_, err := kr.Open(ctx, bad, ad)
		if !envelope.Unreadable(err) {
			t.Errorf("%s: Unreadable(%v) = false", name, err)
		}
	}
}

// mustSealCanary seals the canary key "sk-live-canary" under a new data key
// of kr, bound to ad.
func mustSealCanary(t *testing.T, kr *envelope.Keyring, ad envelope.AD) keygate.Sealed {
	t.Helper()
	dk, err := kr.NewDataKey(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer dk.Destroy()
	sealed, err := dk.Seal(keygate.NewSecret("sk-live-canary"), ad)
	if err != nil {
		t.Fatal(err)
	}
	return sealed
}

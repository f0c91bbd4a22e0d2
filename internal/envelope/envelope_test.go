// SPDX-License-Identifier: Apache-2.0

package envelope_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/envelope"
)

const canary = "sk-canary-ENVELOPE-7f3a9c0d1e2b4a5f"

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name      string
		plaintext string
		ad        envelope.AD
	}{
		{"TenantKey", "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789", keyAD()},
		{"PlatformKey", "sk-ant-api03-xyz", envelope.AD{Owner: keygate.PlatformScope, Provider: "anthropic", KeyID: "pk_p1", Version: 1}},
		{"Setting", "fingerprint-secret-0123456789abcdef", envelope.SettingAD("fingerprint_secret")},
		{"Empty", "", keyAD()},
		{"Long", strings.Repeat("k", 10000), keyAD()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			kek := &countingKEK{KEK: MustTestKEK(t, "mk_a", "a")}
			kr := MustKeyring(t, kek)
			s := MustSeal(t, kr, tc.plaintext, tc.ad)
			if s.KEKID != "mk_a" {
				t.Errorf("KEKID = %q, want mk_a", s.KEKID)
			}
			if strings.Contains(string(s.Ciphertext), tc.plaintext) && tc.plaintext != "" {
				t.Error("ciphertext contains the plaintext")
			}
			if diff := cmp.Diff(tc.plaintext, MustOpen(t, kr, s, tc.ad)); diff != "" {
				t.Errorf("Open (-want +got):\n%s", diff)
			}
			// A fresh keyring with the same KEK (a restart: cold cache)
			// opens it too.
			if diff := cmp.Diff(tc.plaintext, MustOpen(t, MustKeyring(t, MustTestKEK(t, "mk_a", "a")), s, tc.ad)); diff != "" {
				t.Errorf("Open after restart (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSealTwiceDiffers(t *testing.T) {
	kr := MustKeyring(t, MustTestKEK(t, "mk_a", "a"))
	a, b := MustSeal(t, kr, canary, keyAD()), MustSeal(t, kr, canary, keyAD())
	if string(a.Ciphertext) == string(b.Ciphertext) || string(a.WrappedDEK) == string(b.WrappedDEK) {
		t.Error("two seals of the same value share a ciphertext or a wrapped key")
	}
}

func TestOpenWarmMakesNoKEKCall(t *testing.T) {
	kek := &countingKEK{KEK: MustTestKEK(t, "mk_a", "a")}
	writer := MustKeyring(t, kek)
	s := MustSeal(t, writer, canary, keyAD())
	// NewDataKey primed the writer's cache.
	MustOpen(t, writer, s, keyAD())
	if n := kek.unwraps.Load(); n != 0 {
		t.Errorf("open after seal: %d unwraps, want 0", n)
	}

	reader := MustKeyring(t, kek)
	for range 3 {
		MustOpen(t, reader, s, keyAD())
	}
	if n := kek.unwraps.Load(); n != 1 {
		t.Errorf("three opens on a cold keyring: %d unwraps, want 1", n)
	}
	reader.PurgeCache()
	MustOpen(t, reader, s, keyAD())
	if n := kek.unwraps.Load(); n != 2 {
		t.Errorf("open after PurgeCache: %d unwraps, want 2", n)
	}
	reader.Forget(s)
	MustOpen(t, reader, s, keyAD())
	if n := kek.unwraps.Load(); n != 3 {
		t.Errorf("open after Forget: %d unwraps, want 3", n)
	}
	other := MustSeal(t, writer, canary, keyAD())
	MustOpen(t, reader, other, keyAD())
	reader.Forget(other) // forgets that one only
	MustOpen(t, reader, s, keyAD())
	if n := kek.unwraps.Load(); n != 4 {
		t.Errorf("open of a record whose neighbour was forgotten: %d unwraps, want 4", n)
	}
}

func TestCacheBounded(t *testing.T) {
	kek := &countingKEK{KEK: MustTestKEK(t, "mk_a", "a")}
	writer := MustKeyring(t, kek)
	var sealed []keygate.Sealed
	for range 3 {
		sealed = append(sealed, MustSeal(t, writer, canary, keyAD()))
	}
	reader, err := envelope.NewKeyringOptions(envelope.Options{CacheSize: 2}, kek)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sealed { // fills the cache: the first one is evicted
		MustOpen(t, reader, s, keyAD())
	}
	before := kek.unwraps.Load()
	MustOpen(t, reader, sealed[2], keyAD())
	MustOpen(t, reader, sealed[0], keyAD())
	if got := kek.unwraps.Load() - before; got != 1 {
		t.Errorf("unwraps = %d, want 1 (only the evicted key)", got)
	}
}

// checkErr fails unless err wraps want and says nothing secret.
func checkErr(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("err = %v, want %v", err, want)
	}
	if strings.Contains(err.Error(), canary) {
		t.Fatalf("error contains the plaintext: %v", err)
	}
}

func TestOpenTamperedCiphertext(t *testing.T) {
	kr := MustKeyring(t, MustTestKEK(t, "mk_a", "a"))
	s := MustSeal(t, kr, canary, keyAD())
	for i := range s.Ciphertext {
		for _, mask := range []byte{0x01, 0x80} {
			bad := cloneSealed(s)
			bad.Ciphertext[i] ^= mask
			got, err := kr.Open(context.Background(), bad, keyAD())
			want := envelope.ErrDecrypt
			if i == 0 {
				want = envelope.ErrFormat // the version byte
			}
			if !errors.Is(err, want) {
				t.Fatalf("byte %d ^ %#x: err = %v, want %v", i, mask, err, want)
			}
			if !got.IsZero() {
				t.Fatalf("byte %d ^ %#x: returned plaintext with an error", i, mask)
			}
		}
	}
	tests := []struct {
		name   string
		mutate func(ct []byte) []byte
		want   error
	}{
		{"Truncated", func(ct []byte) []byte { return ct[:len(ct)-1] }, envelope.ErrDecrypt},
		{"Extended", func(ct []byte) []byte { return append(ct, 0) }, envelope.ErrDecrypt},
		{"HeaderOnly", func(ct []byte) []byte { return ct[:13] }, envelope.ErrFormat},
		{"Empty", func([]byte) []byte { return nil }, envelope.ErrFormat},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bad := cloneSealed(s)
			bad.Ciphertext = tc.mutate(bad.Ciphertext)
			_, err := kr.Open(context.Background(), bad, keyAD())
			checkErr(t, err, tc.want)
		})
	}
}

func TestOpenTamperedWrappedDEK(t *testing.T) {
	kr := MustKeyring(t, MustTestKEK(t, "mk_a", "a"))
	s := MustSeal(t, kr, canary, keyAD())
	for i := range s.WrappedDEK {
		bad := cloneSealed(s)
		bad.WrappedDEK[i] ^= 0x01
		got, err := kr.Open(context.Background(), bad, keyAD())
		if !errors.Is(err, envelope.ErrUnwrap) || !got.IsZero() {
			t.Fatalf("byte %d: err = %v, want ErrUnwrap and no plaintext", i, err)
		}
	}
	t.Run("Missing", func(t *testing.T) {
		bad := cloneSealed(s)
		bad.WrappedDEK = nil
		_, err := kr.Open(context.Background(), bad, keyAD())
		checkErr(t, err, envelope.ErrFormat)
	})
	t.Run("Truncated", func(t *testing.T) {
		bad := cloneSealed(s)
		bad.WrappedDEK = bad.WrappedDEK[:len(bad.WrappedDEK)-1]
		_, err := kr.Open(context.Background(), bad, keyAD())
		checkErr(t, err, envelope.ErrUnwrap)
	})
	t.Run("OtherRecord", func(t *testing.T) {
		// A wrapped key swapped in from another record unwraps fine but is
		// the wrong data key.
		other := MustSeal(t, kr, canary, keyAD())
		bad := cloneSealed(s)
		bad.WrappedDEK = other.WrappedDEK
		_, err := kr.Open(context.Background(), bad, keyAD())
		checkErr(t, err, envelope.ErrDecrypt)
	})
}

func TestOpenWrongAD(t *testing.T) {
	sealedFor := envelope.AD{Owner: "tn_acme", Provider: "openai", KeyID: "pk_0001", Version: 3}
	tests := []struct {
		name string
		ad   envelope.AD
		want error
	}{
		{"OtherTenant", envelope.AD{Owner: "tn_evil", Provider: "openai", KeyID: "pk_0001", Version: 3}, envelope.ErrDecrypt},
		{"Platform", envelope.AD{Owner: keygate.PlatformScope, Provider: "openai", KeyID: "pk_0001", Version: 3}, envelope.ErrDecrypt},
		{"OtherProvider", envelope.AD{Owner: "tn_acme", Provider: "anthropic", KeyID: "pk_0001", Version: 3}, envelope.ErrDecrypt},
		{"OtherKeyID", envelope.AD{Owner: "tn_acme", Provider: "openai", KeyID: "pk_0002", Version: 3}, envelope.ErrDecrypt},
		{"OtherVersion", envelope.AD{Owner: "tn_acme", Provider: "openai", KeyID: "pk_0001", Version: 2}, envelope.ErrDecrypt},
		{"ShiftedFields", envelope.AD{Owner: "tn_acme", Provider: "openaip", KeyID: "k_0001", Version: 3}, envelope.ErrDecrypt},
		{"Setting", envelope.SettingAD("tn_acme"), envelope.ErrDecrypt},
		{"EmptyOwner", envelope.AD{Provider: "openai", KeyID: "pk_0001", Version: 3}, envelope.ErrInvalidAD},
		{"EmptyProvider", envelope.AD{Owner: "tn_acme", KeyID: "pk_0001", Version: 3}, envelope.ErrInvalidAD},
		{"EmptyKeyID", envelope.AD{Owner: "tn_acme", Provider: "openai", Version: 3}, envelope.ErrInvalidAD},
		{"ZeroVersion", envelope.AD{Owner: "tn_acme", Provider: "openai", KeyID: "pk_0001"}, envelope.ErrInvalidAD},
		{"Zero", envelope.AD{}, envelope.ErrInvalidAD},
	}
	kr := MustKeyring(t, MustTestKEK(t, "mk_a", "a"))
	s := MustSeal(t, kr, canary, sealedFor)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := kr.Open(context.Background(), s, tc.ad)
			checkErr(t, err, tc.want)
			if !got.IsZero() {
				t.Error("returned plaintext with an error")
			}
		})
	}
}

func TestOpenWrongSettingAD(t *testing.T) {
	kr := MustKeyring(t, MustTestKEK(t, "mk_a", "a"))
	s := MustSeal(t, kr, canary, envelope.SettingAD("fingerprint_secret"))
	_, err := kr.Open(context.Background(), s, envelope.SettingAD("other_setting"))
	checkErr(t, err, envelope.ErrDecrypt)
	_, err = kr.Open(context.Background(), s, keyAD())
	checkErr(t, err, envelope.ErrDecrypt)

	mixed := envelope.SettingAD("fingerprint_secret")
	mixed.Owner = "tn_acme"
	_, err = kr.Open(context.Background(), s, mixed)
	checkErr(t, err, envelope.ErrInvalidAD)
}

func TestSealInvalidAD(t *testing.T) {
	kr := MustKeyring(t, MustTestKEK(t, "mk_a", "a"))
	dk, err := kr.NewDataKey(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer dk.Destroy()
	for _, ad := range []envelope.AD{{}, {Owner: "tn_a", Provider: "openai", KeyID: "pk_1"}, envelope.SettingAD("")} {
		if _, err := dk.Seal(keygate.NewSecret(canary), ad); !errors.Is(err, envelope.ErrInvalidAD) {
			t.Errorf("Seal(%v): err = %v, want ErrInvalidAD", ad, err)
		}
	}
}

func TestSealAfterDestroy(t *testing.T) {
	kr := MustKeyring(t, MustTestKEK(t, "mk_a", "a"))
	dk, err := kr.NewDataKey(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dk.Seal(keygate.NewSecret(canary), keyAD()); err != nil {
		t.Fatal(err)
	}
	dk.Destroy()
	dk.Destroy()
	_, err = dk.Seal(keygate.NewSecret(canary), keyAD())
	checkErr(t, err, envelope.ErrDestroyed)
}

func TestOpenWrongMasterKey(t *testing.T) {
	s := MustSeal(t, MustKeyring(t, MustTestKEK(t, "mk_a", "a")), canary, keyAD())
	// Same id, other key material: a misconfigured replica.
	other := MustKeyring(t, MustTestKEK(t, "mk_a", "not a"))
	_, err := other.Open(context.Background(), s, keyAD())
	checkErr(t, err, envelope.ErrUnwrap)
}

func TestOpenUnknownKEK(t *testing.T) {
	kr := MustKeyring(t, MustTestKEK(t, "mk_a", "a"))
	s := MustSeal(t, kr, canary, keyAD())
	tests := []struct {
		name  string
		kekID string
	}{
		{"Other", "mk_retired"},
		{"Empty", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bad := cloneSealed(s)
			bad.KEKID = tc.kekID
			_, err := kr.Open(context.Background(), bad, keyAD())
			checkErr(t, err, envelope.ErrUnknownKEK)
		})
	}
	t.Run("NotInOtherKeyring", func(t *testing.T) {
		_, err := MustKeyring(t, MustTestKEK(t, "mk_b", "b")).Open(context.Background(), s, keyAD())
		checkErr(t, err, envelope.ErrUnknownKEK)
		if !strings.Contains(err.Error(), "mk_a") {
			t.Errorf("error does not name the missing master key: %v", err)
		}
	})
}

func TestOpenUnknownFormatVersion(t *testing.T) {
	kek := &countingKEK{KEK: MustTestKEK(t, "mk_a", "a")}
	s := MustSeal(t, MustKeyring(t, kek), canary, keyAD())
	for _, v := range []byte{0, 2, 0xff} {
		bad := cloneSealed(s)
		bad.Ciphertext[0] = v
		_, err := MustKeyring(t, kek).Open(context.Background(), bad, keyAD())
		checkErr(t, err, envelope.ErrFormat)
		if !strings.Contains(err.Error(), "format version") {
			t.Errorf("version %d: error does not say what failed: %v", v, err)
		}
	}
	if n := kek.unwraps.Load(); n != 0 {
		t.Errorf("malformed records made %d KEK calls, want 0", n)
	}
}

func TestRewrap(t *testing.T) {
	oldKEK, newKEK := MustTestKEK(t, "mk_old", "old"), MustTestKEK(t, "mk_new", "new")
	kr := MustKeyring(t, oldKEK)
	s := MustSeal(t, kr, canary, keyAD())
	if err := kr.SetPrimary(newKEK); err != nil {
		t.Fatal(err)
	}
	if got := kr.PrimaryID(); got != "mk_new" {
		t.Fatalf("PrimaryID = %q, want mk_new", got)
	}
	wrapped, id, err := kr.Rewrap(context.Background(), s.WrappedDEK, s.KEKID)
	if err != nil {
		t.Fatal(err)
	}
	if id != "mk_new" {
		t.Errorf("new KEK id = %q, want mk_new", id)
	}
	moved := keygate.Sealed{Ciphertext: s.Ciphertext, WrappedDEK: wrapped, KEKID: id}
	// Only the new master key is needed now.
	if got := MustOpen(t, MustKeyring(t, newKEK), moved, keyAD()); got != canary {
		t.Errorf("open rewrapped: got %q", got)
	}
	// The old record still opens while the old key is held.
	if got := MustOpen(t, kr, s, keyAD()); got != canary {
		t.Errorf("open old record: got %q", got)
	}

	_, _, err = kr.Rewrap(context.Background(), s.WrappedDEK, "mk_gone")
	checkErr(t, err, envelope.ErrUnknownKEK)
	bad := append([]byte(nil), s.WrappedDEK...)
	bad[len(bad)-1] ^= 1
	_, _, err = kr.Rewrap(context.Background(), bad, s.KEKID)
	checkErr(t, err, envelope.ErrUnwrap)
}

func TestKeyringRejectsBadKEK(t *testing.T) {
	good := MustTestKEK(t, "mk_a", "a")
	if _, err := envelope.NewKeyring(nil); err == nil {
		t.Error("NewKeyring(nil): no error")
	}
	if _, err := envelope.NewKeyring(good, MustTestKEK(t, "", "x")); err == nil {
		t.Error("NewKeyring with an empty id: no error")
	}
	kr := MustKeyring(t, good)
	if err := kr.SetPrimary(nil); err == nil {
		t.Error("SetPrimary(nil): no error")
	}
	if err := kr.Add(MustTestKEK(t, "", "x")); err == nil {
		t.Error("Add with an empty id: no error")
	}
	if got := kr.PrimaryID(); got != "mk_a" {
		t.Errorf("PrimaryID after failed changes = %q, want mk_a", got)
	}
}

// A failing KEK reports its error through ErrUnwrap, wrapped.
type brokenKEK struct{ err error }

func (k brokenKEK) ID() string                                     { return "mk_broken" }
func (k brokenKEK) Wrap(context.Context, []byte) ([]byte, error)   { return nil, k.err }
func (k brokenKEK) Unwrap(context.Context, []byte) ([]byte, error) { return nil, k.err }

func TestKEKErrorsWrapped(t *testing.T) {
	errKMS := errors.New("kms unreachable")
	kr := MustKeyring(t, brokenKEK{errKMS})
	if _, err := kr.NewDataKey(context.Background()); !errors.Is(err, errKMS) {
		t.Errorf("NewDataKey: err = %v, want the KEK's error", err)
	}
	s := keygate.Sealed{Ciphertext: make([]byte, 40), WrappedDEK: []byte("w"), KEKID: "mk_broken"}
	s.Ciphertext[0] = 1
	_, err := kr.Open(context.Background(), s, keyAD())
	if !errors.Is(err, errKMS) || !errors.Is(err, envelope.ErrUnwrap) {
		t.Errorf("Open: err = %v, want ErrUnwrap wrapping the KEK's error", err)
	}
}

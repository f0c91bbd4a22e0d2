// SPDX-License-Identifier: Apache-2.0

package envelope_test

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"io"
	"sync/atomic"
	"testing"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/envelope"
)

// testKEK is a local AES-256-GCM master key for tests: random nonce ||
// GCM(dek) with the KEK id as additional data. The committed test vectors
// contain DEKs wrapped by it, so its format must never change either.
type testKEK struct {
	id   string
	aead cipher.AEAD
}

var _ envelope.KEK = (*testKEK)(nil)

// MustTestKEK returns a test KEK whose 32-byte key is derived from seed.
func MustTestKEK(tb testing.TB, id, seed string) *testKEK {
	tb.Helper()
	key := sha256.Sum256([]byte(seed))
	block, err := aes.NewCipher(key[:])
	if err != nil {
		tb.Fatal(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		tb.Fatal(err)
	}
	return &testKEK{id: id, aead: aead}
}

func (k *testKEK) ID() string { return k.id }

func (k *testKEK) Wrap(_ context.Context, dek []byte) ([]byte, error) {
	nonce := make([]byte, k.aead.NonceSize())
	if _, err := io.ReadFull(rand.Reader, nonce); err != nil {
		return nil, err
	}
	return k.aead.Seal(nonce, nonce, dek, []byte("test-kek:"+k.id)), nil
}

func (k *testKEK) Unwrap(_ context.Context, wrapped []byte) ([]byte, error) {
	n := k.aead.NonceSize()
	if len(wrapped) < n {
		return nil, errors.New("test kek: wrapped key too short")
	}
	dek, err := k.aead.Open(nil, wrapped[:n], wrapped[n:], []byte("test-kek:"+k.id))
	if err != nil {
		return nil, errors.New("test kek: wrapped key failed authentication")
	}
	return dek, nil
}

// countingKEK counts the calls made to the KEK it wraps.
type countingKEK struct {
	envelope.KEK
	wraps, unwraps atomic.Int64
}

func (k *countingKEK) Wrap(ctx context.Context, dek []byte) ([]byte, error) {
	k.wraps.Add(1)
	return k.KEK.Wrap(ctx, dek)
}

func (k *countingKEK) Unwrap(ctx context.Context, wrapped []byte) ([]byte, error) {
	k.unwraps.Add(1)
	return k.KEK.Unwrap(ctx, wrapped)
}

// MustKeyring returns a keyring with primary and others.
func MustKeyring(tb testing.TB, primary envelope.KEK, others ...envelope.KEK) *envelope.Keyring {
	tb.Helper()
	kr, err := envelope.NewKeyring(primary, others...)
	if err != nil {
		tb.Fatalf("NewKeyring: %v", err)
	}
	return kr
}

// MustSeal makes a data key and seals plaintext bound to ad.
func MustSeal(tb testing.TB, kr *envelope.Keyring, plaintext string, ad envelope.AD) keygate.Sealed {
	tb.Helper()
	dk, err := kr.NewDataKey(context.Background())
	if err != nil {
		tb.Fatalf("NewDataKey: %v", err)
	}
	defer dk.Destroy()
	s, err := dk.Seal(keygate.NewSecret(plaintext), ad)
	if err != nil {
		tb.Fatalf("Seal: %v", err)
	}
	return s
}

// MustOpen opens s bound to ad and returns the plaintext.
func MustOpen(tb testing.TB, kr *envelope.Keyring, s keygate.Sealed, ad envelope.AD) string {
	tb.Helper()
	got, err := kr.Open(context.Background(), s, ad)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	return got.Reveal()
}

// cloneSealed returns a deep copy of s, for tampering.
func cloneSealed(s keygate.Sealed) keygate.Sealed {
	return keygate.Sealed{
		Ciphertext: append([]byte(nil), s.Ciphertext...),
		WrappedDEK: append([]byte(nil), s.WrappedDEK...),
		KEKID:      s.KEKID,
	}
}

func keyAD() envelope.AD {
	return envelope.AD{Owner: "tn_acme", Provider: "openai", KeyID: "pk_0001", Version: 3}
}

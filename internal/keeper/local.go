// SPDX-License-Identifier: Apache-2.0

package keeper

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"fmt"
	"io"
)

// Wrapped data key format of local master keys (file and env). Persisted in
// every record: never renumber.
const (
	localFormatV1 byte = 1
	// localNonceSize is the GCM nonce size. A random 96-bit nonce is safe:
	// one master key wraps one data key per stored value (plus rewraps),
	// many orders of magnitude below the 2^32 wraps per key that NIST SP
	// 800-38D allows with random nonces.
	localNonceSize = 12
	localTagSize   = 16
	// localLabel domain-separates the additional data; the KEK id follows
	// it, so a wrapped key moved between two master keys (for example two
	// file keys) fails even if their key bytes were equal.
	localLabel = "keygate/keeper/v1/local-kek\x00"
	keySize    = 32
)

// localKEK is a master key held in memory: the file and env keepers.
// AES-256-GCM; the wrapped form is version || nonce || GCM output.
type localKEK struct {
	id   string
	aead cipher.AEAD
	rand io.Reader
}

// newLocalKEK returns a local KEK under key (32 bytes), which it does not
// retain (the cipher keeps its own expanded copy).
func newLocalKEK(id string, key []byte, rand io.Reader) (*localKEK, error) {
	if len(key) != keySize {
		return nil, fmt.Errorf("%w: master key %s is %d bytes, want %d", ErrBadKey, id, len(key), keySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("master key %s: aes: %w", id, err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("master key %s: gcm: %w", id, err)
	}
	return &localKEK{id: id, aead: aead, rand: rand}, nil
}

// ID implements KEK.
func (k *localKEK) ID() string { return k.id }

func (k *localKEK) additionalData() []byte { return []byte(localLabel + k.id) }

// Wrap implements KEK.
func (k *localKEK) Wrap(_ context.Context, dek []byte) ([]byte, error) {
	out := make([]byte, 1+localNonceSize, 1+localNonceSize+len(dek)+localTagSize)
	out[0] = localFormatV1
	if _, err := io.ReadFull(k.rand, out[1:]); err != nil {
		return nil, fmt.Errorf("wrap with master key %s: read nonce: %w", k.id, err)
	}
	return k.aead.Seal(out, out[1:], dek, k.additionalData()), nil
}

// Unwrap implements KEK. Errors: ErrFormat, ErrDecrypt.
func (k *localKEK) Unwrap(_ context.Context, wrapped []byte) ([]byte, error) {
	if len(wrapped) == 0 {
		return nil, fmt.Errorf("unwrap with master key %s: %w: empty", k.id, ErrFormat)
	}
	if v := wrapped[0]; v != localFormatV1 {
		return nil, fmt.Errorf("unwrap with master key %s: %w: unknown format version %d", k.id, ErrFormat, v)
	}
	if len(wrapped) < 1+localNonceSize+localTagSize {
		return nil, fmt.Errorf("unwrap with master key %s: %w: %d bytes is too short", k.id, ErrFormat, len(wrapped))
	}
	dek, err := k.aead.Open(nil, wrapped[1:1+localNonceSize], wrapped[1+localNonceSize:], k.additionalData())
	if err != nil {
		return nil, fmt.Errorf("unwrap with master key %s: %w", k.id, ErrDecrypt)
	}
	return dek, nil
}

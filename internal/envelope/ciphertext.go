// SPDX-License-Identifier: Apache-2.0

package envelope

import (
	"crypto/aes"
	"crypto/cipher"
	"fmt"
	"io"
)

// Format constants. Persisted in every ciphertext: never renumber.
const (
	// formatV1 is the first byte of a version 1 ciphertext.
	formatV1 byte = 1
	// nonceSize is the GCM standard nonce size. A random 96-bit nonce is
	// safe here because each DEK is fresh and random and seals one value
	// (a few at most, if the store retries its transaction), far below the
	// 2^32 messages per key that NIST SP 800-38D allows with random
	// nonces; nonce reuse under one key is therefore negligible.
	nonceSize = 12
	// dekSize is the data key size: AES-256.
	dekSize = 32
	// tagSize is the GCM tag size.
	tagSize = 16
	// headerSize is the version byte and the nonce.
	headerSize = 1 + nonceSize
)

// newAEAD returns AES-256-GCM under dek. It fails on a key of the wrong size.
func newAEAD(dek []byte) (cipher.AEAD, error) {
	if len(dek) != dekSize {
		return nil, fmt.Errorf("data key is %d bytes, want %d", len(dek), dekSize)
	}
	block, err := aes.NewCipher(dek)
	if err != nil {
		return nil, fmt.Errorf("aes: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("gcm: %w", err)
	}
	return aead, nil
}

// additionalData returns the GCM additional data of a ciphertext of the
// given format version bound to ad: the version byte, then ad's encoding.
// Authenticating the version byte means a ciphertext cannot be relabelled as
// another format.
func additionalData(version byte, ad AD) []byte {
	b := make([]byte, 0, 1+ad.encodedLen())
	b = append(b, version)
	return ad.appendEncoded(b)
}

// seal encrypts plaintext in the v1 format: version || nonce || GCM output.
func seal(aead cipher.AEAD, rand io.Reader, plaintext []byte, ad AD) ([]byte, error) {
	out := make([]byte, headerSize, headerSize+len(plaintext)+tagSize)
	out[0] = formatV1
	if _, err := io.ReadFull(rand, out[1:headerSize]); err != nil {
		return nil, fmt.Errorf("read nonce: %w", err)
	}
	return aead.Seal(out, out[1:headerSize], plaintext, additionalData(formatV1, ad)), nil
}

// open decrypts a v1 ciphertext bound to ad. On failure it returns nil and
// an error wrapping ErrFormat or ErrDecrypt; GCM itself never releases
// unauthenticated plaintext.
func open(aead cipher.AEAD, ciphertext []byte, ad AD) ([]byte, error) {
	if err := checkFormat(ciphertext); err != nil {
		return nil, err
	}
	pt, err := aead.Open(nil, ciphertext[1:headerSize], ciphertext[headerSize:], additionalData(formatV1, ad))
	if err != nil {
		return nil, fmt.Errorf("%w (wrong associated data, modified ciphertext or wrong data key)", ErrDecrypt)
	}
	return pt, nil
}

// checkFormat checks the version byte and the minimum length, before any
// KEK is called, so malformed records fail fast and cheaply.
func checkFormat(ciphertext []byte) error {
	if len(ciphertext) == 0 {
		return fmt.Errorf("%w: empty ciphertext", ErrFormat)
	}
	if v := ciphertext[0]; v != formatV1 {
		return fmt.Errorf("%w: unknown ciphertext format version %d", ErrFormat, v)
	}
	if len(ciphertext) < headerSize+tagSize {
		return fmt.Errorf("%w: ciphertext is %d bytes, shorter than the %d-byte minimum", ErrFormat, len(ciphertext), headerSize+tagSize)
	}
	return nil
}

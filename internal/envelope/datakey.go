// SPDX-License-Identifier: Apache-2.0

package envelope

import (
	"crypto/cipher"
	"fmt"
	"io"
	"sync"

	"github.com/keygate/keygate"
)

// DataKey is a fresh data key (DEK) and its wrapped form, made by
// [Keyring.NewDataKey] before a storage transaction opens so that the
// possibly slow KEK call stays out of it. Seal it into one value, then
// Destroy it. Safe for concurrent use.
type DataKey struct {
	mu      sync.Mutex
	dek     []byte      // nil once destroyed
	aead    cipher.AEAD // AES-256-GCM under dek; nil once destroyed
	wrapped []byte
	kekID   string
	rand    io.Reader
}

// KEKID returns the id of the master key that wrapped this data key.
func (d *DataKey) KEKID() string { return d.kekID }

// Seal encrypts plaintext under the data key, bound to ad, and returns the
// ciphertext with the wrapped data key and the KEK id. It makes no KEK call,
// so it may run inside a storage transaction (keygate.PutKeyParams.Seal).
// Calling it again (a retried transaction) is safe: each call draws a fresh
// nonce.
//
// Errors: ErrInvalidAD if ad is incomplete, ErrDestroyed after Destroy, or a
// failure to read randomness.
func (d *DataKey) Seal(plaintext keygate.Secret, ad AD) (keygate.Sealed, error) {
	if err := ad.validate(); err != nil {
		return keygate.Sealed{}, fmt.Errorf("seal %s: %w", ad, err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.dek == nil {
		return keygate.Sealed{}, fmt.Errorf("seal %s: %w", ad, ErrDestroyed)
	}
	ct, err := seal(d.aead, d.rand, plaintext.RevealBytes(), ad)
	if err != nil {
		return keygate.Sealed{}, fmt.Errorf("seal %s: %w", ad, err)
	}
	return keygate.Sealed{
		Ciphertext: ct,
		WrappedDEK: append([]byte(nil), d.wrapped...),
		KEKID:      d.kekID,
	}, nil
}

// Destroy zeroes the data key and drops its cipher. (The Keyring's cache
// keeps its own AEAD for reads until evicted; Go cannot zero an AES key
// schedule.) Later Seal calls fail with ErrDestroyed.
// Calling it more than once is harmless.
func (d *DataKey) Destroy() {
	d.mu.Lock()
	defer d.mu.Unlock()
	clear(d.dek)
	d.dek = nil
	d.aead = nil
}

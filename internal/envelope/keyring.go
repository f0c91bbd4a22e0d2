// SPDX-License-Identifier: Apache-2.0

package envelope

import (
	"context"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/keygate/keygate"
)

// Options tunes a Keyring. The zero value is ready to use.
type Options struct {
	// CacheSize bounds the cache of unwrapped data keys; 0 means
	// DefaultCacheSize, a negative value disables the cache (every Open
	// calls the KEK).
	CacheSize int
	// Rand is the source of data keys and nonces; nil means crypto/rand.
	Rand io.Reader
}

// Keyring holds the master keys: one primary, which wraps new data keys, and
// older ones kept to unwrap existing records until they are rewrapped. It
// caches unwrapped data keys. Safe for concurrent use, including SetPrimary
// and Rewrap while Seal and Open run.
type Keyring struct {
	rand  io.Reader
	cache *dekCache

	mu      sync.RWMutex
	primary KEK
	keks    map[string]KEK
}

// NewKeyring returns a keyring with default Options that wraps new data keys
// with primary and can also unwrap with others. Errors: a nil KEK or a KEK
// with an empty id.
func NewKeyring(primary KEK, others ...KEK) (*Keyring, error) {
	return NewKeyringOptions(Options{}, primary, others...)
}

// NewKeyringOptions is NewKeyring with options.
func NewKeyringOptions(opt Options, primary KEK, others ...KEK) (*Keyring, error) {
	if opt.Rand == nil {
		opt.Rand = rand.Reader
	}
	if opt.CacheSize == 0 {
		opt.CacheSize = DefaultCacheSize
	}
	k := &Keyring{rand: opt.Rand, cache: newDEKCache(opt.CacheSize), keks: make(map[string]KEK)}
	for _, o := range others {
		if err := k.Add(o); err != nil {
			return nil, err
		}
	}
	if err := k.SetPrimary(primary); err != nil {
		return nil, err
	}
	return k, nil
}

func checkKEK(kek KEK) error {
	if kek == nil {
		return errors.New("envelope: nil master key")
	}
	if kek.ID() == "" {
		return errors.New("envelope: master key has an empty id")
	}
	return nil
}

// PrimaryID returns the id of the primary KEK, the one new records name.
func (k *Keyring) PrimaryID() string {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.primary.ID()
}

// SetPrimary makes kek the primary: data keys made from now on are wrapped
// with it. The previous primary stays in the keyring for reads, which is what
// makes rotation online. A KEK with the same id as one already held replaces
// it (ids name keys). Errors: a nil KEK or an empty id.
func (k *Keyring) SetPrimary(kek KEK) error {
	if err := checkKEK(kek); err != nil {
		return err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.keks[kek.ID()] = kek
	k.primary = kek
	return nil
}

// Add makes kek available for unwrapping only (an older master key). A KEK
// with the id of the primary replaces the primary's entry for reads but does
// not change which KEK wraps new keys. Errors: a nil KEK or an empty id.
func (k *Keyring) Add(kek KEK) error {
	if err := checkKEK(kek); err != nil {
		return err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.keks[kek.ID()] = kek
	return nil
}

// Remove forgets the KEK id (a retired master key) and every cached data
// key: records it wrapped no longer open. Errors: id is the primary.
func (k *Keyring) Remove(id string) error {
	k.mu.Lock()
	if k.primary.ID() == id {
		k.mu.Unlock()
		return fmt.Errorf("envelope: master key %s is the primary", id)
	}
	delete(k.keks, id)
	k.mu.Unlock()
	k.cache.purge()
	return nil
}

// IDs returns the ids of every KEK held, in no particular order.
func (k *Keyring) IDs() []string {
	k.mu.RLock()
	defer k.mu.RUnlock()
	ids := make([]string, 0, len(k.keks))
	for id := range k.keks {
		ids = append(ids, id)
	}
	return ids
}

// lookup returns the KEK with id, or the primary when id is "".
func (k *Keyring) lookup(id string) (KEK, bool) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	if id == "" {
		return k.primary, true
	}
	kek, ok := k.keks[id]
	return kek, ok
}

// NewDataKey makes a random 32-byte data key and wraps it with the primary
// KEK. The wrap may be a KMS network call, which is why it is separate from
// Seal: callers make the data key before opening a storage transaction. The
// unwrapped key is also put in the cache, so the first Open of the value
// makes no KEK call.
//
// Errors: a failure to read randomness, or the KEK's Wrap error.
func (k *Keyring) NewDataKey(ctx context.Context) (*DataKey, error) {
	kek, _ := k.lookup("")
	dek := make([]byte, dekSize)
	if _, err := io.ReadFull(k.rand, dek); err != nil {
		return nil, fmt.Errorf("new data key: read random: %w", err)
	}
	wrapped, err := kek.Wrap(ctx, dek)
	if err != nil {
		clear(dek)
		return nil, fmt.Errorf("new data key: wrap with master key %s: %w", kek.ID(), err)
	}
	aead, err := newAEAD(dek)
	if err != nil {
		clear(dek)
		return nil, fmt.Errorf("new data key: %w", err)
	}
	k.cache.put(cacheKey{kekID: kek.ID(), wrapped: string(wrapped)}, aead)
	return &DataKey{dek: dek, aead: aead, wrapped: wrapped, kekID: kek.ID(), rand: k.rand}, nil
}

// Open decrypts s, checking that it was sealed for ad. The data key is
// unwrapped with the KEK that s names, through a bounded cache keyed by KEK
// id and wrapped bytes, so a warm Open makes no KEK call.
//
// It fails closed, never returning partial plaintext, with an error wrapping:
// ErrInvalidAD for an incomplete ad; ErrFormat for an unknown format version,
// a truncated ciphertext or a missing wrapped key; ErrUnknownKEK for a KEK id
// the keyring does not hold; ErrUnwrap when the KEK refuses the wrapped key
// (modified, wrong master key, KMS unreachable); ErrDecrypt when the
// ciphertext was modified or ad differs from the one it was sealed with.
func (k *Keyring) Open(ctx context.Context, s keygate.Sealed, ad AD) (keygate.Secret, error) {
	if err := ad.validate(); err != nil {
		return keygate.Secret{}, fmt.Errorf("open %s: %w", ad, err)
	}
	if err := checkFormat(s.Ciphertext); err != nil {
		return keygate.Secret{}, fmt.Errorf("open %s: %w", ad, err)
	}
	aead, err := k.dataKey(ctx, s)
	if err != nil {
		return keygate.Secret{}, fmt.Errorf("open %s: %w", ad, err)
	}
	pt, err := open(aead, s.Ciphertext, ad)
	if err != nil {
		return keygate.Secret{}, fmt.Errorf("open %s with master key %s: %w", ad, s.KEKID, err)
	}
	secret := keygate.NewSecretBytes(pt)
	clear(pt)
	return secret, nil
}

// dataKey returns the AEAD of the data key of s, from the cache or by
// unwrapping it.
func (k *Keyring) dataKey(ctx context.Context, s keygate.Sealed) (cipher.AEAD, error) {
	if s.KEKID == "" {
		return nil, fmt.Errorf("%w: the record names no master key", ErrUnknownKEK)
	}
	if len(s.WrappedDEK) == 0 {
		return nil, fmt.Errorf("%w: no wrapped data key", ErrFormat)
	}
	ck := cacheKey{kekID: s.KEKID, wrapped: string(s.WrappedDEK)}
	if a, ok := k.cache.get(ck); ok {
		return a, nil
	}
	dek, err := k.unwrap(ctx, s.WrappedDEK, s.KEKID)
	if err != nil {
		return nil, err
	}
	defer clear(dek)
	a, err := newAEAD(dek)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnwrap, err)
	}
	k.cache.put(ck, a)
	return a, nil
}

// unwrap unwraps wrapped with the KEK kekID and checks the data key size.
func (k *Keyring) unwrap(ctx context.Context, wrapped []byte, kekID string) ([]byte, error) {
	kek, ok := k.lookup(kekID)
	if !ok || kekID == "" {
		return nil, fmt.Errorf("%w %q: add it to the keyring (a previous master key) to read records it wrapped", ErrUnknownKEK, kekID)
	}
	dek, err := kek.Unwrap(ctx, wrapped)
	if err != nil {
		return nil, fmt.Errorf("%w with master key %s: %w", ErrUnwrap, kekID, err)
	}
	if len(dek) != dekSize {
		clear(dek)
		return nil, fmt.Errorf("%w with master key %s: %w: data key is %d bytes, want %d", ErrUnwrap, kekID, ErrFormat, len(dek), dekSize)
	}
	return dek, nil
}

// Rewrap unwraps a wrapped data key with its KEK kekID and wraps it with the
// primary, for master-key rotation; it returns the new wrapped key and the
// primary's id. The data key itself, and so the ciphertext, do not change.
// A record already under the primary is rewrapped all the same (harmless).
//
// Errors: ErrUnknownKEK, ErrUnwrap (as Open), or the primary's Wrap error.
func (k *Keyring) Rewrap(ctx context.Context, wrapped []byte, kekID string) (newWrapped []byte, newKEKID string, err error) {
	dek, err := k.unwrap(ctx, wrapped, kekID)
	if err != nil {
		return nil, "", fmt.Errorf("rewrap: %w", err)
	}
	defer clear(dek)
	primary, _ := k.lookup("")
	newWrapped, err = primary.Wrap(ctx, dek)
	if err != nil {
		return nil, "", fmt.Errorf("rewrap: wrap with master key %s: %w", primary.ID(), err)
	}
	if a, err := newAEAD(dek); err == nil {
		k.cache.put(cacheKey{kekID: primary.ID(), wrapped: string(newWrapped)}, a)
	}
	return newWrapped, primary.ID(), nil
}

// PurgeCache forgets every cached data key; the next Open of each record
// calls its KEK again. Use it after retiring a master key.
func (k *Keyring) PurgeCache() { k.cache.purge() }

// CachedDataKeys returns how many unwrapped data keys the cache holds.
func (k *Keyring) CachedDataKeys() int { return k.cache.len() }

// Forget drops the cached data key of s, if any: its record was superseded
// and is read, if ever, only for a rollback, which may unwrap it again.
// Without it the cache would fill with one entry per key version ever
// read, each pinning its memory until it is evicted.
func (k *Keyring) Forget(s keygate.Sealed) {
	k.cache.remove(cacheKey{kekID: s.KEKID, wrapped: string(s.WrappedDEK)})
}

// SPDX-License-Identifier: Apache-2.0

// Package envelope implements keygate's envelope encryption
// (docs/security.md).
//
// A master key, the [KEK], wraps data keys (DEKs). Each stored value gets its
// own random 256-bit DEK and is encrypted with AES-256-GCM, bound to typed
// associated data ([AD]) that names the row it belongs to, so a ciphertext
// copied to another row, tenant, provider or version does not decrypt.
//
// # Format
//
// A sealed value is a [keygate.Sealed]: the ciphertext, the wrapped DEK and
// the id of the KEK that wrapped it. The ciphertext is
//
//	version (1 byte, 0x01) || nonce (12 bytes) || AES-256-GCM(DEK, nonce, plaintext, aad)
//
// where aad is the version byte followed by the length-prefixed encoding of
// the AD under a domain-separation label. The format version is authenticated
// too, so it cannot be swapped for another. Unknown versions are rejected.
//
// # Rotation
//
// A [Keyring] holds one primary KEK, used for new data keys, and any number
// of older KEKs kept for reading. Master-key rotation is online: SetPrimary
// switches new writes to the new KEK, [Keyring.Rewrap] moves existing wrapped
// DEKs to it one by one, and reads keep working throughout because every
// record names its KEK.
//
// # Failure
//
// Every failure is closed: no partial plaintext is ever returned, and there
// is no path that stores or returns plaintext when a key is missing. Errors
// say what failed and wrap one of the sentinels below; they never contain key
// material or plaintext.
package envelope

import (
	"context"
	"errors"
)

// KEK is a master key (key-encryption key) that wraps data keys. Implementations
// live in internal/keeper (local file, environment, KMS and Vault); they must
// be safe for concurrent use.
type KEK interface {
	// ID returns the stable id stored with every record wrapped by this KEK.
	// Two KEKs with the same id must be the same key.
	ID() string
	// Wrap encrypts a data key. It may be a network call.
	Wrap(ctx context.Context, dek []byte) ([]byte, error)
	// Unwrap decrypts a data key wrapped by Wrap. It fails, never returning
	// partial output, when wrapped was not produced by this key or was
	// modified. An error that no retry can cure (the KEK refused this
	// wrapped key, as opposed to not being reachable) has, in its chain,
	// an error with a method Permanent() bool that returns true: see
	// Unreadable.
	Unwrap(ctx context.Context, wrapped []byte) ([]byte, error)
}

// Sentinel errors. Every error returned by this package wraps at least one of
// them (or an error from a KEK, for Wrap failures) so callers can branch with
// errors.Is.
var (
	// ErrDecrypt means the ciphertext failed authentication: it was
	// modified, or it is being opened with associated data (owner,
	// provider, key id, version, setting name) other than the one it was
	// sealed with, or with the wrong data key.
	ErrDecrypt = errors.New("envelope: message authentication failed")
	// ErrUnwrap means the KEK did not unwrap the data key: the wrapped DEK
	// was modified, the KEK with that id is not the key that wrapped it, or
	// the KEK (a KMS) could not be reached. The KEK's own error is wrapped
	// too.
	ErrUnwrap = errors.New("envelope: data key unwrap failed")
	// ErrUnknownKEK means the record names a master key that the keyring
	// does not hold.
	ErrUnknownKEK = errors.New("envelope: unknown master key")
	// ErrFormat means the sealed value is malformed: unknown format
	// version, truncated ciphertext, or a missing wrapped key.
	ErrFormat = errors.New("envelope: malformed sealed value")
	// ErrInvalidAD means the associated data is incomplete (a provider key
	// AD needs an owner, a provider, a key id and a version >= 1; a setting
	// AD needs a name).
	ErrInvalidAD = errors.New("envelope: invalid associated data")
	// ErrDestroyed means a DataKey was used after Destroy.
	ErrDestroyed = errors.New("envelope: data key destroyed")
)

// Unreadable reports whether err, an error of Keyring.Open, says that the
// record itself cannot be opened with the master keys at hand: its
// ciphertext or associated data do not authenticate (ErrDecrypt), it is
// malformed (ErrFormat, ErrInvalidAD), it names a master key the keyring
// does not hold (ErrUnknownKEK), or the KEK refused its wrapped data key
// for good (ErrUnwrap with a permanent KEK error). It is false for a KEK
// that could not be reached or failed otherwise: that may pass, this will
// not, and callers answer the two differently.
func Unreadable(err error) bool {
	for _, target := range []error{ErrDecrypt, ErrFormat, ErrInvalidAD, ErrUnknownKEK} {
		if errors.Is(err, target) {
			return true
		}
	}
	var p interface{ Permanent() bool }
	return errors.Is(err, ErrUnwrap) && errors.As(err, &p) && p.Permanent()
}

// SPDX-License-Identifier: Apache-2.0

package keeper

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"

	"gocloud.dev/gcerrors"
	"gocloud.dev/secrets"
	"gocloud.dev/secrets/localsecrets"
)

// kmsIDLabel domain-separates the derivation of a KMS key's id. Persisted
// (the id is in every record): never change.
const kmsIDLabel = "keygate/keeper/v1/kms-kek-id\x00"

// kmsKEK is a master key held by a go-cloud secrets driver.
type kmsKEK struct {
	id     string
	keeper *secrets.Keeper
}

// ID implements KEK.
func (k *kmsKEK) ID() string { return k.id }

// Wrap implements KEK with the driver's Encrypt.
func (k *kmsKEK) Wrap(ctx context.Context, dek []byte) ([]byte, error) {
	w, err := k.keeper.Encrypt(ctx, dek)
	if err != nil {
		return nil, fmt.Errorf("wrap with master key %s: %w", k.id, err)
	}
	return w, nil
}

// Unwrap implements KEK with the driver's Decrypt.
func (k *kmsKEK) Unwrap(ctx context.Context, wrapped []byte) ([]byte, error) {
	dek, err := k.keeper.Decrypt(ctx, wrapped)
	if err != nil {
		if gcerrors.Code(err) == gcerrors.InvalidArgument {
			// The KMS answered, and refused this ciphertext: no retry
			// will open it (other codes may be an outage).
			return nil, fmt.Errorf("unwrap with master key %s: %w: %w", k.id, ErrDecrypt, err)
		}
		return nil, fmt.Errorf("unwrap with master key %s: %w", k.id, err)
	}
	return dek, nil
}

// openKMS opens a go-cloud secrets URL through a URLMux built here. The
// drivers also register themselves on go-cloud's default mux in their init
// functions (an import side effect this package cannot avoid); keygate never
// uses that mux, so its lazily dialled clients stay unused.
func (s *Set) openKMS(ctx context.Context, rawURL string) (source, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		// url.Parse errors quote the URL, which may hold a key.
		return source{}, fmt.Errorf("%w: the master key URL does not parse", ErrBadKey)
	}
	shown := redactURL(u)
	if u.Scheme == localsecrets.Scheme && u.Host == "" {
		// go-cloud would make a random key, lost at exit with every
		// record it wrapped.
		return source{}, fmt.Errorf("%w: %s needs a key: base64key://<URL-safe base64 of 32 bytes>", ErrBadKey, shown)
	}
	mux := s.mux()
	if !mux.ValidKeeperScheme(u.Scheme) {
		return source{}, fmt.Errorf("%w: unknown master key URL scheme %q (want file, env, base64key, hashivault, awskms, gcpkms or azurekeyvault)", ErrBadKey, u.Scheme)
	}
	k, err := mux.OpenKeeperURL(ctx, u)
	if err != nil {
		return source{}, fmt.Errorf("open master key %s: %w", shown, err)
	}
	s.closers = append(s.closers, k.Close)
	return source{kind: KindKMS, primary: &kmsKEK{id: kmsID(u), keeper: k}}, nil
}

// kmsID derives a KMS key's id from the URL's scheme, host and path, not its
// query (which may carry credentials or options), so every replica given the
// same key URL agrees.
func kmsID(u *url.URL) string {
	h := sha256.New()
	h.Write([]byte(kmsIDLabel + u.Scheme + "://" + u.Host + u.Path))
	return "mk_kms_" + hex.EncodeToString(h.Sum(nil)[:8])
}

// redactURL returns u for messages: scheme, host and path only, and no host
// for base64key, whose host is the key itself.
func redactURL(u *url.URL) string {
	if u.Scheme == localsecrets.Scheme {
		return localsecrets.Scheme + "://[REDACTED]"
	}
	return u.Scheme + "://" + u.Host + u.Path
}

// openerFunc adapts a function to secrets.KeeperURLOpener.
type openerFunc func(ctx context.Context, u *url.URL) (*secrets.Keeper, error)

func (f openerFunc) OpenKeeperURL(ctx context.Context, u *url.URL) (*secrets.Keeper, error) {
	return f(ctx, u)
}

// SPDX-License-Identifier: Apache-2.0

package keeper

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
)

// envIDLabel domain-separates the derivation of an env key's id from any
// other hash of the key. Persisted (the id is in every record): never change.
const envIDLabel = "keygate/keeper/v1/env-kek-id\x00"

// openEnv opens env://name: the standard base64 of exactly 32 bytes in the
// variable name. Its id is "mk_env_" and the first 8 bytes (hex) of
// SHA-256(label || key), the same on every replica given the same key, and
// revealing nothing useful about a 256-bit random key.
func openEnv(name string, opt Options) (source, error) {
	if !validEnvName(name) {
		return source{}, fmt.Errorf("%w: env master key URL names %q, which is not an environment variable name; want env://VARNAME", ErrBadKey, name)
	}
	if opt.Getenv == nil {
		return source{}, fmt.Errorf("keeper: env master key %s: no Getenv function configured", name)
	}
	val := strings.TrimSpace(opt.Getenv(name))
	if val == "" {
		return source{}, fmt.Errorf("%w: environment variable %s is empty or unset; want the standard base64 of 32 random bytes (openssl rand -base64 32)", ErrBadKey, name)
	}
	key, err := base64.StdEncoding.DecodeString(val)
	if err != nil {
		// The decoder's error holds only an offset, but say it plainly.
		return source{}, fmt.Errorf("%w: environment variable %s is not standard base64", ErrBadKey, name)
	}
	defer clear(key)
	if len(key) != keySize {
		return source{}, fmt.Errorf("%w: environment variable %s holds %d bytes, want %d (openssl rand -base64 32)", ErrBadKey, name, len(key), keySize)
	}
	h := sha256.New()
	h.Write([]byte(envIDLabel))
	h.Write(key)
	id := "mk_env_" + hex.EncodeToString(h.Sum(nil)[:8])
	kek, err := newLocalKEK(id, key, opt.Rand)
	if err != nil {
		return source{}, err
	}
	return source{kind: KindEnv, primary: kek}, nil
}

// validEnvName reports whether s is a portable environment variable name:
// [A-Za-z_][A-Za-z0-9_]*.
func validEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		switch {
		case c == '_', 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z':
		case '0' <= c && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

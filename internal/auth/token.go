// SPDX-License-Identifier: Apache-2.0

// Package auth mints, hashes and checks keygate's tokens (admin tokens for
// the management API, gateway tokens for the proxy) and decides what each
// role may do.
package auth

import (
	"crypto/sha256"
	"fmt"
	"io"
	"math/big"

	"github.com/keygate/keygate"
)

// Token prefixes. A prefix tells a reader (and secret scanners) what a token
// is for without revealing anything.
const (
	AdminTokenPrefix   = "kga_"
	GatewayTokenPrefix = "kg_"
)

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// Mint returns a new token: prefix followed by 32 random bytes (256 bits,
// far beyond guessing) in base62, and its SHA-256 hash, which is all that is
// stored. A fast hash is right here: the token has full entropy, so there is
// nothing for a slow hash to protect against.
func Mint(random io.Reader, prefix string) (keygate.Secret, []byte, error) {
	var b [32]byte
	if _, err := io.ReadFull(random, b[:]); err != nil {
		return keygate.Secret{}, nil, fmt.Errorf("mint token: %w", err)
	}
	n := new(big.Int).SetBytes(b[:])
	out := []byte(prefix)
	base := big.NewInt(62)
	mod := new(big.Int)
	for i := 0; i < 43; i++ { // 62^43 > 2^256
		n.DivMod(n, base, mod)
		out = append(out, base62[mod.Int64()])
	}
	tok := keygate.NewSecretBytes(out)
	for i := range out {
		out[i] = 0
	}
	return tok, Hash(tok), nil
}

// Hash returns the SHA-256 of a token, the form in which tokens are stored
// and looked up.
func Hash(tok keygate.Secret) []byte {
	h := sha256.Sum256(tok.RevealBytes())
	return h[:]
}

// NewID returns a random identifier with the given prefix ("tn_", "pk_",
// "at_", ...): 16 base62 characters, about 95 bits.
func NewID(random io.Reader, prefix string) (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(random, b[:]); err != nil {
		return "", fmt.Errorf("new id: %w", err)
	}
	out := make([]byte, 0, len(prefix)+16)
	out = append(out, prefix...)
	for _, c := range b {
		out = append(out, base62[int(c)%62])
	}
	return string(out), nil
}

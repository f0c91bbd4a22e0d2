// SPDX-License-Identifier: Apache-2.0

package auth

import (
	"fmt"
	"math"
	"strings"

	"github.com/keygate/keygate"
)

// MinAdminTokenBits is the least entropy, in bits, that an operator-chosen
// admin token (KEYGATE_ADMIN_TOKEN) must have: as much as a random 128-bit
// key, so that guessing it is out of reach even without throttling.
const MinAdminTokenBits = 128

// EntropyBits estimates, conservatively, how many bits of entropy tok has
// if an attacker knows how it was made: the "kga_" prefix counts nothing;
// each other character counts log2 of the smallest standard alphabet that
// covers all of them (digits 10, hex 16, lowercase+digits 36,
// alphanumerics 62, base64url 64, base64 65, printable ASCII 95); and a
// character that extends a run of one repeated character, or of an
// ascending or descending sequence ("aaaa", "1234", "dcba"), beyond three
// counts nothing. A token with fewer than 8 distinct characters
// ("abcabcabc...") counts at most 8 bits per distinct character. Random
// tokens of 32 hex digits, 22 base64url characters or keygate's own format
// pass; words, repeated patterns and short strings do not.
func EntropyBits(tok keygate.Secret) float64 {
	s := strings.TrimPrefix(tok.Reveal(), AdminTokenPrefix)
	if s == "" {
		return 0
	}
	perChar := math.Log2(float64(alphabetSize(s)))
	var bits float64
	run, step := 1, 0 // length of the current pattern, and its step (0: repeat)
	distinct := map[rune]bool{}
	var prev rune
	for i, r := range []rune(s) {
		distinct[r] = true
		if i > 0 {
			d := int(r - prev)
			switch {
			case run == 1 && d >= -1 && d <= 1:
				run, step = 2, d
			case run > 1 && d == step:
				run++
			case d >= -1 && d <= 1:
				run, step = 2, d
			default:
				run = 1
			}
		}
		prev = r
		if run <= 3 {
			bits += perChar
		}
	}
	if len(distinct) < 8 {
		bits = math.Min(bits, float64(8*len(distinct)))
	}
	return bits
}

// alphabetSize returns the size of the smallest standard alphabet that
// holds every character of s.
func alphabetSize(s string) int {
	var lowerHex, upperHex, lower, upper, urlSym, stdSym, other bool
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			// every alphabet has digits
		case r >= 'a' && r <= 'f':
			lowerHex = true
		case r >= 'A' && r <= 'F':
			upperHex = true
		case r >= 'a' && r <= 'z':
			lower = true
		case r >= 'A' && r <= 'Z':
			upper = true
		case r == '-' || r == '_':
			urlSym = true
		case r == '+' || r == '/' || r == '=':
			stdSym = true
		default:
			other = true
		}
	}
	hasLower, hasUpper := lower || lowerHex, upper || upperHex
	switch {
	case other || (urlSym && stdSym):
		return 95
	case stdSym:
		return 65
	case urlSym:
		return 64
	case hasLower && hasUpper:
		return 62
	case lower || upper:
		return 36
	case lowerHex || upperHex:
		return 16
	}
	return 10
}

// CheckAdminTokenStrength returns an error naming KEYGATE_ADMIN_TOKEN and
// the minimum, never the value, if tok has less than MinAdminTokenBits of
// estimated entropy (see EntropyBits).
func CheckAdminTokenStrength(tok keygate.Secret) error {
	if bits := EntropyBits(tok); bits < MinAdminTokenBits {
		return fmt.Errorf("KEYGATE_ADMIN_TOKEN is too weak: about %d bits of entropy, at least %d are required; "+
			"use 32 random bytes, for example \"kga_$(openssl rand -hex 32)\", or unset it to have keygate generate one",
			int(bits), MinAdminTokenBits)
	}
	return nil
}

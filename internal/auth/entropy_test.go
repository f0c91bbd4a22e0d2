// SPDX-License-Identifier: Apache-2.0

package auth_test

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/auth"
)

func TestCheckAdminTokenStrength(t *testing.T) {
	random := func(n int) []byte {
		b := make([]byte, n)
		_, _ = rand.Read(b)
		return b
	}
	minted, _, _ := auth.Mint(rand.Reader, auth.AdminTokenPrefix)
	tests := []struct {
		name string
		tok  string
		ok   bool
	}{
		{"Minted", minted.Reveal(), true},
		{"Hex32Bytes", hex.EncodeToString(random(32)), true},
		{"PrefixedHex24Bytes", "kga_" + hex.EncodeToString(random(24)), true},
		{"Base64URL24Bytes", base64.RawURLEncoding.EncodeToString(random(24)), true},
		{"Base64Std32Bytes", base64.StdEncoding.EncodeToString(random(32)), true},
		{"Empty", "", false},
		{"PrefixOnly", "kga_", false},
		{"Short", "changeme", false},
		{"Hex8Bytes", hex.EncodeToString(random(8)), false},
		{"Word", "kga_secret_value", false},
		{"RepeatedChar", "kga_" + strings.Repeat("A", 200), false},
		{"Sequence", "0123456789abcdefghijklmnopqrstuvwxyz", false},
		{"Pattern", strings.Repeat("abc", 60), false},
		{"WordThenRepeat", "kga_replicaTestTokenAAAAAAAAAAAAAAAAAAAAAAAAAAA", false},
		{"Digits30", "314159265358979323846264338327", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := auth.CheckAdminTokenStrength(keygate.NewSecret(tc.tok))
			if (err == nil) != tc.ok {
				t.Fatalf("strength of %s: %v (%.0f bits), want ok=%v", tc.name, err, auth.EntropyBits(keygate.NewSecret(tc.tok)), tc.ok)
			}
			if err == nil {
				return
			}
			if msg := err.Error(); !strings.Contains(msg, "KEYGATE_ADMIN_TOKEN") || !strings.Contains(msg, "128") ||
				(len(tc.tok) > 4 && strings.Contains(msg, strings.TrimPrefix(tc.tok, "kga_"))) {
				t.Errorf("message %q: want the variable and the minimum, never the value", msg)
			}
		})
	}
}

// TestRandomHexTokensPass checks that the estimate does not refuse honest
// random tokens by chance: 2,000 tokens of 32 random bytes in hex.
func TestRandomHexTokensPass(t *testing.T) {
	for i := 0; i < 2000; i++ {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		if err := auth.CheckAdminTokenStrength(keygate.NewSecret(hex.EncodeToString(b))); err != nil {
			t.Fatalf("random token refused: %v", err)
		}
	}
}

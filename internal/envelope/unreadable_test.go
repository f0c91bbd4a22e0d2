// SPDX-License-Identifier: Apache-2.0

package envelope_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/envelope"
)

// permanent is a KEK error that no retry cures (keeper.ErrDecrypt is one).
type permanent struct{}

func (permanent) Error() string   { return "kek refused the wrapped key" }
func (permanent) Permanent() bool { return true }

// TestUnreadable: a record that cannot be opened with the keys at hand
// (tampered, wrong associated data, unknown or refusing master key) is
// told apart from a master key that could not be reached, by error type.
func TestUnreadable(t *testing.T) {
	ctx := context.Background()
	kr := MustKeyring(t, MustTestKEK(t, "mk_a", "a"))
	s := MustSeal(t, kr, canary, keyAD())
	sealedUnder := func(kek envelope.KEK) keygate.Sealed {
		bad := cloneSealed(s)
		bad.KEKID = kek.ID()
		return bad
	}
	tests := []struct {
		name string
		kr   *envelope.Keyring
		s    func() keygate.Sealed
		ad   envelope.AD
		want bool
	}{
		{"TamperedCiphertext", kr, func() keygate.Sealed { b := cloneSealed(s); b.Ciphertext[len(b.Ciphertext)-1] ^= 1; return b }, keyAD(), true},
		{"OtherAD", kr, func() keygate.Sealed { return s }, envelope.AD{Owner: "tn_other", Provider: "openai", KeyID: "pk_0001", Version: 3}, true},
		{"Truncated", kr, func() keygate.Sealed { b := cloneSealed(s); b.Ciphertext = b.Ciphertext[:5]; return b }, keyAD(), true},
		{"UnknownMasterKey", kr, func() keygate.Sealed { b := cloneSealed(s); b.KEKID = "mk_gone"; return b }, keyAD(), true},
		{"KEKRefuses", MustKeyring(t, brokenKEK{fmt.Errorf("unwrap: %w", permanent{})}), func() keygate.Sealed { return sealedUnder(brokenKEK{}) }, keyAD(), true},
		{"KEKUnreachable", MustKeyring(t, brokenKEK{errors.New("dial tcp: connection refused")}), func() keygate.Sealed { return sealedUnder(brokenKEK{}) }, keyAD(), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.kr.Open(ctx, tc.s(), tc.ad)
			if err == nil {
				t.Fatal("opened")
			}
			if got := envelope.Unreadable(err); got != tc.want {
				t.Errorf("Unreadable(%v) = %v, want %v", err, got, tc.want)
			}
		})
	}
	if envelope.Unreadable(nil) || envelope.Unreadable(errors.New("other")) {
		t.Error("Unreadable of nil or an unrelated error")
	}
}

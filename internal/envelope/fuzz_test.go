// SPDX-License-Identifier: Apache-2.0

package envelope_test

import (
	"context"
	"testing"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/envelope"
)

// FuzzOpen feeds arbitrary ciphertexts and wrapped data keys to Open: it
// must fail cleanly (never panic, never return plaintext) unless the input
// is exactly what Seal produced.
func FuzzOpen(f *testing.F) {
	kek := MustTestKEK(f, "mk_fuzz", "fuzz")
	kr := MustKeyring(f, kek)
	ad := envelope.AD{Owner: "tn_a", Provider: "openai", KeyID: "pk_1", Version: 1}
	good := MustSeal(f, kr, "sk-fuzzplaintext000000000000", ad)
	f.Add(good.Ciphertext, good.WrappedDEK)
	f.Add([]byte{}, []byte{})
	f.Add([]byte{1}, good.WrappedDEK)
	f.Add(append([]byte{2}, good.Ciphertext[1:]...), good.WrappedDEK)
	f.Fuzz(func(t *testing.T, ct, wrapped []byte) {
		s := keygate.Sealed{Ciphertext: ct, WrappedDEK: wrapped, KEKID: "mk_fuzz"}
		got, err := kr.Open(context.Background(), s, ad)
		if err == nil && !got.Equal(keygate.NewSecret("sk-fuzzplaintext000000000000")) {
			t.Fatalf("Open accepted a forged ciphertext")
		}
		if err != nil && !got.IsZero() {
			t.Fatalf("Open returned plaintext with an error")
		}
	})
}

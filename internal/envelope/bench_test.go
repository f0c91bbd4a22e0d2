// SPDX-License-Identifier: Apache-2.0

package envelope_test

import (
	"context"
	"testing"

	"github.com/keygate/keygate"
)

// BenchmarkOpenWarm decrypts a stored key with a warm data-key cache: the hot
// path's cost once a key has been used.
func BenchmarkOpenWarm(b *testing.B) {
	kr := MustKeyring(b, MustTestKEK(b, "mk_a", "a"))
	ad := keyAD()
	s := MustSeal(b, kr, "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ", ad)
	MustOpen(b, kr, s, ad)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		got, err := kr.Open(ctx, s, ad)
		if err != nil {
			b.Fatal(err)
		}
		got.Wipe()
	}
}

// BenchmarkSeal makes a data key (wrapped by a local AES-GCM KEK) and seals
// one key with it: the cost of a key write, without storage.
func BenchmarkSeal(b *testing.B) {
	kr := MustKeyring(b, MustTestKEK(b, "mk_a", "a"))
	ad := keyAD()
	secret := keygate.NewSecret("sk-proj-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		dk, err := kr.NewDataKey(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := dk.Seal(secret, ad); err != nil {
			b.Fatal(err)
		}
		dk.Destroy()
	}
}

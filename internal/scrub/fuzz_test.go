// SPDX-License-Identifier: Apache-2.0

package scrub_test

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/scrub"
)

// FuzzReader holds the streaming scrub to the whole-text scrub for any
// text and any chunking (the seed picks the chunk and read sizes), and
// checks that no needle survives it.
func FuzzReader(f *testing.F) {
	keys := []string{key, "aaaaaaaaab"}
	var secrets []keygate.Secret
	for _, k := range keys {
		secrets = append(secrets, keygate.NewSecret(k))
		for _, form := range forms(k) {
			f.Add([]byte("data: "+form+"\n\n"+form[:len(form)/2]), uint64(len(form)))
		}
	}
	f.Add([]byte("aaaaaaaaaaaaaaaaaab"), uint64(3))
	s := scrub.New(secrets...)
	f.Fuzz(func(t *testing.T, text []byte, seed uint64) {
		want := oracle(s, string(text))
		rng := rand.New(rand.NewPCG(seed, 7))
		var srcSizes, readSizes []int
		for n := 1 + rng.IntN(4); n > 0; n-- {
			srcSizes = append(srcSizes, 1+rng.IntN(3*s.MaxLen()))
			readSizes = append(readSizes, 1+rng.IntN(5*s.MaxLen()))
		}
		got := readAll(t, scrub.NewReader(&chunked{text: append([]byte(nil), text...), sizes: srcSizes}, s, nil), readSizes)
		if got != want {
			t.Fatalf("text %q, chunks %v, reads %v:\n got %q\nwant %q", text, srcSizes, readSizes, got, want)
		}
		for _, n := range s.Needles() {
			if strings.Contains(got, string(n)) {
				t.Fatalf("the output %q still holds the needle %q", got, n)
			}
		}
	})
}

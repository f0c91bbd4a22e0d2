// SPDX-License-Identifier: Apache-2.0

package keeper_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"testing"
	"time"

	"github.com/keygate/keygate/internal/keeper"
)

// fixedNow is the fake clock of these tests.
func fixedNow() time.Time { return time.Date(2025, 11, 28, 12, 0, 0, 0, time.UTC) }

// envOf returns a Getenv over m.
func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// MustOpen opens rawURL and closes the set when the test ends.
func MustOpen(tb testing.TB, rawURL string, opt keeper.Options) *keeper.Set {
	tb.Helper()
	if opt.Now == nil {
		opt.Now = fixedNow
	}
	s, err := keeper.Open(context.Background(), rawURL, opt)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

// randomKey returns the standard base64 of n random bytes.
func randomKey(tb testing.TB, n int) string {
	tb.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		tb.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

// MustWrap wraps dek with k.
func MustWrap(tb testing.TB, k keeper.KEK, dek []byte) []byte {
	tb.Helper()
	w, err := k.Wrap(context.Background(), dek)
	if err != nil {
		tb.Fatalf("Wrap with %s: %v", k.ID(), err)
	}
	return w
}

// MustUnwrap unwraps w with k.
func MustUnwrap(tb testing.TB, k keeper.KEK, w []byte) []byte {
	tb.Helper()
	dek, err := k.Unwrap(context.Background(), w)
	if err != nil {
		tb.Fatalf("Unwrap with %s: %v", k.ID(), err)
	}
	return dek
}

func testDEK() []byte {
	b := make([]byte, 32)
	for i := range b {
		b[i] = byte(i * 7)
	}
	return b
}

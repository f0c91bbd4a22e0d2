// SPDX-License-Identifier: Apache-2.0

// Package keepertest is the conformance suite every master key (KEK) kind
// passes, after go-cloud's secrets/drivertest: one set of tests, run against
// the file, env and go-cloud keepers alike. Imported only by tests.
package keepertest

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// KEK is the master key contract under test (envelope.KEK, keeper.KEK).
type KEK interface {
	ID() string
	Wrap(ctx context.Context, dek []byte) ([]byte, error)
	Unwrap(ctx context.Context, wrapped []byte) ([]byte, error)
}

// NewKEKs returns two different master keys of the kind under test.
type NewKEKs func(t *testing.T) (a, b KEK)

// Run runs the conformance tests as subtests of t.
func Run(t *testing.T, newKEKs NewKEKs) {
	t.Helper()
	tests := []struct {
		name string
		run  func(t *testing.T, a, b KEK)
	}{
		{"ID", testID},
		{"RoundTrip", testRoundTrip},
		{"WrapTwiceDiffers", testWrapTwiceDiffers},
		{"Tampered", testTampered},
		{"OtherKEKCannotUnwrap", testOtherKEK},
		{"Concurrent", testConcurrent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, b := newKEKs(t)
			tc.run(t, a, b)
		})
	}
}

func dek(seed byte) []byte {
	b := make([]byte, 32)
	for i := range b {
		b[i] = seed + byte(i)
	}
	return b
}

// MustWrap wraps d with k.
func MustWrap(tb testing.TB, k KEK, d []byte) []byte {
	tb.Helper()
	w, err := k.Wrap(context.Background(), d)
	if err != nil {
		tb.Fatalf("Wrap: %v", err)
	}
	return w
}

func testID(t *testing.T, a, b KEK) {
	if a.ID() == "" || b.ID() == "" {
		t.Fatalf("empty id: %q, %q", a.ID(), b.ID())
	}
	if a.ID() == b.ID() {
		t.Errorf("two different keys share the id %q", a.ID())
	}
	if id := a.ID(); id != a.ID() {
		t.Errorf("id changed between calls")
	}
}

func testRoundTrip(t *testing.T, a, _ KEK) {
	for _, d := range [][]byte{dek(1), dek(200), {7}} {
		w := MustWrap(t, a, d)
		if bytes.Contains(w, d) && len(d) > 1 {
			t.Errorf("wrapped key contains the data key")
		}
		got, err := a.Unwrap(context.Background(), w)
		if err != nil {
			t.Fatalf("Unwrap: %v", err)
		}
		if diff := cmp.Diff(d, got); diff != "" {
			t.Errorf("Unwrap (-want +got):\n%s", diff)
		}
	}
}

func testWrapTwiceDiffers(t *testing.T, a, _ KEK) {
	if bytes.Equal(MustWrap(t, a, dek(1)), MustWrap(t, a, dek(1))) {
		t.Error("two wraps of one data key are equal: the wrap is not randomized")
	}
}

func testTampered(t *testing.T, a, _ KEK) {
	w := MustWrap(t, a, dek(1))
	flip := func(i int) func([]byte) []byte {
		return func(b []byte) []byte { b[i] ^= 1; return b }
	}
	tests := []struct {
		name   string
		mutate func([]byte) []byte
	}{
		{"FirstByte", flip(0)},
		{"MiddleByte", flip(len(w) / 2)},
		{"LastByte", flip(len(w) - 1)},
		{"MissingByte", func(b []byte) []byte { return b[:len(b)-1] }},
		{"ExtraByte", func(b []byte) []byte { return append(b, 0) }},
		{"Empty", func([]byte) []byte { return []byte{} }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bad := tc.mutate(append([]byte(nil), w...))
			got, err := a.Unwrap(context.Background(), bad)
			if err == nil {
				t.Fatalf("Unwrap of a modified wrapped key succeeded")
			}
			if got != nil {
				t.Errorf("Unwrap returned output with its error")
			}
		})
	}
}

func testOtherKEK(t *testing.T, a, b KEK) {
	got, err := b.Unwrap(context.Background(), MustWrap(t, a, dek(1)))
	if err == nil {
		t.Fatalf("key %s unwrapped a data key wrapped by %s", b.ID(), a.ID())
	}
	if got != nil {
		t.Errorf("Unwrap returned output with its error")
	}
}

func testConcurrent(t *testing.T, a, _ KEK) {
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 20 {
				d := dek(byte(g*20 + i))
				w, err := a.Wrap(context.Background(), d)
				if err != nil {
					t.Errorf("Wrap: %v", err)
					return
				}
				got, err := a.Unwrap(context.Background(), w)
				if err != nil || !bytes.Equal(got, d) {
					t.Errorf("Unwrap: %v", fmt.Sprint(err))
					return
				}
			}
		})
	}
	wg.Wait()
}

// SPDX-License-Identifier: Apache-2.0

package usage_test

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keygate/keygate/internal/provider"
	"github.com/keygate/keygate/internal/usage"
)

// FuzzMeterSSE feeds any bytes to a stream Meter: it never panics, and
// what it reports does not depend on how the bytes are split into writes.
// The committed seeds (testdata/fuzz/FuzzMeterSSE) are streams of the fake
// provider and framing corner cases.
func FuzzMeterSSE(f *testing.F) {
	f.Add([]byte("data: {\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":2}}\r\n\r\n"), uint16(9), uint16(30))
	f.Add([]byte("event: message_start\ndata: {\"message\":{\"model\":\"m\",\"usage\":{\"input_tokens\":5}}}\r\rdata: {\"usage\":{\"output_tokens\":9}}"), uint16(1), uint16(2))
	f.Fuzz(func(t *testing.T, b []byte, s1, s2 uint16) {
		i, j := int(s1)%(len(b)+1), int(s2)%(len(b)+1)
		if i > j {
			i, j = j, i
		}
		for _, closeIt := range []bool{false, true} {
			whole := res(meterAll(provider.UsageOpenAI, true, closeIt, b))
			split := res(meterAll(provider.UsageOpenAI, true, closeIt, b[:i], b[i:j], b[j:]))
			if diff := cmp.Diff(whole, split); diff != "" {
				t.Fatalf("closed %v, split at %d, %d (-whole +split):\n%s", closeIt, i, j, diff)
			}
			if whole.Counts.Input < 0 || whole.Counts.Output < 0 || whole.Counts.Cached < 0 {
				t.Fatalf("negative counts: %+v", whole)
			}
		}
		_ = usage.StripUsageChunk(b)
		_, _ = meterAll(provider.UsageGemini, false, true, b)
	})
}

// FuzzEventFilter checks that the filter passes any bytes through unchanged
// when it drops nothing, and that what it drops does not depend on read
// sizes.
func FuzzEventFilter(f *testing.F) {
	f.Add([]byte("data: a\r\n\r\ndata: b\r\rdata: c\n\n"), uint8(1))
	f.Add([]byte("data: {\"choices\":[],\"usage\":{\"prompt_tokens\":1}}\n\ndata: [DONE]\n\n"), uint8(3))
	f.Fuzz(func(t *testing.T, b []byte, chunk uint8) {
		n := int(chunk%16) + 1
		if got, _ := MustFilter(t, b, n, func([]byte) bool { return false }); !bytes.Equal(got, b) {
			t.Fatalf("keep-all filter changed the stream:\n in %q\nout %q", b, got)
		}
		dropOdd := func(ev []byte) bool { return len(ev)%2 == 1 }
		a, _ := MustFilter(t, b, n, dropOdd)
		whole, _ := MustFilter(t, b, len(b)+1, dropOdd)
		if !bytes.Equal(a, whole) {
			t.Fatalf("reads of %d and whole differ:\n%q\n%q", n, a, whole)
		}
	})
}

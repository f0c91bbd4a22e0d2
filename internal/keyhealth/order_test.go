// SPDX-License-Identifier: Apache-2.0

package keyhealth

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestOrder: whatever order the background writes run in, only the
// newest observed answer about a key is written.
func TestOrder(t *testing.T) {
	tests := []struct {
		name string
		run  func(h *Order, write func(seq uint64, what string))
		want []string
	}{
		{"InOrder", func(h *Order, write func(uint64, string)) {
			a := h.Observe("pk_1")
			write(a, "valid")
			b := h.Observe("pk_1")
			write(b, "invalid")
		}, []string{"valid", "invalid"}},
		{"NewerWrittenFirst", func(h *Order, write func(uint64, string)) {
			a := h.Observe("pk_1")
			b := h.Observe("pk_1")
			write(b, "invalid")
			write(a, "valid")
		}, []string{"invalid"}},
		{"OlderWrittenFirst", func(h *Order, write func(uint64, string)) {
			a := h.Observe("pk_1")
			b := h.Observe("pk_1")
			write(a, "valid")
			write(b, "invalid")
		}, []string{"invalid"}},
		{"AgreeingAnswerDropsPending", func(h *Order, write func(uint64, string)) {
			a := h.Observe("pk_1")
			h.Agree("pk_1")
			write(a, "invalid")
		}, nil},
		{"OtherKeysIndependent", func(h *Order, write func(uint64, string)) {
			a := h.Observe("pk_1")
			b := h.Observe("pk_2")
			write(b, "pk_2 invalid")
			write(a, "pk_1 valid")
		}, []string{"pk_2 invalid", "pk_1 valid"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := NewOrder()
			var got []string
			tc.run(h, func(seq uint64, what string) {
				key := "pk_1"
				if what == "pk_2 invalid" {
					key = "pk_2"
				}
				h.Write(key, seq, func() { got = append(got, what) })
			})
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("written (-want +got):\n%s", diff)
			}
			if len(h.latest) != 0 {
				t.Errorf("pending reports left: %v", h.latest)
			}
		})
	}
}

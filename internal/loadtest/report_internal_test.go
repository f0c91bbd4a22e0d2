// SPDX-License-Identifier: Apache-2.0

package loadtest

import "testing"

// TestLatencyChecksNeedAQuietHarness: an open-loop latency target cannot be
// judged when the direct calls alone queue for far longer than the target;
// the check then says so rather than pass on a negative difference.
func TestLatencyChecksNeedAQuietHarness(t *testing.T) {
	tests := []struct {
		name   string
		direct float64
		limit  float64
		want   bool // resolvable
	}{
		{"QuietP50", 120, 50, true},
		{"NoisyP50", 1217, 50, false},
		{"QuietP99", 1900, 200, true},
		{"NoisyP99", 18547, 200, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := resolvable(tc.direct, tc.limit) == ""; got != tc.want {
				t.Errorf("resolvable(%v, %v) = %v, want %v", tc.direct, tc.limit, got, tc.want)
			}
		})
	}
}

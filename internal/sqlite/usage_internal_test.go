// SPDX-License-Identifier: Apache-2.0

package sqlite

import "testing"

func TestChunkRows(t *testing.T) {
	tests := []struct{ n, want int }{
		{1, 1}, {2, 2}, {3, 2}, {4, 4}, {7, 4}, {31, 16}, {32, 32}, {33, 32}, {100, 32}, {5000, 32},
	}
	for _, tc := range tests {
		if got := chunkRows(tc.n); got != tc.want {
			t.Errorf("chunkRows(%d) = %d, want %d", tc.n, got, tc.want)
		}
	}
	// Every batch size is cut into chunks that add up to it.
	for n := 1; n <= 600; n++ {
		sum, parts := 0, 0
		for rest := n; rest > 0; parts++ {
			c := chunkRows(rest)
			sum, rest = sum+c, rest-c
		}
		if sum != n || parts > 6+n/maxChunkRows {
			t.Fatalf("batch of %d: %d rows in %d statements", n, sum, parts)
		}
	}
}

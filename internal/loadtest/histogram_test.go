// SPDX-License-Identifier: Apache-2.0

package loadtest

import (
	"math"
	"testing"
	"time"
)

func TestHistogramQuantiles(t *testing.T) {
	h := NewHistogram()
	for i := 1; i <= 100000; i++ {
		h.Record(time.Duration(i) * 10 * time.Nanosecond) // 10ns .. 1ms, uniform
	}
	tests := []struct {
		name string
		q    float64
		want time.Duration
	}{
		{"P50", 0.5, 500 * time.Microsecond},
		{"P90", 0.9, 900 * time.Microsecond},
		{"P99", 0.99, 990 * time.Microsecond},
		{"P999", 0.999, 999 * time.Microsecond},
		{"Max", 1, time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := h.Quantile(tc.q)
			if rel := math.Abs(float64(got-tc.want)) / float64(tc.want); rel > 1.0/subCount {
				t.Errorf("Quantile(%v) = %v, want %v within %.2f%%", tc.q, got, tc.want, 100.0/subCount)
			}
		})
	}
	if h.Count() != 100000 || h.Max() != time.Millisecond {
		t.Errorf("count %d max %v", h.Count(), h.Max())
	}
}

func TestHistogramBuckets(t *testing.T) {
	for _, v := range []int64{0, 1, 127, 128, 129, 255, 256, 1000, 1 << 20, 1<<40 + 12345, maxRecord} {
		i := bucketOf(v)
		mid := bucketValue(i)
		if rel := math.Abs(float64(mid-v)) / math.Max(float64(v), 1); rel > 1.0/subCount {
			t.Errorf("value %d lands in bucket %d of middle %d", v, i, mid)
		}
		if i < 0 || i >= nBuckets {
			t.Errorf("value %d: bucket %d out of range", v, i)
		}
	}
	empty := NewHistogram()
	if empty.Quantile(0.5) != 0 || empty.Summary().Valid {
		t.Errorf("an empty histogram reports values")
	}
}

func TestCountEvents(t *testing.T) {
	tests := []struct {
		name string
		prev byte
		b    string
		want int
	}{
		{"None", 0, "data: {}", 0},
		{"One", 0, "data: {}\n\n", 1},
		{"Two", 0, "data: 1\n\ndata: 2\n\n", 2},
		{"SplitAcrossReads", '\n', "\ndata: 2", 1},
		{"SingleNewline", 0, "data: 1\n", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := countEvents(tc.prev, []byte(tc.b)); got != tc.want {
				t.Errorf("countEvents = %d, want %d", got, tc.want)
			}
		})
	}
}

// SPDX-License-Identifier: Apache-2.0

package loadtest

import (
	"math/bits"
	"sync/atomic"
	"time"
)

// subBits sets the histogram's precision: 2^subBits sub-buckets per power
// of two, so a recorded value is off by less than 1/128 (0.8%).
const subBits = 7

const (
	subCount = 1 << subBits
	// maxExp covers values up to 2^(maxExp+subBits) ns, about 39 hours.
	maxExp    = 40
	nBuckets  = (maxExp + 1) * subCount
	maxRecord = int64(1)<<(maxExp+subBits) - 1
)

// Histogram records durations in log-linear buckets. It is safe for
// concurrent use and never allocates after creation, so recording costs
// the load generator next to nothing.
type Histogram struct {
	counts [nBuckets]atomic.Uint64
	n      atomic.Uint64
	sum    atomic.Int64
	max    atomic.Int64
}

// NewHistogram returns an empty histogram.
func NewHistogram() *Histogram { return &Histogram{} }

func bucketOf(v int64) int {
	if v < subCount {
		return int(v)
	}
	e := bits.Len64(uint64(v)) - subBits - 1 // v>>e is in [subCount, 2*subCount)
	return (e+1)*subCount + int(v>>e) - subCount
}

// bucketValue returns the middle of bucket i.
func bucketValue(i int) int64 {
	if i < subCount {
		return int64(i)
	}
	e := i/subCount - 1
	low := int64(i%subCount+subCount) << e
	return low + (int64(1)<<e)/2
}

// Record adds one duration; negative durations count as zero.
func (h *Histogram) Record(d time.Duration) {
	v := int64(d)
	if v < 0 {
		v = 0
	}
	if v > maxRecord {
		v = maxRecord
	}
	h.counts[bucketOf(v)].Add(1)
	h.n.Add(1)
	h.sum.Add(v)
	for {
		m := h.max.Load()
		if v <= m || h.max.CompareAndSwap(m, v) {
			break
		}
	}
}

// Count returns how many durations were recorded.
func (h *Histogram) Count() uint64 { return h.n.Load() }

// Quantile returns the duration below which a fraction q (0..1) of the
// recorded values fall, within the histogram's precision; 0 when empty.
func (h *Histogram) Quantile(q float64) time.Duration {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	rank := uint64(q * float64(n))
	if rank >= n {
		rank = n - 1
	}
	var seen uint64
	for i := range h.counts {
		seen += h.counts[i].Load()
		if seen > rank {
			v := bucketValue(i)
			if m := h.max.Load(); v > m {
				v = m
			}
			return time.Duration(v)
		}
	}
	return time.Duration(h.max.Load())
}

// Mean returns the mean recorded duration; 0 when empty.
func (h *Histogram) Mean() time.Duration {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	return time.Duration(h.sum.Load() / int64(n))
}

// Max returns the largest recorded duration.
func (h *Histogram) Max() time.Duration { return time.Duration(h.max.Load()) }

// Percentiles is a latency summary in microseconds.
type Percentiles struct {
	N     uint64  `json:"n"`
	Mean  float64 `json:"mean_us"`
	P50   float64 `json:"p50_us"`
	P90   float64 `json:"p90_us"`
	P99   float64 `json:"p99_us"`
	P999  float64 `json:"p99_9_us"`
	Max   float64 `json:"max_us"`
	Valid bool    `json:"-"`
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// Summary returns the histogram's percentiles.
func (h *Histogram) Summary() Percentiles {
	return Percentiles{
		N:     h.Count(),
		Mean:  us(h.Mean()),
		P50:   us(h.Quantile(0.50)),
		P90:   us(h.Quantile(0.90)),
		P99:   us(h.Quantile(0.99)),
		P999:  us(h.Quantile(0.999)),
		Max:   us(h.Max()),
		Valid: h.Count() > 0,
	}
}

// Minus returns p - q percentile by percentile: the latency one target
// adds over another.
func (p Percentiles) Minus(q Percentiles) Percentiles {
	return Percentiles{
		N: p.N, Mean: p.Mean - q.Mean, P50: p.P50 - q.P50, P90: p.P90 - q.P90,
		P99: p.P99 - q.P99, P999: p.P999 - q.P999, Max: p.Max - q.Max, Valid: p.Valid && q.Valid,
	}
}

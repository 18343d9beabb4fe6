package loadgen

import (
	"math"
	"math/bits"
	"time"
)

// Latency summarises the delays of one step of the exchange, such as
// DISCOVER to OFFER. Percentiles are read from a histogram whose buckets
// are at most 1/32 (about 3%) of their value wide; each is reported as the
// upper edge of its bucket, capped at Max, so a percentile is never below
// the true one by more than a bucket.
type Latency struct {
	Count uint64        // delays measured
	Min   time.Duration // shortest
	Mean  time.Duration // arithmetic mean
	P50   time.Duration // median
	P90   time.Duration // 90th percentile
	P99   time.Duration // 99th percentile
	Max   time.Duration // longest
}

// subBits is the number of bits of a value kept below its leading one:
// each power of two is split into 2^subBits buckets.
const subBits = 5

const (
	subCount = 1 << subBits
	// numBuckets covers every non-negative int64 count of nanoseconds.
	numBuckets = (64 - subBits) * subCount
)

// histogram counts durations in log-linear buckets: exact below 32 ns,
// then 32 buckets per power of two. It is a fixed-size value; recording
// never allocates. It is not safe for concurrent use.
type histogram struct {
	counts   [numBuckets]uint64
	count    uint64
	sum      float64 // nanoseconds; float so that it cannot overflow
	min, max int64
}

// bucketOf returns the index of the bucket holding v nanoseconds (v >= 0).
func bucketOf(v uint64) int {
	if v < subCount {
		return int(v)
	}
	shift := bits.Len64(v) - subBits - 1
	mantissa := v>>uint(shift) - subCount
	return (shift+1)*subCount + int(mantissa)
}

// bucketHigh returns the largest value the bucket i holds.
func bucketHigh(i int) uint64 {
	if i < subCount {
		return uint64(i)
	}
	shift := i/subCount - 1
	mantissa := uint64(i % subCount)
	low := (subCount + mantissa) << uint(shift)
	return low + (1 << uint(shift)) - 1
}

// record adds one duration; negative durations count as zero.
func (h *histogram) record(d time.Duration) {
	v := max(int64(d), 0)
	h.counts[bucketOf(uint64(v))]++
	if h.count == 0 || v < h.min {
		h.min = v
	}
	if v > h.max {
		h.max = v
	}
	h.count++
	h.sum += float64(v)
}

// quantile returns the upper edge of the bucket holding the value of rank
// ceil(q*count), capped at the largest value recorded; 0 when empty.
func (h *histogram) quantile(q float64) time.Duration {
	if h.count == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.count)))
	rank = min(max(rank, 1), h.count)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return time.Duration(min(int64(bucketHigh(i)), h.max))
		}
	}
	return time.Duration(h.max)
}

// summary returns the histogram's Latency.
func (h *histogram) summary() Latency {
	if h.count == 0 {
		return Latency{}
	}
	return Latency{
		Count: h.count,
		Min:   time.Duration(h.min),
		Mean:  time.Duration(h.sum / float64(h.count)),
		P50:   h.quantile(0.50),
		P90:   h.quantile(0.90),
		P99:   h.quantile(0.99),
		Max:   time.Duration(h.max),
	}
}

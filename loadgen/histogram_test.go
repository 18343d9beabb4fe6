package loadgen

import (
	"testing"
	"time"
)

func TestBucketsCoverEveryValue(t *testing.T) {
	values := []uint64{0, 1, 31, 32, 33, 63, 64, 65, 1000, 1023, 1024, 999_999, 1 << 40, 1<<62 + 12345, 1<<63 - 1}
	for v := uint64(0); v < 5000; v++ {
		values = append(values, v)
	}
	for _, v := range values {
		i := bucketOf(v)
		if i < 0 || i >= numBuckets {
			t.Fatalf("bucketOf(%d) = %d, outside 0-%d", v, i, numBuckets-1)
		}
		high := bucketHigh(i)
		low := uint64(0)
		if i > 0 {
			low = bucketHigh(i-1) + 1
		}
		if v < low || v > high {
			t.Errorf("value %d in bucket %d holding %d-%d", v, i, low, high)
		}
		// The resolution promised in Latency's doc: a bucket is at most
		// 1/32 of its values wide.
		if width := high - low + 1; v >= subCount && width > v/subCount+1 {
			t.Errorf("bucket of %d is %d wide", v, width)
		}
	}
}

func TestHistogramSummary(t *testing.T) {
	tests := []struct {
		name   string
		values []time.Duration
		want   Latency
	}{
		{"empty", nil, Latency{}},
		{"one value is every percentile", []time.Duration{1500 * time.Microsecond},
			Latency{Count: 1, Min: 1500 * time.Microsecond, Mean: 1500 * time.Microsecond, P50: 1500 * time.Microsecond,
				P90: 1500 * time.Microsecond, P99: 1500 * time.Microsecond, Max: 1500 * time.Microsecond}},
		{"small values are exact", []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10},
			Latency{Count: 10, Min: 1, Mean: 5, P50: 5, P90: 9, P99: 10, Max: 10}},
		{"negative counts as zero", []time.Duration{-5, 0},
			Latency{Count: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h histogram
			for _, v := range tt.values {
				h.record(v)
			}
			if got := h.summary(); got != tt.want {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestHistogramPercentilesWithinResolution(t *testing.T) {
	var h histogram
	// 1 µs to 10 ms in 1 µs steps.
	for v := time.Microsecond; v <= 10*time.Millisecond; v += time.Microsecond {
		h.record(v)
	}
	s := h.summary()
	for _, c := range []struct {
		name      string
		got, want time.Duration
	}{
		{"p50", s.P50, 5 * time.Millisecond},
		{"p90", s.P90, 9 * time.Millisecond},
		{"p99", s.P99, 9900 * time.Microsecond},
	} {
		// Never below the true value, at most one bucket (1/32) above.
		if c.got < c.want || c.got > c.want+c.want/subCount {
			t.Errorf("%s = %v, want %v to %v", c.name, c.got, c.want, c.want+c.want/subCount)
		}
	}
	if s.Max != 10*time.Millisecond || s.Min != time.Microsecond || s.Count != 10000 {
		t.Errorf("got %+v", s)
	}
	if d := s.Mean - 5000500*time.Nanosecond; d < -time.Microsecond || d > time.Microsecond {
		t.Errorf("mean %v, want 5.0005ms", s.Mean)
	}
}

func BenchmarkHistogramRecord(b *testing.B) {
	var h histogram
	b.ReportAllocs()
	for i := range b.N {
		h.record(time.Duration(i&0xfffff) * 100)
	}
}

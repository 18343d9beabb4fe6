package postgres

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"leased/lease"
)

// BenchmarkCommit measures Commit with 1, 64 and 256 concurrent callers,
// each call one lease of a client of its own, against the test server
// (fsync on): commits per second and round trips (transactions) per
// commit.
func BenchmarkCommit(b *testing.B) {
	for _, callers := range []int{1, 64, 256} {
		b.Run(fmt.Sprintf("callers=%d", callers), func(b *testing.B) {
			s := open(b, newDB(b), Options{})
			var next atomic.Uint32
			expiry := time.Now().Add(time.Hour)
			ctx := context.Background()
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			var left atomic.Int64
			left.Store(int64(b.N))
			for range callers {
				wg.Go(func() {
					for left.Add(-1) >= 0 {
						n := next.Add(1) % (1 << 17)
						a := netip.AddrFrom4([4]byte{198, 18 + byte(n>>16), byte(n >> 8), byte(n)})
						l := lease.Lease{Addr: a, ClientID: a.String(), State: lease.Bound, Start: expiry, Expiry: expiry}
						if err := s.Commit(ctx, l); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			el := time.Since(start)
			b.StopTimer()
			st := s.StoreStats()
			b.ReportMetric(float64(b.N)/el.Seconds(), "commits/s")
			b.ReportMetric(float64(st.Batches)/float64(st.Commits), "roundtrips/commit")
		})
	}
}

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
// commit. With "confirming", the leases have an FQDN and, as the DNS
// updater does, 4 goroutines confirm the DNS updates of each lease
// committed (ConfirmDNS), taking them from a queue that the callers fill
// without waiting (a lease the full queue refuses is not confirmed):
// compare the commits per second with those without, and see how many
// confirmations per second kept up.
func BenchmarkCommit(b *testing.B) {
	for _, tc := range []struct {
		callers    int
		confirming bool
	}{{1, false}, {64, false}, {256, false}, {64, true}} {
		name := fmt.Sprintf("callers=%d", tc.callers)
		if tc.confirming {
			name += ",confirming"
		}
		b.Run(name, func(b *testing.B) {
			s := open(b, newDB(b), Options{})
			var next atomic.Uint32
			expiry := time.Now().Add(time.Hour)
			ctx := context.Background()
			queue := make(chan netip.Addr, 4096)
			var confirmed atomic.Int64
			var cwg sync.WaitGroup
			if tc.confirming {
				for range 4 {
					cwg.Go(func() {
						for a := range queue {
							if _, err := s.ConfirmDNS(ctx, a, expiry, lease.DNSAdded); err != nil {
								b.Error(err)
								return
							}
							confirmed.Add(1)
						}
					})
				}
			}
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			var left atomic.Int64
			left.Store(int64(b.N))
			for range tc.callers {
				wg.Go(func() {
					for left.Add(-1) >= 0 {
						n := next.Add(1) % (1 << 17)
						a := netip.AddrFrom4([4]byte{198, 18 + byte(n>>16), byte(n >> 8), byte(n)})
						l := lease.Lease{Addr: a, ClientID: a.String(), State: lease.Bound, Start: expiry, Expiry: expiry}
						if tc.confirming {
							l.FQDN, l.DNS = "host.example.net", lease.DNSForward
						}
						if err := s.Commit(ctx, l); err != nil {
							b.Error(err)
							return
						}
						if tc.confirming {
							select {
							case queue <- a:
							default:
							}
						}
					}
				})
			}
			wg.Wait()
			el := time.Since(start)
			b.StopTimer()
			close(queue)
			cwg.Wait()
			st := s.StoreStats()
			b.ReportMetric(float64(b.N)/el.Seconds(), "commits/s")
			b.ReportMetric(float64(st.Batches)/float64(st.Commits), "roundtrips/commit")
			if tc.confirming {
				b.ReportMetric(float64(confirmed.Load())/float64(b.N), "confirmed/commit")
			}
		})
	}
}

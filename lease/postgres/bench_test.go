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
// commit. With "confirming", a goroutine confirms DNS updates
// (ConfirmDNS) of other leases as fast as it can meanwhile: compare the
// commits per second with those without.
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
			stop := make(chan struct{})
			var confirms atomic.Int64
			var cwg sync.WaitGroup
			if tc.confirming {
				// 256 named leases in 198.19.255.0/24, confirmed in turn,
				// added then removed.
				var named []lease.Lease
				for i := range 256 {
					a := netip.AddrFrom4([4]byte{198, 19, 255, byte(i)})
					named = append(named, lease.Lease{Addr: a, ClientID: a.String(), State: lease.Bound,
						Start: expiry, Expiry: expiry, FQDN: "host.example.net", DNS: lease.DNSForward})
				}
				if err := s.Commit(ctx, named...); err != nil {
					b.Fatal(err)
				}
				cwg.Go(func() {
					for i := 0; ; i++ {
						select {
						case <-stop:
							return
						default:
						}
						l := named[i%len(named)]
						if _, err := s.ConfirmDNS(ctx, l.Addr, l.Start, lease.DNSState(1+i/len(named)%2)); err != nil {
							b.Error(err)
							return
						}
						confirms.Add(1)
					}
				})
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
			close(stop)
			cwg.Wait()
			st := s.StoreStats()
			b.ReportMetric(float64(b.N)/el.Seconds(), "commits/s")
			b.ReportMetric(float64(st.Batches)/float64(st.Commits), "roundtrips/commit")
			if tc.confirming {
				b.ReportMetric(float64(confirms.Load())/el.Seconds(), "confirms/s")
			}
		})
	}
}

package journal

import (
	"bytes"
	"context"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"leased/lease"
)

// BenchmarkCommit64 commits distinct leases from 64 goroutines, one lease
// per Commit, with fdatasync on, into a real directory. It reports the
// throughput, the latency of one Commit (p50, p99) and the batch size.
func BenchmarkCommit64(b *testing.B) { benchCommit64(b, false) }

// BenchmarkCommit64Confirm is BenchmarkCommit64 with leases that have an
// FQDN, each confirmed (ConfirmDNS) by its goroutine right after its
// Commit returned, as the DNS updater does: it shows what confirmations
// cost the commits going on (compare with BenchmarkCommit64), and
// reports the mean time of one ConfirmDNS under them.
func BenchmarkCommit64Confirm(b *testing.B) { benchCommit64(b, true) }

func benchCommit64(b *testing.B, confirm bool) {
	const workers = 64
	s, err := Open(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	lat := make([][]time.Duration, workers)
	for w := range lat {
		lat[w] = make([]time.Duration, 0, b.N/workers+1)
	}
	var next, confirmNs atomic.Int64
	var wg sync.WaitGroup
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for w := range workers {
		wg.Go(func() {
			l := testLease(0, "bench-client", 1)
			if confirm {
				l.FQDN, l.DNS = "bench-client.example.net", lease.DNSForward|lease.DNSReverse
			}
			mine := lat[w]
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					break
				}
				l.Addr = keyAddr(10<<24 + uint32(i))
				t0 := time.Now()
				if err := s.Commit(ctx, l); err != nil {
					b.Error(err)
					return
				}
				t1 := time.Now()
				mine = append(mine, t1.Sub(t0))
				if confirm {
					if ok, err := s.ConfirmDNS(ctx, l.Addr, l.Start, lease.DNSAdded); !ok || err != nil {
						b.Error("ConfirmDNS:", ok, err)
						return
					}
					confirmNs.Add(int64(time.Since(t1)))
				}
			}
			lat[w] = mine
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	all := slices.Concat(lat...)
	slices.Sort(all)
	st := s.Stats()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "leases/s")
	if len(all) > 0 {
		b.ReportMetric(float64(all[len(all)/2].Microseconds()), "p50-µs")
		b.ReportMetric(float64(all[len(all)*99/100].Microseconds()), "p99-µs")
	}
	if st.Batches > 0 {
		b.ReportMetric(float64(st.Records)/float64(st.Batches), "leases/batch")
	}
	if confirm && b.N > 0 {
		b.ReportMetric(float64(confirmNs.Load())/float64(b.N), "confirm-ns")
	}
}

// BenchmarkRecover1M opens a store of 1,000,000 leases, all in the log
// or all in the snapshot, and reports the resident memory after Open.
func BenchmarkRecover1M(b *testing.B) {
	for _, where := range []string{"log", "snapshot"} {
		b.Run(where, func(b *testing.B) {
			dir := b.TempDir()
			build1M(b, dir, where == "snapshot")
			b.ReportAllocs()
			b.ResetTimer()
			var rss int64
			for range b.N {
				b.StopTimer()
				runtime.GC()
				debug.FreeOSMemory()
				b.StartTimer()
				// No compaction: it would start at once, on a store
				// whose log holds all its records.
				s, err := Open(dir, Options{CompactMinBytes: -1})
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				if n := s.Stats().LiveRecords; n != 1_000_000 {
					b.Fatalf("recovered %d leases", n)
				}
				rss = max(rss, residentBytes(b))
				s.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(rss)/(1<<20), "rss-MiB")
		})
	}
}

// build1M fills dir with 1,000,000 leases, 1000 per commit.
func build1M(b *testing.B, dir string, snapshot bool) {
	s, err := Open(dir, Options{CompactMinBytes: -1})
	if err != nil {
		b.Fatal(err)
	}
	ls := make([]lease.Lease, 1000)
	for i := range 1000 {
		for j := range ls {
			n := i*1000 + j
			ls[j] = testLease(n, "client-"+strconv.Itoa(n), 1)
			ls[j].Addr = keyAddr(10<<24 + uint32(n))
		}
		if err := s.Commit(context.Background(), ls...); err != nil {
			b.Fatal(err)
		}
	}
	if snapshot {
		if err := s.Compact(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
}

// residentBytes returns the process's resident set size (Linux only).
func residentBytes(b *testing.B) int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range bytes.Lines(data) {
		if rest, ok := bytes.CutPrefix(line, []byte("VmRSS:")); ok {
			f := bytes.Fields(rest)
			if len(f) > 0 {
				kb, _ := strconv.ParseInt(string(f[0]), 10, 64)
				return kb << 10
			}
		}
	}
	return 0
}

// BenchmarkAppendRecord encodes one lease record into a reused buffer.
func BenchmarkAppendRecord(b *testing.B) {
	l := testLease(1, "client", 1)
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		buf = appendRecord(buf[:0], &l)
	}
}

// BenchmarkFdatasync measures one 4 KiB append and fdatasync on this
// machine: the floor under the latency of a batch.
func BenchmarkFdatasync(b *testing.B) {
	f, err := os.Create(b.TempDir() + "/f")
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.Write(buf); err != nil {
			b.Fatal(err)
		}
		if err := datasync(f); err != nil {
			b.Fatal(err)
		}
	}
}

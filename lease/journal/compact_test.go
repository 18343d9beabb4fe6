package journal

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"leased/lease"
)

func TestCompactionUnderConcurrentCommitsLosesNothing(t *testing.T) {
	const (
		goroutines = 8
		perG       = 64  // addresses per goroutine
		commits    = 300 // per goroutine
	)
	dir := t.TempDir()
	// Small thresholds: automatic compactions all along, besides the
	// explicit ones.
	s := openT(t, dir, Options{CompactMinBytes: 16 << 10})
	ctx := context.Background()
	finals := make([]map[netip.Addr]lease.Lease, goroutines)
	var wg sync.WaitGroup
	var stop atomic.Bool
	var compacts atomic.Int64
	for g := range goroutines {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(g), 7))
			mine := make(map[netip.Addr]lease.Lease)
			for i := range commits {
				n := g*perG + r.IntN(perG)
				l := testLease(n, fmt.Sprintf("g%d", g), i)
				if r.IntN(5) == 0 {
					l = lease.Lease{Addr: addrN(n), State: lease.Free}
				}
				if err := s.Commit(ctx, l); err != nil {
					t.Errorf("Commit: %v", err)
					return
				}
				if l.State == lease.Free {
					delete(mine, l.Addr)
				} else {
					mine[l.Addr] = l
				}
			}
			finals[g] = mine
		})
	}
	var aux sync.WaitGroup
	aux.Go(func() {
		for !stop.Load() {
			if err := s.Compact(ctx); err != nil {
				t.Errorf("Compact: %v", err)
				return
			}
			compacts.Add(1)
		}
	})
	aux.Go(func() {
		// Readers see only complete records while all this goes on.
		for !stop.Load() {
			s.All(func(l lease.Lease) bool {
				if err := l.Validate(); err != nil || l.State == lease.Free {
					t.Errorf("All returned %+v: %v", l, err)
					return false
				}
				return true
			})
		}
	})
	wg.Wait()
	stop.Store(true)
	aux.Wait()

	want := make(map[netip.Addr]lease.Lease)
	for _, m := range finals {
		for a, l := range m {
			want[a] = l
		}
	}
	checkContents(t, "after concurrent commits and compactions", s, want)
	st := s.Stats()
	if compacts.Load() < 2 || st.Compactions < uint64(compacts.Load()) {
		t.Errorf("%d Compact calls, %d compactions: the test did not exercise compaction", compacts.Load(), st.Compactions)
	}
	if st.LiveRecords != int64(len(want)) {
		t.Errorf("LiveRecords = %d, want %d", st.LiveRecords, len(want))
	}
	if n := len(logFiles(t, dir)); n > 2 {
		t.Errorf("%d logs left after compactions, want at most 2", n)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openT(t, dir, Options{})
	checkContents(t, "after reopen", s, want)
}

func TestArenaDropsGarbageAtCompaction(t *testing.T) {
	s := openT(t, t.TempDir(), Options{CompactMinBytes: -1})
	for v := range 50 {
		ls := make([]lease.Lease, 100)
		for i := range ls {
			ls[i] = testLease(i, "c", v)
		}
		commitT(t, s, ls...)
	}
	before := s.st.arena.size
	if err := s.Compact(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The writer is idle and the compaction installed: reading is safe.
	s.stateMu.Lock()
	after, live := s.st.arena.size, s.st.liveBytes
	s.stateMu.Unlock()
	if after >= before/10 || after > live {
		t.Errorf("arena of %d bytes before compaction, %d after, for %d live bytes", before, after, live)
	}
}

func TestCompactionStartsWhenLogOutgrowsLiveRecords(t *testing.T) {
	tests := []struct {
		name    string
		opts    Options
		compact bool
	}{
		{name: "log past the minimum and the live size compacts", opts: Options{CompactMinBytes: 4 << 10}, compact: true},
		{name: "log below the minimum does not", opts: Options{CompactMinBytes: 1 << 30}},
		{name: "negative minimum turns automatic compaction off", opts: Options{CompactMinBytes: -1}},
		{name: "log within the ratio does not", opts: Options{CompactMinBytes: 4 << 10, CompactRatio: 1000}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s := openT(t, dir, tt.opts)
			// 20 addresses rewritten 20 times: the log holds 20 times the
			// live records.
			for v := range 20 {
				ls := make([]lease.Lease, 20)
				for i := range ls {
					ls[i] = testLease(i, "c", v)
				}
				commitT(t, s, ls...)
			}
			// A compaction started by the last commit finishes by Close.
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if got := s.Stats().Compactions > 0; got != tt.compact {
				t.Errorf("compacted: %v, want %v (stats %+v)", got, tt.compact, s.Stats())
			}
			_, err := os.Stat(filepath.Join(dir, snapshotName))
			if hasSnap := err == nil; hasSnap != tt.compact {
				t.Errorf("snapshot present: %v, want %v", hasSnap, tt.compact)
			}
		})
	}
}

package events

import (
	"context"
	"net/netip"
	"sync"
	"testing"
	"time"
)

func record(t Type, addr string) *Record {
	return &Record{Type: t, Addr: netip.MustParseAddr(addr)}
}

// TestQueueDropsAndCountsWhenFull: a full ring refuses at once, counting
// the drop, and what was queued is handled in order.
func TestQueueDropsAndCountsWhenFull(t *testing.T) {
	for _, tc := range []struct {
		name              string
		capacity, workers int
		offers            int
		wantQueued        int
	}{
		{"one worker", 4, 1, 10, 4},
		{"capacity below workers", 1, 4, 3, 1}, // one address: one ring of 1
		{"exact", 8, 2, 4, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var got []Type
			q := NewQueue(tc.capacity, tc.workers, func(_ context.Context, r *Record) {
				mu.Lock()
				got = append(got, r.Type)
				mu.Unlock()
			})
			accepted := 0
			for i := range tc.offers {
				if q.Offer(record(Type(i%5+1), "198.18.0.1")) {
					accepted++
				}
			}
			st := q.Stats()
			if accepted != tc.wantQueued || st.Queued != uint64(tc.wantQueued) || st.Dropped != uint64(tc.offers-tc.wantQueued) || st.Pending != tc.wantQueued {
				t.Fatalf("accepted %d, stats %+v; want %d queued, %d dropped", accepted, st, tc.wantQueued, tc.offers-tc.wantQueued)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { q.Run(ctx); close(done) }()
			waitFor(t, func() bool { return q.Stats().Done == uint64(tc.wantQueued) })
			cancel()
			<-done
			for i, typ := range got {
				if typ != Type(i%5+1) {
					t.Fatalf("handled %v, want the order offered", got)
				}
			}
		})
	}
}

// TestQueueOfferNeverBlocks: offers to a queue whose handler is stuck
// return at once.
func TestQueueOfferNeverBlocks(t *testing.T) {
	stuck := make(chan struct{})
	q := NewQueue(2, 1, func(ctx context.Context, _ *Record) {
		select {
		case <-stuck:
		case <-ctx.Done():
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { q.Run(ctx); close(done) }()
	offered := make(chan struct{})
	go func() {
		for range 1000 {
			q.Offer(record(Commit, "198.18.0.2"))
		}
		close(offered)
	}()
	select {
	case <-offered:
	case <-time.After(10 * time.Second):
		t.Fatal("Offer blocked behind a stuck handler")
	}
	if st := q.Stats(); st.Dropped < 1000-3 || st.Queued+st.Dropped != 1000 {
		t.Fatalf("stats %+v after 1000 offers to a ring of 2", st)
	}
	close(stuck)
	cancel()
	<-done
}

// TestQueueKeepsTheOrderOfEachAddress: with several workers, the events
// of one address are handled in the order they were offered.
func TestQueueKeepsTheOrderOfEachAddress(t *testing.T) {
	var mu sync.Mutex
	seen := map[netip.Addr][]Type{}
	q := NewQueue(4096, 4, func(_ context.Context, r *Record) {
		mu.Lock()
		seen[r.Addr] = append(seen[r.Addr], r.Type)
		mu.Unlock()
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { q.Run(ctx); close(done) }()
	seq := []Type{Commit, Renew, Renew, Release, Commit, Expire, Commit, Decline}
	addrs := []string{"198.18.0.1", "198.18.0.2", "198.18.0.3", "198.18.0.4", "198.18.0.5"}
	for _, typ := range seq {
		for _, a := range addrs {
			if !q.Offer(record(typ, a)) {
				t.Fatal("dropped with room")
			}
		}
	}
	waitFor(t, func() bool { return q.Stats().Done == uint64(len(seq)*len(addrs)) })
	cancel()
	<-done
	for a, got := range seen {
		for i := range seq {
			if got[i] != seq[i] {
				t.Fatalf("%v: handled %v, want %v", a, got, seq)
			}
		}
	}
}

// waitFor waits until cond holds, failing after 10 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 10s")
		}
		time.Sleep(time.Millisecond)
	}
}

// BenchmarkPublish measures publishing an event to hooks whose queues
// are full (the flood case) and not: neither may allocate.
func BenchmarkPublish(b *testing.B) {
	h := (*Hooks)(nil).Add(func(context.Context, *Record) {}, 4, 4096)
	r := record(Commit, "198.18.0.1")
	r.SetHostname([]byte("host"))
	r.SetClientID([]byte{1, 2, 0, 0, 0, 0, 1})
	b.ReportAllocs()
	for i := range b.N {
		r.Addr = netip.AddrFrom4([4]byte{198, 18, byte(i >> 8), byte(i)})
		h.Publish(r)
	}
}

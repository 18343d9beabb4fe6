package ratelimit

import (
	"fmt"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func TestBucket(t *testing.T) {
	type step struct {
		at   time.Duration // since t0
		n    int           // requests at that time
		want int           // how many are allowed
	}
	tests := []struct {
		name  string
		limit Limit
		steps []step
	}{
		{"a burst is allowed at once, then nothing", Limit{Rate: 1, Burst: 5}, []step{{0, 8, 5}}},
		{"a token comes back every 1/rate", Limit{Rate: 2, Burst: 3}, []step{{0, 3, 3}, {400 * time.Millisecond, 1, 0}, {500 * time.Millisecond, 2, 1}, {time.Second, 1, 1}}},
		{"an idle key refills to its burst and no further", Limit{Rate: 10, Burst: 4}, []step{{0, 4, 4}, {time.Hour, 10, 4}}},
		{"a burst below one is one", Limit{Rate: 1, Burst: 0}, []step{{0, 3, 1}, {time.Second, 3, 1}}},
		{"a steady sender at the rate is never refused", Limit{Rate: 5, Burst: 1}, []step{{0, 1, 1}, {200 * time.Millisecond, 1, 1}, {400 * time.Millisecond, 1, 1}, {600 * time.Millisecond, 1, 1}}},
		{"a clock stepped back does not lock a key out", Limit{Rate: 1, Burst: 2}, []step{{time.Hour, 2, 2}, {0, 3, 2}}},
		{"a time a little out of order does not refill a bucket", Limit{Rate: 1000, Burst: 10}, []step{{time.Millisecond, 20, 10}, {0, 5, 0}, {500 * time.Millisecond, 20, 10}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tab := New(tt.limit, 0)
			k := tab.Key([]byte("client"), nil)
			for i, s := range tt.steps {
				got := 0
				for range s.n {
					if tab.Allow(k, t0.Add(s.at)) {
						got++
					}
				}
				if got != s.want {
					t.Errorf("step %d at %v: %d of %d allowed, want %d", i, s.at, got, s.n, s.want)
				}
			}
		})
	}
}

func TestKeysAreIndependent(t *testing.T) {
	tab := New(Limit{Rate: 1, Burst: 1}, 1024)
	a, b := tab.Key([]byte("a"), nil), tab.Key([]byte("b"), nil)
	if !tab.Allow(a, t0) || tab.Allow(a, t0) {
		t.Fatal("key a: want its one token, then none")
	}
	if !tab.Allow(b, t0) {
		t.Error("key b was refused for what key a spent")
	}
}

func TestKeyParts(t *testing.T) {
	tab := New(Limit{Rate: 1, Burst: 1}, 0)
	if tab.Key([]byte("ab"), []byte("c")) == tab.Key([]byte("a"), []byte("bc")) {
		t.Error(`Key("ab", "c") == Key("a", "bc")`)
	}
	if tab.Key([]byte("a"), nil) != tab.Key([]byte("a"), []byte{}) {
		t.Error("an empty second part changes the key")
	}
}

func TestOffAllowsEverything(t *testing.T) {
	for _, l := range []Limit{{}, {Rate: 0, Burst: 10}, {Rate: -1, Burst: 10}} {
		tab := New(l, 100)
		if tab != nil {
			t.Fatalf("New(%+v) = a table, want nil", l)
		}
		for range 100 {
			if !tab.Allow(tab.Key(nil, nil), t0) {
				t.Fatalf("New(%+v): a request was refused", l)
			}
		}
		if tab.Size() != 0 {
			t.Errorf("New(%+v).Size() = %d", l, tab.Size())
		}
	}
}

func TestSizeIsFixed(t *testing.T) {
	for _, tt := range []struct{ ask, want int }{{0, MinSize}, {MinSize, MinSize}, {1000, 1024}, {1 << 16, 1 << 16}} {
		if got := New(Limit{Rate: 1, Burst: 1}, tt.ask).Size(); got != tt.want {
			t.Errorf("New(_, %d).Size() = %d, want %d", tt.ask, got, tt.want)
		}
	}
}

// TestFloodOfNewKeysKeepsAFlooderLimited floods a small table with
// requests from ever new keys, and checks that a key that had spent its
// bucket stays limited: new keys evict each other, not it.
func TestFloodOfNewKeysKeepsAFlooderLimited(t *testing.T) {
	tab := New(Limit{Rate: 1, Burst: 3}, MinSize)
	flooder := tab.Key([]byte("flooder"), nil)
	now := t0
	for range 3 {
		tab.Allow(flooder, now)
	}
	for i := range 100 * tab.Size() {
		now = now.Add(time.Microsecond)
		if !tab.Allow(tab.Key(fmt.Appendf(nil, "random %d", i), nil), now) {
			t.Fatalf("new key %d refused", i)
		}
		if i%97 == 0 && tab.Allow(flooder, now) {
			t.Fatalf("the flooder got a token back after %d new keys (%v)", i, now.Sub(t0))
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	tab := New(Limit{Rate: 1, Burst: 100}, MinSize)
	k := tab.Key([]byte("shared"), nil)
	done := make(chan int)
	for g := range 4 {
		go func() {
			n := 0
			for i := range 1000 {
				if tab.Allow(k, t0) {
					n++
				}
				tab.Allow(tab.Key(fmt.Appendf(nil, "%d-%d", g, i), nil), t0)
			}
			done <- n
		}()
	}
	total := 0
	for range 4 {
		total += <-done
	}
	if total != 100 {
		t.Errorf("%d requests of one key allowed at one instant, want its burst of 100", total)
	}
}

// BenchmarkAllowFlood is the cost of a request from a new key each time,
// the table full: it must allocate nothing.
func BenchmarkAllowFlood(b *testing.B) {
	tab := New(Limit{Rate: 10, Burst: 40}, 1<<16)
	var mac [7]byte
	now := t0
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		mac[3], mac[4], mac[5], mac[6] = byte(i>>24), byte(i>>16), byte(i>>8), byte(i)
		now = now.Add(time.Microsecond)
		tab.Allow(tab.Key(mac[:], nil), now)
	}
}

// BenchmarkAllowOneKey is the cost of the same key again and again.
func BenchmarkAllowOneKey(b *testing.B) {
	tab := New(Limit{Rate: 10, Burst: 40}, 1<<16)
	k := tab.Key([]byte{0, 1, 2, 3}, []byte("circuit"))
	b.ReportAllocs()
	for b.Loop() {
		tab.Allow(k, t0)
	}
}

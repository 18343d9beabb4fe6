package history

import (
	"sync"
	"testing"

	"leased/server"
)

// noteN notes n decisions of clients 0..n-1 with XIDs from first.
func noteN(b *Book, first, n int) {
	out := server.Outcome{Reason: server.ReasonOffer}
	for i := range n {
		req := discover(first+i, nil)
		b.Note(t0, req, &eth0, &out)
	}
}

func TestFeedSince(t *testing.T) {
	tests := []struct {
		name      string
		noted     int
		after     uint64
		stopAfter int // fn returns false after this many; 0: never
		wantFirst uint64
		wantCount int
		wantLast  uint64
		wantLost  uint64
	}{
		{"nothing noted", 0, 0, 0, 0, 0, 0, 0},
		{"all from the start", 10, 0, 0, 1, 10, 10, 0},
		{"only what came after", 10, 7, 0, 8, 3, 10, 0},
		{"nothing new", 10, 10, 0, 0, 0, 10, 0},
		{"a reader that stops keeps its place", 10, 0, 4, 1, 4, 4, 0},
		{"more than a chunk", 100, 0, 0, 1, 100, 100, 0},
		{"a reader left behind loses the overwritten, counted", FeedLen + 50, 10, 0, 51, FeedLen, FeedLen + 50, 40},
		{"a number from the future starts at the newest", 5, 99, 0, 0, 0, 5, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := New(Options{Clients: 16})
			noteN(b, 0, tt.noted)
			var got []uint64
			last, lost := b.Since(tt.after, func(e *Event) bool {
				if int(e.Record.XID) != int(e.Seq)-1 {
					t.Errorf("event %d holds the decision of XID %d", e.Seq, e.Record.XID)
				}
				got = append(got, e.Seq)
				return tt.stopAfter == 0 || len(got) < tt.stopAfter
			})
			if len(got) != tt.wantCount {
				t.Fatalf("%d events, want %d", len(got), tt.wantCount)
			}
			if len(got) > 0 && got[0] != tt.wantFirst {
				t.Errorf("first event %d, want %d", got[0], tt.wantFirst)
			}
			for i := 1; i < len(got); i++ {
				if got[i] != got[i-1]+1 {
					t.Fatalf("events out of order: %d after %d", got[i], got[i-1])
				}
			}
			if last != tt.wantLast || lost != tt.wantLost {
				t.Errorf("Since = %d, %d lost; want %d, %d lost", last, lost, tt.wantLast, tt.wantLost)
			}
		})
	}
}

func TestFeedKeepsClientAndForeign(t *testing.T) {
	b := New(Options{Clients: 16})
	b.NoteForeign(t0, discover(3, []byte{0xff, 9}), &eth0)
	var e Event
	b.Since(0, func(ev *Event) bool { e = *ev; return true })
	if string(e.Client.Bytes()) != "\xff\x09" || !e.Record.Foreign || b.Seq() != 1 {
		t.Errorf("feed holds client %x foreign %v, seq %d; want ff09, true, 1", e.Client.Bytes(), e.Record.Foreign, b.Seq())
	}
}

func TestFeedConcurrentReadersSeeEveryEventInOrder(t *testing.T) {
	b := New(Options{Clients: 64})
	const writers, each = 4, 200
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			noteN(b, w*each, each)
		}()
	}
	seen, lost := uint64(0), uint64(0)
	for seen+lost < writers*each {
		var l uint64
		prev := seen
		seen, l = b.Since(seen, func(e *Event) bool {
			if e.Seq != prev+1 {
				t.Errorf("event %d after %d", e.Seq, prev)
			}
			prev = e.Seq
			return true
		})
		lost += l
	}
	wg.Wait()
	if seen != writers*each || lost != 0 {
		t.Errorf("saw up to %d, lost %d; want %d, 0", seen, lost, writers*each)
	}
}

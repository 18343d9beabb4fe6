package history

import "sync"

// FeedLen is the number of decisions the global feed keeps.
const FeedLen = 1024

// Event is one decision of the global feed: the record, the identity of
// the client it concerns and its sequence number.
type Event struct {
	// Seq numbers the decisions of a Book from 1, in the order noted.
	Seq uint64
	// Client is the client's identity (see Key).
	Client Key
	// Record is the decision.
	Record Record
}

// feed is a fixed ring of the last FeedLen decisions of every client, for
// those who follow the server live (the dashboard). Writing it copies a
// record into the ring under its own lock: it allocates nothing and never
// waits for a reader, which copies out what it needs.
type feed struct {
	mu   sync.Mutex
	last uint64 // the Seq of the newest event; 0 when none
	ring [FeedLen]Event
}

// put appends the decision r about client k.
func (f *feed) put(k *Key, r *Record) {
	f.mu.Lock()
	f.last++
	e := &f.ring[f.last%FeedLen]
	e.Seq, e.Client, e.Record = f.last, *k, *r
	f.mu.Unlock()
}

// Seq returns the sequence number of the newest decision noted, 0 when
// none: Since(b.Seq(), fn) then shows only what comes next.
func (b *Book) Seq() uint64 {
	b.feed.mu.Lock()
	defer b.feed.mu.Unlock()
	return b.feed.last
}

// sinceChunk is how many events Since copies out per turn of its lock.
const sinceChunk = 32

// Since calls fn with each decision noted after the one numbered after,
// oldest first, until fn returns false. It returns the sequence number of
// the last decision passed to fn (after, when none), and how many
// decisions after after the feed no longer held: those a reader that
// falls behind by more than FeedLen loses. fn is called without any lock
// held, with an event it may keep only until it returns.
func (b *Book) Since(after uint64, fn func(e *Event) bool) (last, lost uint64) {
	var buf [sinceChunk]Event
	f := &b.feed
	last = after
	for {
		f.mu.Lock()
		if f.last > FeedLen && last < f.last-FeedLen {
			lost += f.last - FeedLen - last
			last = f.last - FeedLen
		}
		if last > f.last { // a number from before a restart
			last = f.last
		}
		n := int(min(f.last-last, sinceChunk))
		for i := range n {
			buf[i] = f.ring[(last+1+uint64(i))%FeedLen]
		}
		f.mu.Unlock()
		if n == 0 {
			return last, lost
		}
		for i := range n {
			if !fn(&buf[i]) {
				return buf[i].Seq, lost
			}
		}
		last = buf[n-1].Seq
	}
}

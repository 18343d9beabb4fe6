package ratelimit

import (
	"hash/maphash"
	"math"
	"sync"
	"time"
)

// Limit is a token bucket: Burst requests at once, then Rate requests a
// second. A Rate of zero or less means no limit.
type Limit struct {
	Rate  float64 // tokens added per second
	Burst int     // tokens a bucket holds; at least 1 when Rate is set
}

// Off reports whether l limits nothing.
func (l Limit) Off() bool { return !(l.Rate > 0) }

// stepBack is how far a clock must step back for a bucket to start
// full again rather than stay empty until the clock catches up.
const stepBack = int64(time.Second)

// ways is the number of slots a key may use (the associativity).
const ways = 4

// MinSize is the smallest number of slots a Table has.
const MinSize = 64

// slot holds the bucket of one key: its hash, and the theoretical arrival
// time of its next request (Unix ns). A zero key is an empty slot.
type slot struct {
	key uint64
	tat int64
}

// Key is a hashed key of a Table.
type Key uint64

// Table is a fixed-size table of token buckets, one per key. It is safe
// for concurrent use and allocates nothing after New.
type Table struct {
	interval  int64 // ns per token
	tolerance int64 // how far ahead of now a bucket's tat may be: (Burst-1) intervals
	seed      maphash.Seed
	sets      uint64 // a power of two
	slots     []slot
	locks     []paddedMutex // striped by set
}

type paddedMutex struct {
	sync.Mutex
	_ [56]byte // one cache line each
}

// New returns a table of buckets of limit l that keeps at most size keys
// (rounded up to a power of two, at least MinSize). It returns nil when l
// is Off: a nil *Table allows everything.
func New(l Limit, size int) *Table {
	if l.Off() {
		return nil
	}
	size = max(size, MinSize)
	sets := uint64(1)
	for sets*ways < uint64(size) {
		sets <<= 1
	}
	interval := float64(time.Second) / l.Rate
	interval = min(max(interval, 1), math.MaxInt64/4)
	burst := max(l.Burst, 1)
	tol := (float64(burst) - 1) * interval
	tol = min(tol, math.MaxInt64/4)
	return &Table{
		interval:  int64(interval),
		tolerance: int64(tol),
		seed:      maphash.MakeSeed(),
		sets:      sets,
		slots:     make([]slot, sets*ways),
		locks:     make([]paddedMutex, min(sets, 64)),
	}
}

// Size returns the number of keys the table holds at most.
func (t *Table) Size() int {
	if t == nil {
		return 0
	}
	return len(t.slots)
}

// Key hashes the key made of a followed by b (either may be empty). A
// nil Table hashes nothing and returns 0.
func (t *Table) Key(a, b []byte) Key {
	if t == nil {
		return 0
	}
	var h maphash.Hash
	h.SetSeed(t.seed)
	h.Write(a)
	if len(b) > 0 {
		h.WriteByte(0xff) // "ab"+"c" and "a"+"bc" differ
		h.Write(b)
	}
	k := h.Sum64()
	if k == 0 {
		k = 1 // zero marks an empty slot
	}
	return Key(k)
}

// Allow takes a token from the bucket of k at now and reports whether
// there was one. A nil Table allows everything.
func (t *Table) Allow(k Key, now time.Time) bool {
	if t == nil {
		return true
	}
	return t.allow(uint64(k), now.UnixNano())
}

func (t *Table) allow(k uint64, now int64) bool {
	set := k & (t.sets - 1)
	mu := &t.locks[set%uint64(len(t.locks))]
	mu.Lock()
	defer mu.Unlock()
	slots := t.slots[set*ways : set*ways+ways]
	s := &slots[0]
	found := false
	for i := range slots {
		if slots[i].key == k {
			s, found = &slots[i], true
			break
		}
		// The fullest bucket (the earliest tat; an empty slot's is 0)
		// is the one to give a new key.
		if slots[i].tat < s.tat {
			s = &slots[i]
		}
	}
	if !found || s.tat-now > t.tolerance+t.interval+stepBack {
		// A new key starts with a full bucket; so does a key whose
		// bucket is further ahead than a bucket can be, which only a
		// clock stepped back leaves. (Concurrent callers may pass
		// times a little out of order: stepBack keeps that from
		// refilling a bucket.)
		s.key, s.tat = k, now
	}
	tat := max(s.tat, now)
	if tat-now > t.tolerance {
		return false
	}
	s.tat = tat + t.interval
	return true
}

package alloc

import "math/bits"

// quarantineLimit returns how many addresses a pool of size addresses
// keeps in quarantine at most: size/2048, but at least 32, and never more
// than size. For a /8 that is 8192 addresses in 192 KiB, about 0.09 bits
// per address on top of the bitmap.
func quarantineLimit(size int) int {
	return min(size, max(32, size/2048))
}

// emptyKey marks an unused slot of the quarantine's hash table. Address
// indexes are below MaxAddresses, so it is never a key.
const emptyKey = ^uint32(0)

// quarantine is a bounded set of address indexes that remembers the order
// in which they were added, so that the oldest can be evicted when the set
// is full.
//
// Membership is an open-addressing hash table with linear probing (keys),
// kept at most half full. Order is a ring buffer of indexes (ring) twice
// as long as the limit. Removing a member leaves its ring entry in place,
// dead; an entry is live when the table maps its index to the entry's ring
// slot (slots). When the ring fills up, it holds at least limit dead
// entries, and compacting it in one pass costs O(1) amortised over the
// removals that killed them.
//
// Every operation is O(1) amortised and allocates nothing.
type quarantine struct {
	keys  []uint32 // hash table: address index, or emptyKey
	slots []uint32 // ring slot of keys[j]'s entry
	ring  []uint32 // address indexes in the order they were added
	head  int      // ring slot of the oldest entry
	n     int      // entries in the ring, live and dead
	live  int      // members
	limit int      // most members at once
	shift uint     // 32 - log2(len(keys))
}

// newQuarantine returns an empty quarantine of at most limit members.
func newQuarantine(limit int) quarantine {
	if limit <= 0 {
		return quarantine{}
	}
	size := 2
	for size < 2*limit {
		size <<= 1
	}
	q := quarantine{
		keys:  make([]uint32, size),
		slots: make([]uint32, size),
		ring:  make([]uint32, 2*limit),
		limit: limit,
		shift: uint(32 - bits.TrailingZeros(uint(size))),
	}
	q.clear()
	return q
}

// clear removes every member.
func (q *quarantine) clear() {
	for j := range q.keys {
		q.keys[j] = emptyKey
	}
	q.head, q.n, q.live = 0, 0, 0
}

// home returns the table slot where the probe for x starts (Fibonacci
// hashing: consecutive indexes spread over the whole table).
func (q *quarantine) home(x uint32) int {
	return int((x * 0x9E3779B1) >> q.shift)
}

// find returns the table slot holding x, or -1.
func (q *quarantine) find(x uint32) int {
	if q.live == 0 {
		return -1
	}
	mask := len(q.keys) - 1
	for j := q.home(x); ; j = (j + 1) & mask {
		switch q.keys[j] {
		case x:
			return j
		case emptyKey:
			return -1
		}
	}
}

// add makes x the newest member, evicting the oldest member first if the
// quarantine is full. x must not be a member already.
func (q *quarantine) add(x uint32) {
	if q.limit == 0 {
		return
	}
	if q.live == q.limit {
		q.evictOldest()
	}
	if q.n == len(q.ring) {
		q.compact()
	}
	s := (q.head + q.n) % len(q.ring)
	q.ring[s] = x
	q.n++
	mask := len(q.keys) - 1
	j := q.home(x)
	for q.keys[j] != emptyKey {
		j = (j + 1) & mask
	}
	q.keys[j], q.slots[j] = x, uint32(s)
	q.live++
}

// remove removes x and reports whether it was a member.
func (q *quarantine) remove(x uint32) bool {
	j := q.find(x)
	if j < 0 {
		return false
	}
	q.delete(j)
	return true
}

// delete removes the member in table slot j. Its ring entry becomes dead.
func (q *quarantine) delete(j int) {
	q.live--
	if q.live == 0 {
		// Every ring entry is dead: drop them all at once.
		q.head, q.n = 0, 0
	}
	// Backward-shift deletion: move later entries of the same probe run
	// into the hole when their home slot is not after it, so that find
	// never meets an empty slot before the key it looks for.
	mask := len(q.keys) - 1
	q.keys[j] = emptyKey
	for i := (j + 1) & mask; q.keys[i] != emptyKey; i = (i + 1) & mask {
		h := q.home(q.keys[i])
		if (i-h)&mask >= (i-j)&mask {
			q.keys[j], q.slots[j] = q.keys[i], q.slots[i]
			q.keys[i] = emptyKey
			j = i
		}
	}
}

// evictOldest removes the oldest member, if any, dropping the dead ring
// entries in front of it.
func (q *quarantine) evictOldest() {
	for q.n > 0 {
		s := q.head
		j := q.find(q.ring[s])
		q.head = (q.head + 1) % len(q.ring)
		q.n--
		if j >= 0 && int(q.slots[j]) == s {
			q.delete(j)
			return
		}
	}
}

// compact drops the dead entries from the ring, keeping the order of the
// live ones.
func (q *quarantine) compact() {
	kept := 0
	for k := range q.n {
		s := (q.head + k) % len(q.ring)
		x := q.ring[s]
		j := q.find(x)
		if j < 0 || int(q.slots[j]) != s {
			continue // dead
		}
		// Slot t has already been read: the write never overtakes the read.
		t := (q.head + kept) % len(q.ring)
		q.ring[t] = x
		q.slots[j] = uint32(t)
		kept++
	}
	q.n = kept
}

// bytes returns the memory the quarantine uses, in bytes.
func (q *quarantine) bytes() int {
	return 4 * (len(q.keys) + len(q.slots) + len(q.ring))
}

package alloc

import (
	"fmt"
	"net/netip"
	"slices"
)

// Pool is the set of free addresses in the ranges of one subnet. See the
// package documentation for the order in which Next hands them out.
//
// A Pool is not safe for concurrent use. The zero Pool has no ranges: it
// contains no address and Next always reports false. Use NewPool.
type Pool struct {
	spans  []span     // the ranges in ascending order
	size   int        // addresses in all ranges
	used   int        // addresses taken
	cursor int        // index where Next starts looking, 0..size
	free   bitset     // indexes of the free addresses
	q      quarantine // free indexes at or after cursor, freed in this lap
}

// span is one range of a Pool. The pool numbers its addresses 0..size-1 in
// ascending order; offset is the number of the range's first address.
type span struct {
	first, last, offset uint32
}

// NewPool returns a pool of the given ranges, all of whose addresses are
// free, with the cursor at the lowest address.
//
// Every range must be valid (see Range), no two ranges may share an
// address, and together they may hold at most MaxAddresses addresses. The
// ranges may come in any order and may be adjacent. Otherwise NewPool
// returns a *RangeError that names the first offending range and wraps
// ErrNotIPv4, ErrReversed, ErrOverlap or ErrTooLarge. No ranges at all
// make an empty pool.
//
// NewPool does not retain ranges.
func NewPool(ranges ...Range) (*Pool, error) {
	return newPool(ranges, quarantineLimit)
}

// newPool is NewPool with the quarantine size given by limit(size), so
// that tests can make the quarantine small enough to overflow.
func newPool(ranges []Range, limit func(size int) int) (*Pool, error) {
	for i, r := range ranges {
		if err := r.check(); err != nil {
			return nil, &RangeError{Index: i, Range: r, Err: err}
		}
	}

	// Sorted by first address, ranges are disjoint if and only if each ends
	// before the next begins.
	order := make([]int, len(ranges))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return ranges[a].First.Compare(ranges[b].First)
	})
	for k := 1; k < len(order); k++ {
		lo, hi := order[k-1], order[k]
		if u32(ranges[hi].First) > u32(ranges[lo].Last) {
			continue
		}
		shared := Range{First: ranges[hi].First, Last: ranges[lo].Last}
		if ranges[hi].Last.Compare(shared.Last) < 0 {
			shared.Last = ranges[hi].Last
		}
		// Blame the range that comes later in the arguments.
		bad, other := max(lo, hi), min(lo, hi)
		return nil, &RangeError{Index: bad, Range: ranges[bad],
			Err: fmt.Errorf("%w: %s is also in ranges[%d] %s", ErrOverlap, shared, other, ranges[other])}
	}

	var total uint64
	for i, r := range ranges {
		total += r.Size()
		if total > MaxAddresses {
			held := "it holds"
			if i > 0 {
				held = fmt.Sprintf("ranges[0] to ranges[%d] hold", i)
			}
			return nil, &RangeError{Index: i, Range: r,
				Err: fmt.Errorf("%w: %s %d addresses, more than the %d (a /8) of one pool",
					ErrTooLarge, held, total, MaxAddresses)}
		}
	}

	p := &Pool{spans: make([]span, len(ranges)), size: int(total)}
	var offset uint32
	for k, i := range order {
		r := ranges[i]
		p.spans[k] = span{first: u32(r.First), last: u32(r.Last), offset: offset}
		offset += uint32(r.Size())
	}
	p.free = newBitset(p.size)
	p.q = newQuarantine(limit(p.size))
	return p, nil
}

// index returns the number of a in p, and false if a is not in any range.
func (p *Pool) index(a netip.Addr) (int, bool) {
	if !a.Is4() {
		return 0, false
	}
	u := u32(a)
	// Find the last span whose first address is <= u.
	lo, hi := 0, len(p.spans)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if p.spans[m].first <= u {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo == 0 || u > p.spans[lo-1].last {
		return 0, false
	}
	s := &p.spans[lo-1]
	return int(s.offset + (u - s.first)), true
}

// addr returns the address numbered i. 0 <= i < p.size.
func (p *Pool) addr(i int) netip.Addr {
	// Find the last span whose offset is <= i.
	lo, hi := 0, len(p.spans)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if int(p.spans[m].offset) <= i {
			lo = m + 1
		} else {
			hi = m
		}
	}
	s := &p.spans[lo-1]
	return addrFrom32(s.first + (uint32(i) - s.offset))
}

// At returns the pool's address numbered i, counting from 0 at the first
// address of the first range, and false when i is not below Size.
func (p *Pool) At(i int) (netip.Addr, bool) {
	if i < 0 || i >= p.size {
		return netip.Addr{}, false
	}
	return p.addr(i), true
}

// Ranges returns the pool's ranges in ascending order of address.
func (p *Pool) Ranges() []Range {
	rs := make([]Range, len(p.spans))
	for k, s := range p.spans {
		rs[k] = Range{First: addrFrom32(s.first), Last: addrFrom32(s.last)}
	}
	return rs
}

// Size returns the number of addresses in the pool's ranges, free or
// taken.
func (p *Pool) Size() int { return p.size }

// Used returns the number of taken addresses.
func (p *Pool) Used() int { return p.used }

// Available returns the number of free addresses: Size() - Used().
func (p *Pool) Available() int { return p.size - p.used }

// Contains reports whether a is in one of the pool's ranges, free or taken.
// IPv6 and IPv4-mapped IPv6 addresses are never in the pool.
func (p *Pool) Contains(a netip.Addr) bool {
	_, ok := p.index(a)
	return ok
}

// IsFree reports whether a is in one of the pool's ranges and not taken.
func (p *Pool) IsFree(a netip.Addr) bool {
	i, ok := p.index(a)
	return ok && p.free.has(i)
}

// Take marks a as taken. It reports false, and changes nothing, if a is
// not in the pool's ranges or is already taken. Take does not move the
// cursor; it ends a's quarantine if a was in it.
func (p *Pool) Take(a netip.Addr) bool {
	i, ok := p.index(a)
	if !ok || !p.free.has(i) {
		return false
	}
	p.free.remove(i)
	p.used++
	if p.q.live > 0 {
		p.q.remove(uint32(i))
	}
	return true
}

// Free marks a as free. It reports false, and changes nothing, if a is not
// in the pool's ranges or is already free. If a is at or after the cursor,
// it goes into quarantine so that Next does not return it again in this
// lap (see the package documentation).
func (p *Pool) Free(a netip.Addr) bool {
	i, ok := p.index(a)
	if !ok || p.free.has(i) {
		return false
	}
	p.free.add(i)
	p.used--
	if i >= p.cursor {
		p.q.add(uint32(i))
	}
	return true
}

// Next takes the first free address at or after the cursor that was not
// freed ahead of the cursor during this lap, moves the cursor just past it
// and returns it. Quarantined addresses it passes on the way leave the
// quarantine. When it reaches the end of the last range, it wraps to the
// first address and begins a new lap. It reports false, and changes
// nothing, when no address is free.
func (p *Pool) Next() (netip.Addr, bool) {
	if p.used >= p.size {
		return netip.Addr{}, false
	}
	// Each turn either returns, skips (and so removes) a quarantined
	// address, or wraps; after one wrap the quarantine is empty, since
	// every member was at or after the cursor, so a second wrap cannot
	// happen while an address is free.
	for wraps := 0; wraps < 2; {
		i := p.free.next(p.cursor)
		if i < 0 {
			p.cursor = 0
			wraps++
			continue
		}
		p.cursor = i + 1
		if p.q.live > 0 && p.q.remove(uint32(i)) {
			continue
		}
		p.free.remove(i)
		p.used++
		return p.addr(i), true
	}
	return netip.Addr{}, false
}

// Cursor returns the address at which Next starts looking: the address
// after the one it returned last, the first address of the pool after a
// wrap, or where Seek put it. It returns the zero Addr for an empty pool.
func (p *Pool) Cursor() netip.Addr {
	if p.size == 0 {
		return netip.Addr{}
	}
	if p.cursor >= p.size {
		return p.addr(0)
	}
	return p.addr(p.cursor)
}

// Seek moves the cursor to a, so that Next looks at a first, and empties
// the quarantine: it begins a new lap at a in which every free address may
// be returned. It reports false, and changes nothing, if a is not in the
// pool's ranges.
func (p *Pool) Seek(a netip.Addr) bool {
	i, ok := p.index(a)
	if !ok {
		return false
	}
	p.cursor = i
	p.q.clear()
	return true
}

// bytes returns the memory the pool uses, in bytes, not counting the Pool
// struct itself.
func (p *Pool) bytes() int {
	const spanBytes, sliceBytes = 12, 24
	return 8*p.free.words() + sliceBytes*len(p.free.levels) + p.q.bytes() + spanBytes*len(p.spans)
}

package alloc

import "math/bits"

// bitset is a set of integers in [0, n) that finds the next member at or
// after a position in a few word operations, however sparse the set is.
//
// levels[0] holds one bit per integer. Each level above holds one bit per
// word of the level below, set when that word is not zero; the top level
// is a single word. For n = 1<<24 the levels have 262144, 4096, 64 and 1
// words. All levels share one backing array.
type bitset struct {
	levels [][]uint64
	n      int
}

// newBitset returns a bitset over [0, n) with every integer a member.
func newBitset(n int) bitset {
	if n < 0 {
		n = 0
	}
	// Count the words of each level first so that one allocation holds them
	// all.
	var sizes []int
	total := 0
	for w := n; ; {
		w = max(1, (w+63)/64)
		sizes = append(sizes, w)
		total += w
		if w == 1 {
			break
		}
	}
	backing := make([]uint64, total)
	b := bitset{levels: make([][]uint64, len(sizes)), n: n}
	for k, size := range sizes {
		b.levels[k], backing = backing[:size:size], backing[size:]
	}
	// Fill each level: the members of level k+1 are the non-zero words of
	// level k, and the members of level 0 are 0..n-1.
	count := n
	for _, words := range b.levels {
		for i := range words {
			switch rest := count - 64*i; {
			case rest >= 64:
				words[i] = ^uint64(0)
			case rest > 0:
				words[i] = 1<<rest - 1
			}
		}
		count = (count + 63) / 64
	}
	return b
}

// has reports whether i is a member. 0 <= i < b.n.
func (b *bitset) has(i int) bool {
	return b.levels[0][i>>6]&(1<<(i&63)) != 0
}

// add makes i a member. 0 <= i < b.n.
func (b *bitset) add(i int) {
	for _, words := range b.levels {
		w := i >> 6
		old := words[w]
		words[w] = old | 1<<(i&63)
		if old != 0 {
			return // the levels above already record word w
		}
		i = w
	}
}

// remove makes i a non-member. 0 <= i < b.n.
func (b *bitset) remove(i int) {
	for _, words := range b.levels {
		w := i >> 6
		nw := words[w] &^ (1 << (i & 63))
		words[w] = nw
		if nw != 0 {
			return // word w still has members: the levels above are right
		}
		i = w
	}
}

// next returns the smallest member at or after i, or -1 if there is none.
// Any i is accepted.
func (b *bitset) next(i int) int {
	if i < 0 {
		i = 0
	}
	if i >= b.n {
		return -1
	}
	// Climb until a level has a member at or after the position; at level
	// k+1 the position is the index of the first level-k word not yet seen.
	k, pos := 0, i
	for {
		if k == len(b.levels) {
			return -1
		}
		words := b.levels[k]
		w := pos >> 6
		if w >= len(words) {
			return -1
		}
		if m := words[w] & (^uint64(0) << (pos & 63)); m != 0 {
			pos = w<<6 | bits.TrailingZeros64(m)
			break
		}
		k, pos = k+1, w+1
	}
	// Descend: at each level below, the word the found bit stands for is
	// not zero, and its lowest member is the answer at that level.
	for k > 0 {
		k--
		pos = pos<<6 | bits.TrailingZeros64(b.levels[k][pos])
	}
	return pos
}

// words returns the number of 64-bit words the bitset uses.
func (b *bitset) words() int {
	total := 0
	for _, words := range b.levels {
		total += len(words)
	}
	return total
}

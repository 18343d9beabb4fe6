package alloc

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestBitsetNext compares bitset.next with a plain slice of booleans over
// random additions and removals, for sizes at and around the word and
// level boundaries.
func TestBitsetNext(t *testing.T) {
	for _, n := range []int{0, 1, 63, 64, 65, 4095, 4096, 4097, 64*64*64 + 1} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			b := newBitset(n)
			ref := make([]bool, n)
			for i := range ref {
				ref[i] = true
			}
			naive := func(i int) int {
				for j := max(i, 0); j < n; j++ {
					if ref[j] {
						return j
					}
				}
				return -1
			}
			check := func(i int) {
				t.Helper()
				if got, want := b.next(i), naive(i); got != want {
					t.Fatalf("next(%d) = %d; want %d", i, got, want)
				}
			}
			for _, i := range []int{-1, 0, n - 1, n, n + 64} {
				check(i)
			}
			if n == 0 {
				return
			}
			r := rand.New(rand.NewPCG(uint64(n), 1))
			// Empty the set almost entirely, then refill it, checking next
			// at random positions and right after each change.
			for phase := range 2 {
				for range min(3*n, 20000) {
					i := r.IntN(n)
					if phase == 0 {
						b.remove(i)
						ref[i] = false
					} else {
						b.add(i)
						ref[i] = true
					}
					if b.has(i) != ref[i] {
						t.Fatalf("has(%d) = %v; want %v", i, b.has(i), ref[i])
					}
					check(i)
					check(r.IntN(n + 1))
				}
				if phase == 0 {
					// Leave a single member, far from the start.
					for i := range ref {
						b.remove(i)
						ref[i] = false
					}
					b.add(n - 1)
					ref[n-1] = true
					check(0)
				}
			}
		})
	}
}

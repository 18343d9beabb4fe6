package alloc

import (
	"math/rand/v2"
	"net/netip"
	"testing"
)

const slash8 = "10.0.0.0-10.255.255.255"

// reportBitsPerAddr reports the pool's memory per address as a metric.
func reportBitsPerAddr(b *testing.B, p *Pool) {
	b.ReportMetric(float64(8*p.bytes())/float64(p.Size()), "bits/addr")
}

// BenchmarkNewPoolSlash8 measures building a /8 pool; with -benchmem its
// B/op is the pool's memory.
func BenchmarkNewPoolSlash8(b *testing.B) {
	b.ReportAllocs()
	r := mustRange(b, slash8)
	var p *Pool
	for b.Loop() {
		var err error
		if p, err = NewPool(r); err != nil {
			b.Fatal(err)
		}
	}
	reportBitsPerAddr(b, p)
}

// BenchmarkNextEmptySlash8 measures Next on a /8 with every address free.
// When the pool runs out (after 1<<24 calls) it is replaced, off the clock.
func BenchmarkNextEmptySlash8(b *testing.B) {
	b.ReportAllocs()
	p := mustPool(b, slash8)
	for b.Loop() {
		if _, ok := p.Next(); !ok {
			b.StopTimer()
			p = mustPool(b, slash8)
			b.StartTimer()
		}
	}
	reportBitsPerAddr(b, p)
}

// fillPool marks every address of p taken, directly, which is much faster
// than 1<<24 calls to Next.
func fillPool(p *Pool) {
	for _, words := range p.free.levels {
		clear(words)
	}
	p.used = p.size
	p.q.clear()
}

// BenchmarkNextNearlyFullSlash8 measures Next on a /8 with 99.9% of the
// addresses taken: each iteration frees a random taken address, then
// takes one with Next, so the pool stays 99.9% full. The addresses freed
// ahead of the cursor overflow the quarantine, as they would in a busy
// pool.
func BenchmarkNextNearlyFullSlash8(b *testing.B) {
	b.ReportAllocs()
	p := mustPool(b, slash8)
	fillPool(p)
	base := u32(p.Ranges()[0].First)
	r := rand.New(rand.NewPCG(5, 6))
	for p.Available() < p.Size()/1000 {
		p.Free(addrFrom32(base + r.Uint32N(MaxAddresses)))
	}
	p.Seek(addrFrom32(base + r.Uint32N(MaxAddresses)))
	for b.Loop() {
		for !p.Free(addrFrom32(base + r.Uint32N(MaxAddresses))) {
		}
		if _, ok := p.Next(); !ok {
			b.Fatal("Next failed on a pool with free addresses")
		}
	}
	reportBitsPerAddr(b, p)
}

// BenchmarkNextFullSweepSlash8 measures the worst case for the summary
// levels: a /8 with one free address, freed right behind the cursor, so
// that every Next searches the whole pool round to it.
func BenchmarkNextFullSweepSlash8(b *testing.B) {
	b.ReportAllocs()
	p := mustPool(b, slash8)
	fillPool(p)
	a := p.Ranges()[0].First.Next()
	p.Seek(a.Next())
	for b.Loop() {
		p.Free(a)
		if got, ok := p.Next(); !ok || got != a {
			b.Fatalf("Next = %v, %v; want %v", got, ok, a)
		}
	}
}

// BenchmarkTakeFree measures a Take and a Free of the same address, at
// random places in a /8.
func BenchmarkTakeFree(b *testing.B) {
	b.ReportAllocs()
	p := mustPool(b, slash8)
	base := u32(p.Ranges()[0].First)
	r := rand.New(rand.NewPCG(7, 8))
	addrs := make([]netip.Addr, 4096)
	for i := range addrs {
		addrs[i] = addrFrom32(base + r.Uint32N(MaxAddresses))
	}
	i := 0
	for b.Loop() {
		a := addrs[i%len(addrs)]
		i++
		if !p.Take(a) || !p.Free(a) {
			b.Fatalf("Take or Free of %v failed", a)
		}
	}
}

// BenchmarkIsFreeMultiRange measures IsFree in a pool of 64 ranges, where
// finding the range is a binary search.
func BenchmarkIsFreeMultiRange(b *testing.B) {
	b.ReportAllocs()
	var ranges []Range
	for k := range 64 {
		first := netip.AddrFrom4([4]byte{198, 18, byte(k), 10})
		ranges = append(ranges, Range{First: first, Last: netip.AddrFrom4([4]byte{198, 18, byte(k), 250})})
	}
	p, err := NewPool(ranges...)
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(9, 10))
	addrs := make([]netip.Addr, 4096)
	for i := range addrs {
		addrs[i] = netip.AddrFrom4([4]byte{198, 18, byte(r.IntN(64)), byte(r.IntN(256))})
	}
	i, n := 0, 0
	for b.Loop() {
		if p.IsFree(addrs[i%len(addrs)]) {
			n++
		}
		i++
	}
	if n == 0 {
		b.Fatal("no address was free")
	}
}

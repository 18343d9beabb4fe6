package alloc

import (
	"math/rand/v2"
	"net/netip"
	"runtime"
	"slices"
	"testing"
)

func mustPool(t testing.TB, ranges ...string) *Pool {
	t.Helper()
	rs := make([]Range, len(ranges))
	for i, s := range ranges {
		rs[i] = mustRange(t, s)
	}
	p, err := NewPool(rs...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// drain calls Next until it reports false and returns what it returned.
func drain(p *Pool) []netip.Addr {
	var out []netip.Addr
	for {
		a, ok := p.Next()
		if !ok {
			return out
		}
		out = append(out, a)
	}
}

func TestTakeFree(t *testing.T) {
	p := mustPool(t, "198.18.0.10-198.18.0.19", "198.18.1.0-198.18.1.3")
	a := mustAddr(t, "198.18.0.12")
	steps := []struct {
		name string
		do   func() bool
		want bool
		used int
	}{
		{"take a free address", func() bool { return p.Take(a) }, true, 1},
		{"take it again fails", func() bool { return p.Take(a) }, false, 1},
		{"taken address is not free", func() bool { return p.IsFree(a) }, false, 1},
		{"taken address is still contained", func() bool { return p.Contains(a) }, true, 1},
		{"free it", func() bool { return p.Free(a) }, true, 0},
		{"free it again fails", func() bool { return p.Free(a) }, false, 0},
		{"freed address is free", func() bool { return p.IsFree(a) }, true, 0},
		{"take in the second range", func() bool { return p.Take(mustAddr(t, "198.18.1.3")) }, true, 1},
		{"take below the ranges fails", func() bool { return p.Take(mustAddr(t, "198.18.0.9")) }, false, 1},
		{"take between the ranges fails", func() bool { return p.Take(mustAddr(t, "198.18.0.20")) }, false, 1},
		{"take above the ranges fails", func() bool { return p.Take(mustAddr(t, "198.18.1.4")) }, false, 1},
		{"free outside the ranges fails", func() bool { return p.Free(mustAddr(t, "198.18.0.255")) }, false, 1},
		{"IPv4-mapped IPv6 is outside", func() bool { return p.Take(mustAddr(t, "::ffff:198.18.0.13")) }, false, 1},
		{"IPv6 is outside", func() bool { return p.Contains(mustAddr(t, "2001:db8::1")) }, false, 1},
		{"zero Addr is outside", func() bool { return p.Free(netip.Addr{}) || p.IsFree(netip.Addr{}) }, false, 1},
		{"address outside is not free", func() bool { return p.IsFree(mustAddr(t, "198.18.0.9")) }, false, 1},
	}
	for _, s := range steps {
		if got := s.do(); got != s.want {
			t.Errorf("%s: got %v; want %v", s.name, got, s.want)
		}
		if p.Used() != s.used || p.Available() != p.Size()-s.used {
			t.Errorf("%s: Used, Available = %d, %d; want %d, %d", s.name, p.Used(), p.Available(), s.used, p.Size()-s.used)
		}
	}
	if p.Size() != 14 {
		t.Errorf("Size() = %d; want 14", p.Size())
	}
}

func TestExhaustion(t *testing.T) {
	p := mustPool(t, "198.18.0.1-198.18.0.5")
	got := drain(p)
	if len(got) != 5 {
		t.Fatalf("Next returned %d addresses from a pool of 5: %v", len(got), got)
	}
	if a, ok := p.Next(); ok {
		t.Fatalf("Next on an exhausted pool = %v, true", a)
	}
	if p.Used() != 5 || p.Available() != 0 {
		t.Fatalf("Used, Available = %d, %d; want 5, 0", p.Used(), p.Available())
	}
	x := mustAddr(t, "198.18.0.3")
	if !p.Free(x) {
		t.Fatal("Free of a taken address failed")
	}
	if a, ok := p.Next(); !ok || a != x {
		t.Fatalf("Next after freeing %v = %v, %v; want it", x, a, ok)
	}
	if a, ok := p.Next(); ok {
		t.Fatalf("Next on an exhausted pool = %v, true", a)
	}
}

// TestPolicy checks the order in which Next hands out addresses: the
// next-fit cursor and the quarantine of addresses freed in the current lap
// (RFC 2131 §2.2: prefer the least recently assigned address).
func TestPolicy(t *testing.T) {
	// The pool is 198.18.0.0-198.18.0.9; steps and results name the last
	// octet. Steps: 'n' Next (result not checked), 't' Take, 'f' Free, 's'
	// Seek.
	type step struct {
		op byte
		x  int
	}
	n := func(count int) []step { return slices.Repeat([]step{{op: 'n'}}, count) }
	cat := func(parts ...[]step) []step { return slices.Concat(parts...) }
	tests := []struct {
		name  string
		limit int // quarantine limit; 0 means the default
		setup []step
		want  []int // what Next returns after the setup, until it fails
	}{
		{name: "fresh pool hands out addresses in ascending order",
			want: []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}},
		{name: "address freed behind the cursor comes after every never-used one",
			setup: cat(n(5), []step{{'f', 2}}),
			want:  []int{5, 6, 7, 8, 9, 2}},
		{name: "address freed ahead of the cursor waits for the next lap",
			setup: cat([]step{{'t', 7}}, n(3), []step{{'f', 7}}),
			want:  []int{3, 4, 5, 6, 8, 9, 7}},
		{name: "address freed at the cursor is skipped once",
			setup: cat(n(3), []step{{'t', 3}, {'f', 3}}),
			want:  []int{4, 5, 6, 7, 8, 9, 3}},
		{name: "address freed in an earlier lap comes before one freed in this lap",
			// Lap 1 hands out everything; 6 and 2 come back; lap 2 starts with
			// 2, then 1 comes back behind the cursor.
			setup: cat(n(10), []step{{'f', 6}, {'f', 2}}, n(1), []step{{'f', 1}}),
			want:  []int{6, 1}},
		{name: "addresses freed in the same lap come in ascending order in the next",
			setup: cat([]step{{'t', 5}, {'t', 6}}, n(2), []step{{'f', 6}, {'f', 5}}),
			want:  []int{2, 3, 4, 7, 8, 9, 5, 6}},
		{name: "take ends the quarantine and a second free renews it",
			setup: cat([]step{{'t', 4}, {'f', 4}, {'t', 4}}, n(2), []step{{'f', 4}}),
			want:  []int{2, 3, 5, 6, 7, 8, 9, 4}},
		{name: "full quarantine evicts the address freed earliest",
			limit: 2,
			setup: []step{{'t', 5}, {'t', 6}, {'t', 7}, {'f', 5}, {'f', 6}, {'f', 7}},
			want:  []int{0, 1, 2, 3, 4, 5, 8, 9, 6, 7}},
		{name: "seek begins a new lap at the address",
			setup: cat(n(3), []step{{'t', 8}, {'f', 8}, {'s', 7}}),
			want:  []int{7, 8, 9, 3, 4, 5, 6}},
		{name: "wrap with nothing left behind the cursor in the lap returns the freed address",
			setup: cat(n(10), []step{{'f', 4}}),
			want:  []int{4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			limit := quarantineLimit
			if tt.limit > 0 {
				limit = func(int) int { return tt.limit }
			}
			p, err := newPool([]Range{mustRange(t, "198.18.0.0-198.18.0.9")}, limit)
			if err != nil {
				t.Fatal(err)
			}
			addr := func(x int) netip.Addr { return netip.AddrFrom4([4]byte{198, 18, 0, byte(x)}) }
			for i, s := range tt.setup {
				var ok bool
				switch s.op {
				case 'n':
					_, ok = p.Next()
				case 't':
					ok = p.Take(addr(s.x))
				case 'f':
					ok = p.Free(addr(s.x))
				case 's':
					ok = p.Seek(addr(s.x))
				}
				if !ok {
					t.Fatalf("setup step %d (%c %d) failed", i, s.op, s.x)
				}
			}
			var got []int
			for _, a := range drain(p) {
				got = append(got, int(a.As4()[3]))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Next returned %v; want %v", got, tt.want)
			}
		})
	}
}

// TestNeverUsedBeforeReused checks the policy as a property over random
// operations: while an address that was never handed out or taken is free,
// Next does not return an address that was used and freed again.
func TestNeverUsedBeforeReused(t *testing.T) {
	for seed := range uint64(20) {
		r := rand.New(rand.NewPCG(seed, 7))
		const size = 300
		// A quarantine as large as the pool never overflows.
		p, err := newPool([]Range{mustRange(t, "198.18.0.0-198.18.1.43")}, func(n int) int { return n })
		if err != nil {
			t.Fatal(err)
		}
		addr := func(i int) netip.Addr { return addrFrom32(u32(netip.MustParseAddr("198.18.0.0")) + uint32(i)) }
		used := make(map[netip.Addr]bool)
		freshFree := size // free addresses never used
		reuses, checked := 0, 0
		for range 3000 {
			switch k := r.IntN(10); {
			case k < 4:
				a, ok := p.Next()
				if !ok {
					continue
				}
				if used[a] {
					reuses++
					if freshFree > 0 {
						t.Fatalf("seed %d: Next reused %v while %d never-used addresses were free", seed, a, freshFree)
					}
				} else {
					checked++
					used[a] = true
					freshFree--
				}
			case k < 6:
				a := addr(r.IntN(size))
				if p.Take(a) && !used[a] {
					used[a] = true
					freshFree--
				}
			default:
				p.Free(addr(r.IntN(size)))
			}
		}
		if reuses == 0 || checked == 0 {
			t.Fatalf("seed %d: %d reuses, %d first uses: the operations did not exercise the policy", seed, reuses, checked)
		}
	}
}

// TestAddressSpaceEdges checks ranges at 0.0.0.0 and 255.255.255.255, where
// a careless computation of sizes or successors overflows.
func TestAddressSpaceEdges(t *testing.T) {
	p := mustPool(t, "255.255.255.252-255.255.255.255", "0.0.0.0-0.0.0.3")
	want := []string{"0.0.0.0", "0.0.0.1", "0.0.0.2", "0.0.0.3",
		"255.255.255.252", "255.255.255.253", "255.255.255.254", "255.255.255.255"}
	if c := p.Cursor(); c != mustAddr(t, "0.0.0.0") {
		t.Errorf("Cursor() of a new pool = %v; want 0.0.0.0", c)
	}
	got := drain(p)
	if len(got) != len(want) {
		t.Fatalf("Next returned %v; want %v", got, want)
	}
	for i := range want {
		if got[i] != mustAddr(t, want[i]) {
			t.Errorf("Next #%d = %v; want %s", i, got[i], want[i])
		}
	}
	for _, s := range []string{"0.0.0.4", "255.255.255.251", "128.0.0.0"} {
		if p.Contains(mustAddr(t, s)) {
			t.Errorf("Contains(%s) = true", s)
		}
	}
	top := mustAddr(t, "255.255.255.255")
	if c := p.Cursor(); c != mustAddr(t, "0.0.0.0") {
		t.Errorf("Cursor() after the last address = %v; want the first, 0.0.0.0", c)
	}
	if !p.Free(top) || !p.IsFree(top) {
		t.Fatal("Free(255.255.255.255) failed")
	}
	if a, ok := p.Next(); !ok || a != top {
		t.Fatalf("Next = %v, %v; want 255.255.255.255", a, ok)
	}
	if !p.Seek(top) || p.Cursor() != top {
		t.Fatalf("Seek(255.255.255.255) then Cursor() = %v", p.Cursor())
	}
	zero := mustAddr(t, "0.0.0.0")
	if !p.Free(zero) {
		t.Fatal("Free(0.0.0.0) failed")
	}
	if a, ok := p.Next(); !ok || a != zero {
		t.Fatalf("Next = %v, %v; want 0.0.0.0 after the wrap", a, ok)
	}

	one := mustPool(t, "255.255.255.255-255.255.255.255")
	if a, ok := one.Next(); !ok || a != top {
		t.Fatalf("Next on a one-address pool = %v, %v", a, ok)
	}
	if _, ok := one.Next(); ok {
		t.Fatal("second Next on a one-address pool succeeded")
	}
}

func TestZeroAndEmptyPool(t *testing.T) {
	empty, err := NewPool()
	if err != nil {
		t.Fatal(err)
	}
	a := mustAddr(t, "198.18.0.1")
	for name, p := range map[string]*Pool{"zero Pool": new(Pool), "NewPool()": empty} {
		if p.Contains(a) || p.IsFree(a) || p.Take(a) || p.Free(a) || p.Seek(a) {
			t.Errorf("%s: an operation on %v succeeded", name, a)
		}
		if got, ok := p.Next(); ok {
			t.Errorf("%s: Next = %v, true", name, got)
		}
		if p.Size() != 0 || p.Used() != 0 || p.Available() != 0 || len(p.Ranges()) != 0 || p.Cursor().IsValid() {
			t.Errorf("%s: Size %d Used %d Available %d Ranges %v Cursor %v; want all empty",
				name, p.Size(), p.Used(), p.Available(), p.Ranges(), p.Cursor())
		}
	}
}

// TestSlash8 hands out every address of a /8 and checks the order, then
// the behaviour of the full pool.
func TestSlash8(t *testing.T) {
	p := mustPool(t, "10.0.0.0-10.255.255.255")
	if p.Size() != MaxAddresses {
		t.Fatalf("Size() = %d; want %d", p.Size(), MaxAddresses)
	}
	base := u32(mustAddr(t, "10.0.0.0"))
	for i := range uint32(MaxAddresses) {
		a, ok := p.Next()
		if !ok || u32(a) != base+i {
			t.Fatalf("Next #%d = %v, %v; want %v", i, a, ok, addrFrom32(base+i))
		}
	}
	if a, ok := p.Next(); ok {
		t.Fatalf("Next on a full /8 = %v, true", a)
	}
	if p.Used() != MaxAddresses || p.Available() != 0 {
		t.Fatalf("Used, Available = %d, %d", p.Used(), p.Available())
	}
	// Free a scattered few; a full lap hands back exactly those, in order.
	r := rand.New(rand.NewPCG(1, 2))
	var freed []netip.Addr
	for range 1000 {
		a := addrFrom32(base + r.Uint32N(MaxAddresses))
		if p.Free(a) {
			freed = append(freed, a)
		}
	}
	slices.SortFunc(freed, netip.Addr.Compare)
	if got := drain(p); !slices.Equal(got, freed) {
		t.Fatalf("after freeing %d addresses, Next returned %d (first %v); want them in ascending order",
			len(freed), len(got), got[:min(len(got), 3)])
	}
	checkInvariants(t, p)
}

// TestMemoryPerAddress measures what NewPool allocates for a /8.
func TestMemoryPerAddress(t *testing.T) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	p := mustPool(t, "10.0.0.0-10.255.255.255")
	runtime.ReadMemStats(&after)
	allocated := after.TotalAlloc - before.TotalAlloc
	bitsPerAddr := float64(8*allocated) / MaxAddresses
	t.Logf("a /8 pool allocates %d bytes: %.3f bits per address (accounted: %d bytes)", allocated, bitsPerAddr, p.bytes())
	if bitsPerAddr > 1.2 {
		t.Errorf("a /8 pool uses %.3f bits per address; want about 1 (at most 1.2)", bitsPerAddr)
	}
	if uint64(p.bytes()) > allocated {
		t.Errorf("pool accounts for %d bytes but NewPool allocated only %d", p.bytes(), allocated)
	}
	runtime.KeepAlive(p)
}

// TestNoAllocations checks that the operations on the hot path allocate
// nothing.
func TestNoAllocations(t *testing.T) {
	p := mustPool(t, "198.18.0.0-198.18.3.255", "198.18.8.0-198.18.8.255")
	r := rand.New(rand.NewPCG(3, 4))
	addrs := make([]netip.Addr, 512)
	for i := range addrs {
		addrs[i] = addrFrom32(u32(mustAddr(t, "198.18.0.0")) + r.Uint32N(9*256))
	}
	k := 0
	ops := map[string]func(){
		"Contains": func() { p.Contains(addrs[k%len(addrs)]); k++ },
		"IsFree":   func() { p.IsFree(addrs[k%len(addrs)]); k++ },
		"Take":     func() { p.Take(addrs[k%len(addrs)]); k++ },
		"Free":     func() { p.Free(addrs[k%len(addrs)]); k++ },
		"Next": func() {
			if a, ok := p.Next(); ok {
				p.Free(a)
			}
		},
		"Cursor": func() { p.Cursor() },
	}
	for name, op := range ops {
		if n := testing.AllocsPerRun(1000, op); n != 0 {
			t.Errorf("%s: %v allocations per call; want 0", name, n)
		}
	}
}

func TestAtAndSeekStart(t *testing.T) {
	p := mustPool(t, "198.18.0.10-198.18.0.13", "198.18.1.0-198.18.1.3")
	for i, want := range []string{"198.18.0.10", "198.18.0.13", "198.18.1.0", "198.18.1.3"} {
		n := []int{0, 3, 4, 7}[i]
		if a, ok := p.At(n); !ok || a != netip.MustParseAddr(want) {
			t.Errorf("At(%d) = %v %v, want %v", n, a, ok, want)
		}
	}
	for _, n := range []int{-1, 8} {
		if a, ok := p.At(n); ok {
			t.Errorf("At(%d) = %v, want false", n, a)
		}
	}
	// A server starting half way takes the second half first, then wraps.
	a, _ := p.At(p.Size() / 2)
	p.Seek(a)
	got := drain(p)
	if got[0] != netip.MustParseAddr("198.18.1.0") || got[4] != netip.MustParseAddr("198.18.0.10") || len(got) != 8 {
		t.Fatalf("from the middle: %v", got)
	}
}

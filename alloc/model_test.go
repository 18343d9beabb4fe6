package alloc

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
)

// model is a reference Pool built the obvious way: a sorted list of every
// address, a map of free ones, a cursor into the list and the quarantine
// as a list, oldest first. Every operation is a linear scan.
type model struct {
	addrs      []netip.Addr
	pos        map[netip.Addr]int
	free       map[netip.Addr]bool
	cursor     int
	quarantine []netip.Addr
	limit      int
}

func newModel(ranges []Range, limit int) *model {
	m := &model{pos: make(map[netip.Addr]int), free: make(map[netip.Addr]bool), limit: limit}
	for _, r := range ranges {
		for a := r.First; ; a = a.Next() {
			m.addrs = append(m.addrs, a)
			if a == r.Last {
				break
			}
		}
	}
	slices.SortFunc(m.addrs, netip.Addr.Compare)
	for i, a := range m.addrs {
		m.pos[a] = i
		m.free[a] = true
	}
	return m
}

func (m *model) unquarantine(a netip.Addr) bool {
	if i := slices.Index(m.quarantine, a); i >= 0 {
		m.quarantine = slices.Delete(m.quarantine, i, i+1)
		return true
	}
	return false
}

func (m *model) Contains(a netip.Addr) bool { _, ok := m.pos[a]; return ok }
func (m *model) IsFree(a netip.Addr) bool   { return m.free[a] }

func (m *model) Take(a netip.Addr) bool {
	if !m.free[a] {
		return false
	}
	m.free[a] = false
	m.unquarantine(a)
	return true
}

func (m *model) Free(a netip.Addr) bool {
	if !m.Contains(a) || m.free[a] {
		return false
	}
	m.free[a] = true
	if m.pos[a] >= m.cursor && m.limit > 0 {
		if len(m.quarantine) == m.limit {
			m.quarantine = m.quarantine[1:]
		}
		m.quarantine = append(m.quarantine, a)
	}
	return true
}

func (m *model) Next() (netip.Addr, bool) {
	if m.Available() == 0 {
		return netip.Addr{}, false
	}
	for {
		for ; m.cursor < len(m.addrs); m.cursor++ {
			a := m.addrs[m.cursor]
			if !m.free[a] || m.unquarantine(a) {
				continue
			}
			m.free[a] = false
			m.cursor++
			return a, true
		}
		m.cursor = 0
	}
}

func (m *model) Seek(a netip.Addr) bool {
	i, ok := m.pos[a]
	if !ok {
		return false
	}
	m.cursor = i
	m.quarantine = nil
	return true
}

func (m *model) Cursor() netip.Addr {
	if len(m.addrs) == 0 {
		return netip.Addr{}
	}
	return m.addrs[m.cursor%len(m.addrs)]
}

func (m *model) Available() int {
	n := 0
	for _, f := range m.free {
		if f {
			n++
		}
	}
	return n
}

// modelConfigs are the pools the model test and the fuzz test run on.
var modelConfigs = []struct {
	name   string
	ranges []string
	limit  int // quarantine limit; -1 means the default
}{
	{"one range, default quarantine", []string{"198.18.0.10-198.18.0.73"}, -1},
	{"three ranges, quarantine of 3", []string{"198.18.3.0-198.18.3.9", "198.18.0.0-198.18.0.31", "198.18.0.32-198.18.0.40"}, 3},
	{"address space edges, quarantine of 2", []string{"0.0.0.0-0.0.0.5", "255.255.255.250-255.255.255.255"}, 2},
	{"no quarantine", []string{"198.18.0.0-198.18.0.99"}, 0},
	{"quarantine of 1", []string{"198.18.0.0-198.18.0.19", "198.18.1.0-198.18.1.19"}, 1},
	{"1000 addresses, quarantine of 8", []string{"198.18.0.0-198.18.3.231"}, 8},
}

type modelRun struct {
	t      testing.TB
	p      *Pool
	m      *model
	ranges []Range
	steps  int
}

func newModelRun(t testing.TB, config int) *modelRun {
	c := modelConfigs[config]
	ranges := make([]Range, len(c.ranges))
	for i, s := range c.ranges {
		ranges[i] = mustRange(t, s)
	}
	limit := quarantineLimit
	if c.limit >= 0 {
		limit = func(int) int { return c.limit }
	}
	p, err := newPool(ranges, limit)
	if err != nil {
		t.Fatal(err)
	}
	return &modelRun{t: t, p: p, m: newModel(ranges, limit(p.Size())), ranges: ranges}
}

// addr maps a number to an address in or near the pool's ranges, or
// occasionally to one that is not IPv4.
func (r *modelRun) addr(x uint32) netip.Addr {
	switch x % 64 {
	case 0:
		return netip.Addr{}
	case 1:
		return netip.AddrFrom16(r.ranges[0].First.As16()) // IPv4-mapped IPv6
	}
	x /= 64
	rg := r.ranges[x%uint32(len(r.ranges))]
	x /= uint32(len(r.ranges))
	// From two below the range to two above it, without wrapping round
	// the address space.
	lo := max(int64(u32(rg.First))-2, 0)
	hi := min(int64(u32(rg.Last))+2, 1<<32-1)
	return addrFrom32(uint32(lo + int64(x)%(hi-lo+1)))
}

// step applies operation op with argument x to the pool and the model and
// fails if they disagree.
func (r *modelRun) step(op byte, x uint32) {
	r.t.Helper()
	r.steps++
	p, m := r.p, r.m
	var desc string
	var got, want any
	switch op % 8 {
	case 0, 1, 2:
		ga, gok := p.Next()
		ma, mok := m.Next()
		desc, got, want = "Next()", fmt.Sprint(ga, gok), fmt.Sprint(ma, mok)
	case 3:
		a := r.addr(x)
		desc, got, want = fmt.Sprintf("Take(%v)", a), p.Take(a), m.Take(a)
	case 4, 5:
		a := r.addr(x)
		desc, got, want = fmt.Sprintf("Free(%v)", a), p.Free(a), m.Free(a)
	case 6:
		a := r.addr(x)
		desc = fmt.Sprintf("IsFree/Contains(%v)", a)
		got = fmt.Sprint(p.IsFree(a), p.Contains(a))
		want = fmt.Sprint(m.IsFree(a), m.Contains(a))
	case 7:
		if x%16 != 0 { // seek rarely: it clears the quarantine
			return
		}
		a := r.addr(x / 16)
		desc, got, want = fmt.Sprintf("Seek(%v)", a), p.Seek(a), m.Seek(a)
	}
	if got != want {
		r.t.Fatalf("step %d: %s = %v; model says %v", r.steps, desc, got, want)
	}
	if p.Available() != m.Available() || p.Used() != p.Size()-m.Available() || p.Cursor() != m.Cursor() {
		r.t.Fatalf("step %d: after %s: Available %d, Used %d, Cursor %v; model says Available %d, Cursor %v",
			r.steps, desc, p.Available(), p.Used(), p.Cursor(), m.Available(), m.Cursor())
	}
}

// TestModel runs thousands of random operations on pools and on the model
// and compares every answer.
func TestModel(t *testing.T) {
	for config, c := range modelConfigs {
		t.Run(c.name, func(t *testing.T) {
			for seed := range uint64(5) {
				rnd := rand.New(rand.NewPCG(seed, uint64(config)))
				run := newModelRun(t, config)
				// Vary the mix so that some runs keep the pool nearly full
				// and others nearly empty.
				bias := rnd.IntN(3)
				for i := range 4000 {
					op := byte(rnd.IntN(8))
					if bias == 1 && op >= 4 && op <= 5 && rnd.IntN(2) == 0 {
						op = 0 // more Next: nearly full
					}
					if bias == 2 && op <= 2 && rnd.IntN(2) == 0 {
						op = 4 // more Free: nearly empty
					}
					run.step(op, rnd.Uint32())
					if i%100 == 0 {
						checkInvariants(t, run.p)
					}
				}
				checkInvariants(t, run.p)
			}
		})
	}
}

// FuzzPool runs an operation sequence taken from the input on a pool and
// on the model. The first byte picks the pool; then each group of three
// bytes is an operation and its argument.
func FuzzPool(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 3, 9, 0, 4, 9, 0, 0, 0, 0})
	f.Add([]byte{1, 3, 200, 1, 4, 200, 1, 0, 0, 0, 7, 0, 16, 0, 1, 1})
	f.Add([]byte{2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 2, 0, 4, 66, 0, 0, 0, 0})
	f.Add([]byte{4, 3, 5, 0, 3, 6, 0, 4, 5, 0, 4, 6, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		run := newModelRun(t, int(data[0])%len(modelConfigs))
		data = data[1:]
		for len(data) >= 3 {
			run.step(data[0], uint32(data[1])|uint32(data[2])<<8)
			data = data[3:]
		}
		checkInvariants(t, run.p)
	})
}

// checkInvariants checks the pool's internal structures against each
// other.
func checkInvariants(t testing.TB, p *Pool) {
	t.Helper()
	b := &p.free
	if b.n != p.size {
		t.Fatalf("bitset over %d integers; pool size %d", b.n, p.size)
	}
	members := 0
	for i, w := range b.levels[0] {
		members += bits.OnesCount64(w)
		if rest := p.size - 64*i; rest < 64 && w>>max(rest, 0) != 0 {
			t.Fatalf("bitset word %d has bits beyond the pool", i)
		}
	}
	if members != p.size-p.used {
		t.Fatalf("bitset has %d members; pool says %d free", members, p.size-p.used)
	}
	for k := 1; k < len(b.levels); k++ {
		below := b.levels[k-1]
		for j := range 64 * len(b.levels[k]) {
			want := j < len(below) && below[j] != 0
			if got := b.levels[k][j/64]&(1<<(j%64)) != 0; got != want {
				t.Fatalf("summary level %d bit %d = %v; word %d of level %d is %#x", k, j, got, j, k-1, below[min(j, len(below)-1)])
			}
		}
	}
	if len(b.levels[len(b.levels)-1]) != 1 {
		t.Fatalf("top level has %d words", len(b.levels[len(b.levels)-1]))
	}
	if p.cursor < 0 || p.cursor > p.size {
		t.Fatalf("cursor %d outside 0..%d", p.cursor, p.size)
	}

	q := &p.q
	if q.live > q.limit || q.n > len(q.ring) || q.n < q.live {
		t.Fatalf("quarantine: %d live, limit %d, %d ring entries of %d", q.live, q.limit, q.n, len(q.ring))
	}
	keys := 0
	for j, x := range q.keys {
		if x == emptyKey {
			continue
		}
		keys++
		if q.find(x) != j {
			t.Fatalf("quarantine key %d in slot %d is not found there", x, j)
		}
		if int(x) >= p.size || !b.has(int(x)) || int(x) < p.cursor {
			t.Fatalf("quarantined index %d: size %d, free %v, cursor %d", x, p.size, int(x) < p.size && b.has(int(x)), p.cursor)
		}
		s := int(q.slots[j])
		if (s-q.head+len(q.ring))%len(q.ring) >= q.n || q.ring[s] != x {
			t.Fatalf("quarantined index %d points at ring slot %d outside the ring or holding %d", x, s, q.ring[s])
		}
	}
	if keys != q.live {
		t.Fatalf("quarantine table holds %d keys; live count %d", keys, q.live)
	}
}

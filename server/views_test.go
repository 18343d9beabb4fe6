package server

import (
	"context"
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"

	"leased/config"
	"leased/dhcpv4"
	"leased/lease"
)

func TestLeaseViews(t *testing.T) {
	e, got := adminFixture(t)
	all := allLeases(e.eng, netip.Addr{}, netip.Addr{})
	if !slices.IsSortedFunc(all, func(a, b LeaseView) int { return a.Addr.Compare(b.Addr) }) {
		t.Errorf("Leases not in address order: %v", leaseStates(all))
	}
	want := map[netip.Addr]lease.State{
		got["bound"]: lease.Bound, got["released"]: lease.Released, got["declined"]: lease.Declined,
		got["offered"]: lease.Offered, got["expired"]: lease.Expired, got["other subnet"]: lease.Bound,
	}
	if len(all) != len(want) {
		t.Fatalf("Leases gave %v, want %d leases", leaseStates(all), len(want))
	}
	for _, v := range all {
		if v.State != want[v.Addr] {
			t.Errorf("lease %v: state %v, want %v", v.Addr, v.State, want[v.Addr])
		}
	}

	tests := []struct {
		name  string
		view  func() (LeaseView, bool)
		addr  netip.Addr
		state lease.State
		ok    bool
	}{
		{"by address, bound", func() (LeaseView, bool) { return e.eng.LeaseByAddr(got["bound"]) }, got["bound"], lease.Bound, true},
		{"by address, a bound lease past its expiry shows expired", func() (LeaseView, bool) { return e.eng.LeaseByAddr(got["expired"]) }, got["expired"], lease.Expired, true},
		{"by address, free address has none", func() (LeaseView, bool) { return e.eng.LeaseByAddr(mustAddr("198.18.0.19")) }, netip.Addr{}, 0, false},
		{"by address, no subnet has none", func() (LeaseView, bool) { return e.eng.LeaseByAddr(mustAddr("203.0.113.1")) }, netip.Addr{}, 0, false},
		{"by client identity", func() (LeaseView, bool) { return e.eng.LeaseOfClient([]byte(newClient(1).key())) }, got["bound"], lease.Bound, true},
		{"by client identity, released lease remembered", func() (LeaseView, bool) { return e.eng.LeaseOfClient([]byte(newClient(2).key())) }, got["released"], lease.Released, true},
		{"by client identity, offer", func() (LeaseView, bool) { return e.eng.LeaseOfClient([]byte(newClient(4).key())) }, got["offered"], lease.Offered, true},
		{"by client identity, other subnet", func() (LeaseView, bool) { return e.eng.LeaseOfClient([]byte(newClient(6).key())) }, got["other subnet"], lease.Bound, true},
		{"by client identity, unknown", func() (LeaseView, bool) { return e.eng.LeaseOfClient([]byte(newClient(99).key())) }, netip.Addr{}, 0, false},
		{"by hardware address", func() (LeaseView, bool) { return e.eng.LeaseOfHardwareAddr(newClient(1).mac) }, got["bound"], lease.Bound, true},
		{"by hardware address, declined", func() (LeaseView, bool) { return e.eng.LeaseOfHardwareAddr(newClient(3).mac) }, got["declined"], lease.Declined, true},
		{"by hardware address, empty", func() (LeaseView, bool) { return e.eng.LeaseOfHardwareAddr(nil) }, netip.Addr{}, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, ok := tt.view()
			if ok != tt.ok || v.Addr != tt.addr || v.State != tt.state {
				t.Fatalf("got %v %v ok=%v, want %v %v ok=%v", v.Addr, v.State, ok, tt.addr, tt.state, tt.ok)
			}
			if ok && !v.Subnet.Contains(v.Addr) {
				t.Errorf("subnet %v does not contain %v", v.Subnet, v.Addr)
			}
		})
	}

	v, _ := e.eng.LeaseByAddr(got["bound"])
	c1 := newClient(1)
	if v.ClientID != c1.key() || v.HW.String() != c1.mac.String() || !v.Expiry.Equal(e.now.Add(time.Hour)) || !v.Start.Equal(e.now) {
		t.Errorf("bound lease view %+v: want client %x, hw %v, start %v, expiry in an hour", v, c1.key(), c1.mac, e.now)
	}
}

func TestLeasesRange(t *testing.T) {
	e, got := adminFixture(t)
	tests := []struct {
		name        string
		first, last netip.Addr
		want        []netip.Addr
	}{
		{"one subnet by its bounds", mustAddr("198.19.0.0"), mustAddr("198.19.0.255"), []netip.Addr{got["other subnet"]}},
		{"open start", netip.Addr{}, got["released"], []netip.Addr{got["bound"], got["released"]}},
		{"open end", got["offered"], netip.Addr{}, []netip.Addr{got["offered"], got["other subnet"]}},
		{"one address", got["declined"], got["declined"], []netip.Addr{got["declined"]}},
		{"nothing in range", mustAddr("198.18.0.100"), mustAddr("198.18.0.200"), nil},
		{"reversed range is empty", mustAddr("198.19.0.255"), mustAddr("198.18.0.0"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var addrs []netip.Addr
			for _, v := range allLeases(e.eng, tt.first, tt.last) {
				addrs = append(addrs, v.Addr)
			}
			if !slices.Equal(addrs, tt.want) {
				t.Errorf("Leases(%v, %v) = %v, want %v", tt.first, tt.last, addrs, tt.want)
			}
		})
	}
	t.Run("stops when fn returns false", func(t *testing.T) {
		n := 0
		e.eng.Leases(netip.Addr{}, netip.Addr{}, func(LeaseView) bool { n++; return n < 2 })
		if n != 2 {
			t.Errorf("fn called %d times after returning false at 2", n)
		}
	})
	t.Run("a lapsed offer is not shown", func(t *testing.T) {
		e.now = e.now.Add(time.Minute) // past the 30 s offer hold
		if v, ok := e.eng.LeaseByAddr(got["offered"]); ok {
			t.Errorf("lapsed offer shown as %v", v.State)
		}
	})
}

func internalUsed(s *subnet) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, set := range s.pool.sets {
		n += set.pool.Used()
	}
	return n
}

func TestPoolStats(t *testing.T) {
	e, got := adminFixture(t)
	e.eng.Sweep() // reclaims the expired lease, as the allocator then agrees
	st := e.eng.PoolStats()
	if len(st) != 2 || st[0].Prefix != mustPrefix("198.18.0.0/24") || st[1].Prefix != mustPrefix("198.19.0.0/24") {
		t.Fatalf("subnets %v, want 198.18.0.0/24 then 198.19.0.0/24", st)
	}
	s0 := st[0]
	checks := []struct {
		name      string
		got, want int
	}{
		{"subnet size is the pool's", s0.Size, 10},
		{"used: bound, offered and declined", s0.Used, 3},
		{"free", s0.Free, 7},
		{"bound leases", s0.Leases[lease.Bound], 1},
		{"offered leases", s0.Leases[lease.Offered], 1},
		{"declined leases", s0.Leases[lease.Declined], 1},
		{"released leases", s0.Leases[lease.Released], 1},
		{"expired leases", s0.Leases[lease.Expired], 1},
		{"reservations of the file", s0.ReservedConfig, 2},
		{"no run-time reservation", s0.ReservedRuntime, 0},
		{"one pool", len(s0.Pools), 1},
		{"pool bound", s0.Pools[0].Bound, 1},
		{"pool offered", s0.Pools[0].Offered, 1},
		{"pool declined", s0.Pools[0].Declined, 1},
		{"reservations outside the pool do not count in it", s0.Pools[0].Reserved, 0},
		{"used agrees with the allocator", s0.Used, internalUsed(e.eng.subnets[0])},
		{"other subnet used", st[1].Used, 1},
		{"other subnet free", st[1].Free, 1},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: %d, want %d", c.name, c.got, c.want)
		}
	}
	if p := s0.Pools[0]; p.First != mustAddr("198.18.0.10") || p.Last != mustAddr("198.18.0.19") || p.Size != 10 {
		t.Errorf("pool %v-%v size %d, want 198.18.0.10-198.18.0.19 size 10", p.First, p.Last, p.Size)
	}
	_ = got
}

func TestPoolStatsRangesAndReservationsInPool(t *testing.T) {
	e := newEnv(t, func(c *config.Config) {
		s := &c.Subnets[0]
		s.ReservationsInPool = true
		s.Pools = []config.Range{
			{First: mustAddr("198.18.0.30"), Last: mustAddr("198.18.0.39")},
			{First: mustAddr("198.18.0.10"), Last: mustAddr("198.18.0.19"), Match: config.RelayMatch{CircuitID: "port-1"}},
		}
		s.Reservations = append(s.Reservations, config.Reservation{HWAddr: net.HardwareAddr{2, 0, 0, 0, 0, 0x77}, Addr: mustAddr("198.18.0.35")})
	})
	if err := e.eng.AddReservation(config.Reservation{HWAddr: net.HardwareAddr{2, 0, 0, 0, 0, 0x78}, Addr: mustAddr("198.18.0.36")}); err != nil {
		t.Fatal(err)
	}
	a := e.dora(newClient(1), direct())
	st := e.eng.PoolStats()[0]
	if len(st.Pools) != 2 || st.Pools[0].First != mustAddr("198.18.0.10") || st.Pools[1].First != mustAddr("198.18.0.30") {
		t.Fatalf("pools %+v, want two in address order", st.Pools)
	}
	p := st.Pools[1]
	if p.Match != (config.RelayMatch{}) || st.Pools[0].Match.CircuitID != "port-1" {
		t.Errorf("relay matches %+v %+v", st.Pools[0].Match, p.Match)
	}
	if p.Reserved != 2 || p.Bound != 1 || p.Used != 3 || p.Free != 7 {
		t.Errorf("pool with two reservations and %v bound: reserved %d bound %d used %d free %d, want 2 1 3 7", a, p.Reserved, p.Bound, p.Used, p.Free)
	}
	if st.ReservedConfig != 3 || st.ReservedRuntime != 1 {
		t.Errorf("reservations: config %d runtime %d, want 3 and 1", st.ReservedConfig, st.ReservedRuntime)
	}
	if st.Used != internalUsed(e.eng.subnets[0]) {
		t.Errorf("used %d, allocator %d", st.Used, internalUsed(e.eng.subnets[0]))
	}
}

func benchEngine(b *testing.B, n int) *Engine {
	cfg := testConfig()
	cfg.Subnets[0].Prefix = mustPrefix("198.18.0.0/16")
	cfg.Subnets[0].Pools[0].Last = mustAddr("198.18.39.255")
	eng, err := New(cfg, &lease.Memory{}, func() time.Time { return t0 })
	if err != nil {
		b.Fatal(err)
	}
	var reply dhcpv4.Packet
	for i := range n {
		c := newClient(0)
		c.mac = net.HardwareAddr{2, 0, 0, 0, byte(i >> 8), byte(i)}
		out := eng.Handle(context.Background(), c.packet(dhcpv4.Discover), direct(), &reply)
		req := c.packet(dhcpv4.Request, optAddr(dhcpv4.OptServerID, "198.18.0.1"), option{dhcpv4.OptRequestedIP, out.Addr.AsSlice()})
		if out := eng.Handle(context.Background(), req, direct(), &reply); out.Reason != ReasonAck {
			b.Fatalf("lease %d: %v", i, out.Reason)
		}
	}
	return eng
}

// BenchmarkPoolStats is one metrics scrape's or status request's look at
// a subnet of 10,000 leases.
func BenchmarkPoolStats(b *testing.B) {
	eng := benchEngine(b, 10000)
	b.ReportAllocs()
	for b.Loop() {
		eng.PoolStats()
	}
}

// BenchmarkLeasesPage is one page of 100 leases of 10,000.
func BenchmarkLeasesPage(b *testing.B) {
	eng := benchEngine(b, 10000)
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		eng.Leases(netip.Addr{}, netip.Addr{}, func(LeaseView) bool { n++; return n < 100 })
	}
}

package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"leased/config"
	"leased/dhcpv4"
	"leased/lease"
)

// offer runs a DISCOVER for c and returns the offered address.
func (e *env) offer(c *client, in Arrival) netip.Addr {
	e.t.Helper()
	out, offer := e.handle(c.packet(dhcpv4.Discover), in)
	if out.Reason != ReasonOffer {
		e.t.Fatalf("DISCOVER from %v: %v, want offer", c.mac, out.Reason)
	}
	return offer.YIAddr
}

// release sends c's DHCPRELEASE of a.
func (e *env) release(c *client, a netip.Addr) {
	e.t.Helper()
	rel := c.packet(dhcpv4.Release, optAddr(dhcpv4.OptServerID, "198.18.0.1"))
	rel.CIAddr = a
	if out, _ := e.handle(rel, unicastTo(a)); out.Reason != ReasonReleased {
		e.t.Fatalf("RELEASE of %v: %v", a, out.Reason)
	}
}

// decline sends c's DHCPDECLINE of a.
func (e *env) decline(c *client, a netip.Addr) {
	e.t.Helper()
	if out, _ := e.handle(c.packet(dhcpv4.Decline, option{dhcpv4.OptRequestedIP, a.AsSlice()}), direct()); out.Reason != ReasonDeclined {
		e.t.Fatalf("DECLINE of %v: %v", a, out.Reason)
	}
}

// key is the identity the engine gives a client without a client
// identifier: hardware type 1 and its MAC.
func (c *client) key() string { return "\x01" + string(c.mac) }

// allLeases returns every lease view, in the order Leases gives them.
func allLeases(eng interface {
	Leases(first, last netip.Addr, fn func(LeaseView) bool)
}, first, last netip.Addr) []LeaseView {
	var vs []LeaseView
	eng.Leases(first, last, func(v LeaseView) bool { vs = append(vs, v); return true })
	return vs
}

// leaseStates summarises views as "addr=state" strings.
func leaseStates(vs []LeaseView) []string {
	var out []string
	for _, v := range vs {
		out = append(out, v.Addr.String()+"="+v.State.String())
	}
	return out
}

// secondLink is an arrival on the server's interface in 198.19.0.0/24.
func secondLink() Arrival {
	return Arrival{IfIndex: 3, IfName: "eth1", IfAddrs: []netip.Prefix{netip.MustParsePrefix("198.19.0.1/24")},
		Src: netip.MustParseAddrPort("0.0.0.0:68"), Dst: broadcastAll}
}

// adminFixture makes an engine with one lease in each state: bound
// (client 1 on .10, and client 6 on 198.19.0.100), released (client 2),
// declined (client 3), offered (client 4), and bound then expired
// (client 5, whose lease time is over when the fixture returns).
func adminFixture(t *testing.T) (*env, map[string]netip.Addr) {
	t.Helper()
	e := newEnv(t, nil)
	got := map[string]netip.Addr{}
	got["bound"] = e.dora(newClient(1), direct())
	got["released"] = e.dora(newClient(2), direct())
	e.release(newClient(2), got["released"])
	got["declined"] = e.dora(newClient(3), direct())
	e.decline(newClient(3), got["declined"])
	// Client 5 is bound an hour before the others.
	e.now = e.now.Add(-2 * time.Hour)
	got["expired"] = e.dora(newClient(5), direct())
	e.now = e.now.Add(2 * time.Hour)
	got["offered"] = e.offer(newClient(4), direct())
	got["other subnet"] = e.dora(newClient(6), secondLink())
	return e, got
}

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

func TestForceRelease(t *testing.T) {
	tests := []struct {
		name      string
		addr      string // key of the fixture, or an address
		err       error
		stored    lease.State // the record after; 0: none
		freeAfter bool
	}{
		{name: "bound lease becomes released and its address free", addr: "bound", stored: lease.Released, freeAfter: true},
		{name: "offer becomes released and its address free", addr: "offered", stored: lease.Released, freeAfter: true},
		{name: "declined address leaves probation, record deleted", addr: "declined", stored: 0, freeAfter: true},
		{name: "released lease: nothing to release", addr: "released", err: ErrNoLease, stored: lease.Released, freeAfter: true},
		{name: "expired lease: nothing to release", addr: "expired", err: ErrNoLease, stored: lease.Bound, freeAfter: true},
		{name: "free address: no lease", addr: "198.18.0.19", err: ErrNoLease},
		{name: "address in no subnet", addr: "203.0.113.9", err: ErrNoSubnet},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, got := adminFixture(t)
			a, ok := got[tt.addr]
			if !ok {
				a = mustAddr(tt.addr)
			}
			v, err := e.eng.ForceRelease(context.Background(), a)
			if !errors.Is(err, tt.err) {
				t.Fatalf("ForceRelease(%v) = %v, want %v", a, err, tt.err)
			}
			if err == nil && (v.State != lease.Released || v.Addr != a || !v.Expiry.Equal(e.now)) {
				t.Errorf("returned view %v %v expiry %v, want released now", v.Addr, v.State, v.Expiry)
			}
			l, ok := e.stored(a)
			if (tt.stored == 0 && ok) || (tt.stored != 0 && l.State != tt.stored) {
				t.Errorf("store holds %v (present %v), want %v", l.State, ok, tt.stored)
			}
			if tt.freeAfter {
				// Another client asking for the address gets it.
				c := newClient(42)
				out, offer := e.handle(c.packet(dhcpv4.Discover, option{dhcpv4.OptRequestedIP, a.AsSlice()}), direct())
				if out.Reason != ReasonOffer || offer.YIAddr != a {
					t.Errorf("after the release, DISCOVER requesting %v: %v %v", a, out.Reason, offer)
				}
			}
		})
	}

	t.Run("RFC2131 4.3.2 the released client's renewal is granted while the address is free", func(t *testing.T) {
		e, got := adminFixture(t)
		a := got["bound"]
		if _, err := e.eng.ForceRelease(context.Background(), a); err != nil {
			t.Fatal(err)
		}
		req := newClient(1).packet(dhcpv4.Request)
		req.CIAddr = a
		if out, _ := e.handle(req, unicastTo(a)); out.Reason != ReasonAck {
			t.Errorf("renewal after a forced release: %v, want ack", out.Reason)
		}
	})

	t.Run("commit failure is reported, address free in memory", func(t *testing.T) {
		e, got := adminFixture(t)
		e.store.Fail = errors.New("disk full")
		a := got["bound"]
		if _, err := e.eng.ForceRelease(context.Background(), a); err == nil || !errors.Is(err, e.store.Fail) {
			t.Fatalf("ForceRelease with a failing store: %v, want the store's error", err)
		}
		if v, _ := e.eng.LeaseByAddr(a); v.State != lease.Released {
			t.Errorf("after the failed commit: %v, want released in memory", v.State)
		}
	})
}

// internalUsed returns what the subnet's allocator counts as taken.
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

func mustPrefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }

func hw(last byte) net.HardwareAddr { return net.HardwareAddr{2, 0, 0, 0, 0, last} }

func TestAddReservationRefusals(t *testing.T) {
	tests := []struct {
		name string
		r    config.Reservation
		err  error
	}{
		{"no client", config.Reservation{Addr: mustAddr("198.18.0.60")}, ErrInvalidReservation},
		{"both hardware address and client identifier", config.Reservation{HWAddr: hw(0x60), ClientID: []byte{1, 2}, Addr: mustAddr("198.18.0.60")}, ErrInvalidReservation},
		{"relay match is for the file", config.Reservation{Relay: config.RelayMatch{CircuitID: "x"}, Addr: mustAddr("198.18.0.60")}, ErrInvalidReservation},
		{"options are for the file", config.Reservation{HWAddr: hw(0x60), Addr: mustAddr("198.18.0.60"), Options: []config.Option{{Code: 42, Value: []byte{1, 2, 3, 4}}}}, ErrInvalidReservation},
		{"hardware address longer than chaddr", config.Reservation{HWAddr: make(net.HardwareAddr, 17), Addr: mustAddr("198.18.0.60")}, ErrInvalidReservation},
		{"RFC2132 9.14 client identifier of one byte", config.Reservation{ClientID: []byte{1}, Addr: mustAddr("198.18.0.60")}, ErrInvalidReservation},
		{"bad host name", config.Reservation{HWAddr: hw(0x60), Addr: mustAddr("198.18.0.60"), Hostname: "no spaces"}, ErrInvalidReservation},
		{"host name label starting with a dash", config.Reservation{HWAddr: hw(0x60), Addr: mustAddr("198.18.0.60"), Hostname: "-x.example"}, ErrInvalidReservation},
		{"not IPv4", config.Reservation{HWAddr: hw(0x60), Addr: mustAddr("2001:db8::1")}, ErrInvalidReservation},
		{"network address", config.Reservation{HWAddr: hw(0x60), Addr: mustAddr("198.18.0.0")}, ErrInvalidReservation},
		{"broadcast address", config.Reservation{HWAddr: hw(0x60), Addr: mustAddr("198.18.0.255")}, ErrInvalidReservation},
		{"router address", config.Reservation{HWAddr: hw(0x60), Addr: mustAddr("198.18.0.1")}, ErrInvalidReservation},
		{"no subnet", config.Reservation{HWAddr: hw(0x60), Addr: mustAddr("203.0.113.5")}, ErrNoSubnet},
		{"address reserved in the file", config.Reservation{HWAddr: hw(0x60), Addr: mustAddr("198.18.0.50")}, ErrAlreadyReserved},
		{"hardware address reserved in the file", config.Reservation{HWAddr: hw(0x50), Addr: mustAddr("198.18.0.60")}, ErrAlreadyReserved},
		{"hardware address reserved in another subnet", config.Reservation{HWAddr: hw(0x50), Addr: mustAddr("198.19.0.60")}, ErrAlreadyReserved},
		{"client identifier reserved in the file", config.Reservation{ClientID: []byte("\x00named-client"), Addr: mustAddr("198.18.0.60")}, ErrAlreadyReserved},
		{"address bound to another client", config.Reservation{HWAddr: hw(0x60), Addr: mustAddr("198.18.0.10")}, ErrAddressInUse},
		{"address offered to another client", config.Reservation{HWAddr: hw(0x60), Addr: mustAddr("198.18.0.12")}, ErrAddressInUse},
		{"declined address", config.Reservation{HWAddr: hw(3), Addr: mustAddr("198.18.0.11")}, ErrAddressInUse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			if a := e.dora(newClient(1), direct()); a != mustAddr("198.18.0.10") {
				t.Fatalf("fixture: client 1 got %v", a)
			}
			if a := e.dora(newClient(3), direct()); a != mustAddr("198.18.0.11") {
				t.Fatalf("fixture: client 3 got %v", a)
			}
			e.decline(newClient(3), mustAddr("198.18.0.11"))
			if a := e.offer(newClient(2), direct()); a != mustAddr("198.18.0.12") {
				t.Fatalf("fixture: client 2 offered %v", a)
			}
			before := e.eng.Reservations()
			err := e.eng.AddReservation(tt.r)
			if !errors.Is(err, tt.err) {
				t.Fatalf("AddReservation: %v, want %v", err, tt.err)
			}
			if after := e.eng.Reservations(); len(after) != len(before) {
				t.Errorf("a refused reservation changed the list: %d, then %d", len(before), len(after))
			}
		})
	}
}

func TestRuntimeReservation(t *testing.T) {
	t.Run("RFC2131 4.3.1 next DISCOVER gets the reserved address", func(t *testing.T) {
		e := newEnv(t, nil)
		c := newClient(0x60)
		if err := e.eng.AddReservation(config.Reservation{HWAddr: c.mac, Addr: mustAddr("198.18.0.60"), Hostname: "scanner"}); err != nil {
			t.Fatal(err)
		}
		if a := e.dora(c, direct()); a != mustAddr("198.18.0.60") {
			t.Errorf("client with a run-time reservation got %v, want 198.18.0.60", a)
		}
		if v, _ := e.eng.LeaseByAddr(mustAddr("198.18.0.60")); v.Hostname != "scanner" {
			t.Errorf("lease host name %q, want the reservation's", v.Hostname)
		}
	})
	t.Run("by client identifier", func(t *testing.T) {
		e := newEnv(t, nil)
		c := newClient(0x61)
		c.cid = []byte("\x00scanner-2")
		if err := e.eng.AddReservation(config.Reservation{ClientID: c.cid, Addr: mustAddr("198.18.0.61")}); err != nil {
			t.Fatal(err)
		}
		if a := e.dora(c, direct()); a != mustAddr("198.18.0.61") {
			t.Errorf("got %v, want 198.18.0.61", a)
		}
	})
	t.Run("RFC2131 4.3.2 a client bound elsewhere is NAKed on renewal, then moves", func(t *testing.T) {
		e := newEnv(t, nil)
		c := newClient(1)
		old := e.dora(c, direct())
		if err := e.eng.AddReservation(config.Reservation{HWAddr: c.mac, Addr: mustAddr("198.18.0.60")}); err != nil {
			t.Fatal(err)
		}
		req := c.packet(dhcpv4.Request)
		req.CIAddr = old
		if out, _ := e.handle(req, unicastTo(old)); out.Reason != ReasonNakAddress {
			t.Errorf("renewal of %v: %v, want NAK", old, out.Reason)
		}
		if a := e.dora(c, direct()); a != mustAddr("198.18.0.60") {
			t.Errorf("after the NAK: %v, want 198.18.0.60", a)
		}
	})
	t.Run("the client's own bound address can be reserved for it", func(t *testing.T) {
		e := newEnv(t, nil)
		c := newClient(1)
		a := e.dora(c, direct())
		if err := e.eng.AddReservation(config.Reservation{HWAddr: c.mac, Addr: a}); err != nil {
			t.Fatalf("reserving the client's own address: %v", err)
		}
		if st := e.eng.PoolStats()[0]; st.Used != internalUsed(e.eng.subnets[0]) || st.Pools[0].Reserved != 1 {
			t.Errorf("stats %+v, allocator used %d", st.Pools[0], internalUsed(e.eng.subnets[0]))
		}
	})
	t.Run("an address of the pool leaves it and comes back when removed", func(t *testing.T) {
		e := newEnv(t, nil)
		a := mustAddr("198.18.0.10") // the first the pool hands out
		if err := e.eng.AddReservation(config.Reservation{HWAddr: hw(0x60), Addr: a}); err != nil {
			t.Fatal(err)
		}
		if got := e.offer(newClient(1), direct()); got == a {
			t.Fatalf("reserved %v offered to another client", a)
		}
		if used := internalUsed(e.eng.subnets[0]); used != 2 {
			t.Errorf("allocator used %d, want 2 (the reservation and the offer)", used)
		}
		v, err := e.eng.RemoveReservation(a)
		if err != nil || !v.Runtime || v.HWAddr.String() != hw(0x60).String() {
			t.Fatalf("RemoveReservation: %+v %v", v, err)
		}
		if used := internalUsed(e.eng.subnets[0]); used != 1 {
			t.Errorf("after removal the allocator has %d used, want 1", used)
		}
		c := newClient(2)
		if out, offer := e.handle(c.packet(dhcpv4.Discover, optAddr(dhcpv4.OptRequestedIP, "198.18.0.10")), direct()); out.Reason != ReasonOffer || offer.YIAddr != a {
			t.Errorf("after removal, DISCOVER requesting %v got %v", a, offer.YIAddr)
		}
	})
	t.Run("removal keeps the client's lease on the address", func(t *testing.T) {
		e := newEnv(t, nil)
		c := newClient(0x60)
		a := mustAddr("198.18.0.15")
		if err := e.eng.AddReservation(config.Reservation{HWAddr: c.mac, Addr: a}); err != nil {
			t.Fatal(err)
		}
		e.dora(c, direct())
		if _, err := e.eng.RemoveReservation(a); err != nil {
			t.Fatal(err)
		}
		if v, ok := e.eng.LeaseByAddr(a); !ok || v.State != lease.Bound {
			t.Errorf("lease after removal: %v %v, want bound", v.State, ok)
		}
		if e.eng.subnets[0].pool.IsFree(a) {
			t.Error("a bound address went back to the pool")
		}
	})
	t.Run("listed separately from the file's", func(t *testing.T) {
		e := newEnv(t, nil)
		if err := e.eng.AddReservation(config.Reservation{ClientID: []byte{0, 1, 2}, Addr: mustAddr("198.19.0.7")}); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, v := range e.eng.Reservations() {
			got = append(got, fmt.Sprintf("%v runtime=%v", v.Addr, v.Runtime))
		}
		want := []string{"198.18.0.50 runtime=false", "198.18.0.51 runtime=false", "198.19.0.7 runtime=true"}
		if !slices.Equal(got, want) {
			t.Errorf("Reservations: %q, want %q", got, want)
		}
		rt := e.eng.RuntimeReservations()
		if len(rt) != 1 || rt[0].Addr != mustAddr("198.19.0.7") || string(rt[0].ClientID) != "\x00\x01\x02" {
			t.Errorf("RuntimeReservations: %+v", rt)
		}
	})
	t.Run("remove refusals", func(t *testing.T) {
		e := newEnv(t, nil)
		for _, tc := range []struct {
			addr string
			err  error
		}{
			{"198.18.0.50", ErrConfigReservation},
			{"198.18.0.60", ErrNoReservation},
			{"203.0.113.1", ErrNoReservation},
		} {
			if _, err := e.eng.RemoveReservation(mustAddr(tc.addr)); !errors.Is(err, tc.err) {
				t.Errorf("RemoveReservation(%s): %v, want %v", tc.addr, err, tc.err)
			}
		}
	})
}

func TestReloadKeepsRuntimeReservations(t *testing.T) {
	e := newEnv(t, nil)
	live := NewReloadable(e.eng)
	r := config.Reservation{HWAddr: hw(0x60), Addr: mustAddr("198.18.0.60")}
	if err := live.AddReservation(r); err != nil {
		t.Fatal(err)
	}
	if err := live.Reload(testConfig()); err != nil {
		t.Fatalf("reload: %v", err)
	}
	if rt := live.RuntimeReservations(); len(rt) != 1 || rt[0].Addr != r.Addr {
		t.Fatalf("after the reload: %+v, want the run-time reservation", rt)
	}
	var reply dhcpv4.Packet
	req := newClient(0x60).packet(dhcpv4.Discover)
	if out := live.Handle(context.Background(), req, direct(), &reply); out.Addr != r.Addr {
		t.Errorf("after the reload, DISCOVER got %v, want %v", out.Addr, r.Addr)
	}

	// A file that reserves the same address for someone else conflicts.
	conflicting := testConfig()
	conflicting.Subnets[0].Reservations = append(conflicting.Subnets[0].Reservations,
		config.Reservation{HWAddr: hw(0x70), Addr: r.Addr})
	if err := live.Reload(conflicting); !errors.Is(err, ErrAlreadyReserved) {
		t.Fatalf("reload with a conflicting file: %v, want ErrAlreadyReserved", err)
	}
	if rs := live.Reservations(); len(rs) != 3 || !rs[2].Runtime {
		t.Errorf("after the refused reload: %+v, want the running engine's reservations", rs)
	}
}

// TestAdminConcurrentWithRequests runs reservations and views against
// DISCOVERs and REQUESTs: under -race it checks the locking, and after it
// no address is both reserved and bound to another client.
func TestAdminConcurrentWithRequests(t *testing.T) {
	e := newEnv(t, func(c *config.Config) {
		c.Subnets[0].Pools[0].Last = mustAddr("198.18.0.40")
	})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				c := newClient(byte(w*20 + i + 1))
				var reply dhcpv4.Packet
				out := e.eng.Handle(context.Background(), c.packet(dhcpv4.Discover), direct(), &reply)
				if out.Reason != ReasonOffer {
					continue
				}
				req := c.packet(dhcpv4.Request, optAddr(dhcpv4.OptServerID, "198.18.0.1"), option{dhcpv4.OptRequestedIP, out.Addr.AsSlice()})
				e.eng.Handle(context.Background(), req, direct(), &reply)
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range 40 {
			a := netip.AddrFrom4([4]byte{198, 18, 0, byte(20 + i%20)})
			if err := e.eng.AddReservation(config.Reservation{HWAddr: hw(byte(200 + i%20)), Addr: a}); err == nil && i%2 == 0 {
				e.eng.RemoveReservation(a)
			}
			e.eng.PoolStats()
			allLeases(e.eng, netip.Addr{}, netip.Addr{})
		}
	}()
	wg.Wait()

	reserved := map[netip.Addr]string{}
	for _, r := range e.eng.Reservations() {
		reserved[r.Addr] = "\x01" + string(r.HWAddr)
	}
	for _, v := range allLeases(e.eng, netip.Addr{}, netip.Addr{}) {
		if id, ok := reserved[v.Addr]; ok && (v.State == lease.Bound || v.State == lease.Offered) && v.ClientID != id {
			t.Errorf("%v is reserved and %v to another client", v.Addr, v.State)
		}
	}
	if st := e.eng.PoolStats()[0]; st.Used != internalUsed(e.eng.subnets[0]) {
		t.Errorf("stats used %d, allocator %d", st.Used, internalUsed(e.eng.subnets[0]))
	}
}

// benchEngine returns an engine with n bound leases in a /16.
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

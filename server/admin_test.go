package server

import (
	"context"
	"errors"
	"net/netip"
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

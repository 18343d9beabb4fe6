package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"testing"

	"leased/config"
	"leased/dhcpv4"
	"leased/lease"
)

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

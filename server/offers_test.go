package server

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"leased/config"
	"leased/dhcpv4"
)

// offersHeld counts the bindings in state offered, and checks that the
// subnet's count of them agrees.
func (e *env) offersHeld(s *subnet) int {
	e.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, b := range s.bindings {
		if b.state == stOffered {
			n++
		}
	}
	if n != s.offers {
		e.t.Fatalf("subnet %v counts %d offers, holds %d", s.prefix, s.offers, n)
	}
	return n
}

// floodClient is the i-th client of a flood of random hardware addresses.
func floodClient(i int) *client {
	return &client{mac: net.HardwareAddr{0x0a, 0xf1, 0, 0, byte(i >> 8), byte(i)}, xid: uint32(i)}
}

// flood sends n DISCOVERs from new clients, from floodClient(from) on,
// and returns how many got a held offer and how many an unheld one.
func (e *env) flood(from, n int) (held, unheld int) {
	e.t.Helper()
	for i := from; i < from+n; i++ {
		out, _ := e.handle(floodClient(i).packet(dhcpv4.Discover), direct())
		switch out.Reason {
		case ReasonOffer:
			held++
		case ReasonOfferUnheld:
			unheld++
		default:
			e.t.Fatalf("flood DISCOVER %d: %v, want an offer", i, out.Reason)
		}
	}
	return held, unheld
}

// The pool of testConfig's first subnet has 10 addresses: at 50%, five
// offers are held.
func TestOfferLimit(t *testing.T) {
	limit50 := func(c *config.Config) { c.OfferLimit = 50 }
	t.Run("a flood of new clients holds at most the limit", func(t *testing.T) {
		e := newEnv(t, limit50)
		held, unheld := e.flood(0, 40)
		if held != 5 || unheld != 35 {
			t.Errorf("%d offers held, %d unheld; want 5 and 35", held, unheld)
		}
		if n := e.offersHeld(e.eng.subnets[0]); n != 5 {
			t.Errorf("%d offers held after the flood, want 5", n)
		}
	})
	t.Run("RFC2131 4.3.1 a new client beyond the limit gets an address it can take", func(t *testing.T) {
		e := newEnv(t, limit50)
		e.flood(0, 40)
		c := newClient(1)
		out, offer := e.handle(c.packet(dhcpv4.Discover), direct())
		if out.Reason != ReasonOfferUnheld || out.Action != Reply || offer.MessageType() != dhcpv4.Offer {
			t.Fatalf("DISCOVER: %v, want an unheld offer", out.Reason)
		}
		sid, _ := offer.Options.Addr(dhcpv4.OptServerID)
		out, ack := e.handle(c.packet(dhcpv4.Request, option{dhcpv4.OptServerID, sid.AsSlice()},
			option{dhcpv4.OptRequestedIP, offer.YIAddr.AsSlice()}), direct())
		if out.Reason != ReasonAck || ack.YIAddr != offer.YIAddr {
			t.Fatalf("REQUEST for %v: %v, want ack", offer.YIAddr, out.Reason)
		}
		if l, ok := e.stored(offer.YIAddr); !ok || l.HW.String() != c.mac.String() {
			t.Errorf("stored lease of %v: %+v %v", offer.YIAddr, l, ok)
		}
	})
	t.Run("unheld offers go to different addresses", func(t *testing.T) {
		e := newEnv(t, limit50)
		e.flood(0, 5)
		seen := map[netip.Addr]bool{}
		for i := range 5 {
			out, offer := e.handle(newClient(byte(100+i)).packet(dhcpv4.Discover), direct())
			if out.Reason != ReasonOfferUnheld {
				t.Fatalf("DISCOVER %d: %v, want offer-unheld", i, out.Reason)
			}
			if seen[offer.YIAddr] {
				t.Errorf("%v offered twice", offer.YIAddr)
			}
			seen[offer.YIAddr] = true
		}
	})
	t.Run("a client with a reservation is held beyond the limit", func(t *testing.T) {
		e := newEnv(t, limit50)
		e.flood(0, 40)
		printer := newClient(0x50)
		out, offer := e.handle(printer.packet(dhcpv4.Discover), direct())
		if out.Reason != ReasonOffer || offer.YIAddr != mustAddr("198.18.0.50") {
			t.Errorf("DISCOVER: %v %v, want a held offer of 198.18.0.50", out.Reason, out.Addr)
		}
	})
	t.Run("a client with a binding is offered its address, held, beyond the limit", func(t *testing.T) {
		e := newEnv(t, limit50)
		c := newClient(1)
		a := e.dora(c, direct())
		e.flood(0, 40)
		out, _ := e.handle(c.packet(dhcpv4.Discover), direct())
		if out.Reason != ReasonOffer || out.Addr != a {
			t.Errorf("DISCOVER: %v %v, want a held offer of %v", out.Reason, out.Addr, a)
		}
	})
	t.Run("offers that lapse, are taken or are withdrawn leave the count", func(t *testing.T) {
		e := newEnv(t, limit50)
		e.flood(0, 5)
		// One flood client takes its offer, another chooses another server.
		taker, leaver := floodClient(0), floodClient(1)
		out, offer := e.handle(taker.packet(dhcpv4.Discover), direct())
		e.handle(taker.packet(dhcpv4.Request, optAddr(dhcpv4.OptServerID, "198.18.0.1"),
			option{dhcpv4.OptRequestedIP, offer.YIAddr.AsSlice()}), direct())
		e.handle(leaver.packet(dhcpv4.Request, optAddr(dhcpv4.OptServerID, "198.18.0.99"), optAddr(dhcpv4.OptRequestedIP, "198.18.0.11")), direct())
		if n := e.offersHeld(e.eng.subnets[0]); n != 3 || out.Reason != ReasonOffer {
			t.Fatalf("%d offers held after one taken and one withdrawn, want 3", n)
		}
		if held, _ := e.flood(100, 7); held != 2 {
			t.Errorf("%d new offers held, want 2", held)
		}
		e.now = e.now.Add(e.cfg.OfferHold + time.Second)
		e.eng.Sweep()
		if n := e.offersHeld(e.eng.subnets[0]); n != 0 {
			t.Errorf("%d offers held once they lapsed, want 0", n)
		}
		if held, _ := e.flood(200, 3); held != 3 {
			t.Errorf("%d offers held after the others lapsed, want 3", held)
		}
	})
	for _, pct := range []int{0, 100} {
		t.Run("offer-limit "+map[int]string{0: "0", 100: "100%"}[pct]+" holds every offer", func(t *testing.T) {
			e := newEnv(t, func(c *config.Config) { c.OfferLimit = pct })
			for i := range 10 {
				if out, _ := e.handle(floodClient(i).packet(dhcpv4.Discover), direct()); out.Reason != ReasonOffer {
					t.Fatalf("DISCOVER %d: %v, want offer", i, out.Reason)
				}
			}
			if out, _ := e.handle(floodClient(10).packet(dhcpv4.Discover), direct()); out.Reason != ReasonExhausted {
				t.Errorf("DISCOVER 10: %v, want pool-exhausted", out.Reason)
			}
		})
	}
}

package server

import (
	"net/netip"
	"testing"
	"time"

	"leased/dhcpv4"
	"leased/lease"
)

// TestAckRenewalSaysWhetherTheClientHeldTheAddress: the DHCPACK of a new
// binding is no renewal; the next one, to the same client for the same
// address, is.
func TestAckRenewalSaysWhetherTheClientHeldTheAddress(t *testing.T) {
	e := newEnv(t, nil)
	c := newClient(1)
	out, offer := e.handle(c.packet(dhcpv4.Discover), direct())
	sid, _ := offer.Options.Addr(dhcpv4.OptServerID)
	out, _ = e.handle(c.packet(dhcpv4.Request,
		option{dhcpv4.OptServerID, sid.AsSlice()}, option{dhcpv4.OptRequestedIP, offer.YIAddr.AsSlice()}), direct())
	if out.Reason != ReasonAck || out.Renewal {
		t.Fatalf("first ACK: reason %v renewal %v, want ack, false", out.Reason, out.Renewal)
	}
	a := offer.YIAddr
	e.now = e.now.Add(30 * time.Minute)
	p := c.packet(dhcpv4.Request)
	p.CIAddr = a
	out, _ = e.handle(p, unicastTo(a))
	if out.Reason != ReasonAck || !out.Renewal {
		t.Fatalf("renewal: reason %v renewal %v, want ack, true", out.Reason, out.Renewal)
	}
}

// TestSweepExpiredTellsEachExpiredBoundLease: SweepExpired reports a bound
// lease that ran out, once, with its address and subnet.
func TestSweepExpiredTellsEachExpiredBoundLease(t *testing.T) {
	e := newEnv(t, nil)
	a := e.dora(newClient(1), direct())
	e.now = e.now.Add(2 * time.Hour)
	var got []netip.Addr
	var subnets []netip.Prefix
	e.eng.SweepExpired(func(p netip.Prefix, l *lease.Lease) {
		got = append(got, l.Addr)
		subnets = append(subnets, p)
		if l.State != lease.Expired {
			t.Errorf("state %v, want expired", l.State)
		}
	})
	if len(got) != 1 || got[0] != a || !subnets[0].Contains(a) {
		t.Fatalf("expired %v in %v, want [%v]", got, subnets, a)
	}
	got = nil
	e.eng.SweepExpired(func(_ netip.Prefix, l *lease.Lease) { got = append(got, l.Addr) })
	if len(got) != 0 {
		t.Fatalf("second sweep told %v again", got)
	}
}

package client

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"testing"
	"time"

	"leased/dhcpv4"
)

// inState returns a harness whose machine is in one of the states that
// wait for replies, picked by n.
func inState(t *testing.T, n uint8) *harness {
	t.Helper()
	switch n % 6 {
	case 0: // SELECTING
		h := newHarness(t, nil)
		h.start(nil)
		return h
	case 1: // REQUESTING
		h := newHarness(t, func(c *Config) { c.OfferWait = -1 })
		disc, _ := sent(t, h.start(nil))
		h.recv(reply(disc, dhcpv4.Offer, addrA, serverA, leaseOpts(time.Hour)))
		return h
	case 2: // RENEWING
		h := newHarness(t, nil)
		h.bound(time.Hour)
		h.fire()
		return h
	case 3: // REBINDING
		h := newHarness(t, nil)
		h.bound(time.Hour)
		h.fireUntil(Rebinding)
		return h
	case 4: // REBOOTING
		h := newHarness(t, nil)
		h.start(&Lease{Addr: netip.PrefixFrom(addrA, 24), LeaseTime: time.Hour, Start: t0})
		return h
	default: // INFORMING
		h := newHarness(t, func(c *Config) { c.Inform = netip.MustParsePrefix("198.18.0.10/24") })
		h.start(nil)
		return h
	}
}

// FuzzReceive feeds arbitrary messages, made to look like replies to the
// exchange in progress, to a machine in each waiting state. It must not
// panic, and what it does must make sense: a configured lease has a usable
// address and a positive lease time, the deadline is never in the past,
// and the state is a known one.
func FuzzReceive(f *testing.F) {
	req := &dhcpv4.Packet{Op: dhcpv4.BootRequest}
	req.SetHardwareAddr(1, testMAC)
	routes, _ := dhcpv4.AppendClasslessRoutes(nil, []dhcpv4.Route{route("0.0.0.0/0", "198.18.0.1")})
	for _, p := range []*dhcpv4.Packet{
		reply(req, dhcpv4.Offer, addrA, serverA, leaseOpts(time.Hour)),
		reply(req, dhcpv4.Ack, addrA, serverA, leaseOpts(time.Hour), opt(dhcpv4.OptClasslessRoutes, routes)),
		reply(req, dhcpv4.Ack, addrA, serverA, leaseOpts(dhcpv4.Infinite)),
		reply(req, dhcpv4.Ack, addrA, serverA, leaseOpts(time.Hour), withDuration(dhcpv4.OptRenewalTime, time.Hour)),
		reply(req, dhcpv4.Nak, netip.IPv4Unspecified(), serverA),
		reply(req, dhcpv4.Ack, netip.IPv4Unspecified(), serverA, leaseOpts(time.Hour)),
	} {
		b, err := p.Append(nil, 0)
		if err != nil {
			f.Fatal(err)
		}
		for s := range uint8(6) {
			f.Add(b, s)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte, state uint8) {
		var p dhcpv4.Packet
		if dhcpv4.Parse(b, &p) != nil {
			return
		}
		h := inState(t, state)
		p.Op = dhcpv4.BootReply
		p.XID = h.m.xid
		p.SetHardwareAddr(1, testMAC)
		acts := h.m.Receive(h.now, &p)
		if h.m.State() > Stopped {
			t.Fatalf("unknown state %v", h.m.State())
		}
		if d := h.m.Deadline(); !d.IsZero() && d.Before(h.now) {
			t.Fatalf("deadline %v before now", h.now.Sub(d))
		}
		for _, a := range acts {
			switch a := a.(type) {
			case Configure:
				if !usable(a.Lease.Addr.Addr()) || a.Lease.LeaseTime <= 0 {
					t.Fatalf("configures %+v", a.Lease)
				}
				if !a.Lease.Infinite() && !(a.Lease.T1 < a.Lease.T2 && a.Lease.T2 < a.Lease.LeaseTime) {
					t.Fatalf("T1 %v T2 %v lease %v", a.Lease.T1, a.Lease.T2, a.Lease.LeaseTime)
				}
			case Probe:
				if !usable(a.Addr) {
					t.Fatalf("probes %v", a.Addr)
				}
			}
		}
		// Whatever happened, the machine keeps going: the next timer or
		// probe result is handled without panicking.
		if d := h.m.Deadline(); !d.IsZero() {
			h.m.Timer(d)
		}
		if h.m.State() == Probing {
			h.m.ProbeResult(h.now, h.m.pending.Addr.Addr(), true)
		}
	})
}

// BenchmarkLeaseCycle measures a whole lease: DISCOVER, OFFER, REQUEST,
// ACK, probe, BOUND, renewal at T1, ACK.
func BenchmarkLeaseCycle(b *testing.B) {
	req := &dhcpv4.Packet{Op: dhcpv4.BootRequest}
	req.SetHardwareAddr(1, testMAC)
	b.ReportAllocs()
	for b.Loop() {
		rnd := &fakeRand{}
		m, err := New(Config{Interface: "eth0", HardwareAddr: testMAC, Rand: rnd, OfferWait: -1})
		if err != nil {
			b.Fatal(err)
		}
		now := t0
		m.Start(now, nil)
		req.XID = m.xid
		m.Receive(now, reply(req, dhcpv4.Offer, addrA, serverA, leaseOpts(time.Hour)))
		m.Receive(now, reply(req, dhcpv4.Ack, addrA, serverA, leaseOpts(time.Hour)))
		m.ProbeResult(now, addrA, false)
		now = m.Deadline()
		m.Timer(now)
		req.XID = m.xid
		m.Receive(now, reply(req, dhcpv4.Ack, addrA, serverA, leaseOpts(time.Hour)))
		if m.State() != Bound {
			b.Fatalf("state %v", m.State())
		}
	}
}

// FuzzLeaseJSON decodes arbitrary lease files: whatever decodes must be
// usable without panicking, and its encoding must decode again and
// encode to the same bytes (the first encoding may round T1 and T2 down to
// whole seconds, the file's resolution).
func FuzzLeaseJSON(f *testing.F) {
	b, _ := json.Marshal(fullLease())
	f.Add(b)
	f.Add([]byte(`{"address":"198.18.0.100/24","lease_time":4294967295,"start":"2026-03-01T12:00:00Z"}`))
	f.Add([]byte(`{"address":"198.18.0.100/24","lease_time":60,"routes":[{"destination":"::/0","router":"::1"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var l Lease
		if json.Unmarshal(b, &l) != nil {
			return
		}
		Hook{Reason: ReasonBound, Lease: &l, Old: &l}.Env("eth0")
		ResolvConf("eth0", &l)
		l.BroadcastAddr()
		l.EffectiveRoutes()
		out, err := json.Marshal(&l)
		if err != nil {
			t.Fatalf("decoded lease does not encode: %v", err)
		}
		var again Lease
		if err := json.Unmarshal(out, &again); err != nil {
			t.Fatalf("encoded lease does not decode: %v\n%s", err, out)
		}
		out2, err := json.Marshal(&again)
		if err != nil || !bytes.Equal(out, out2) {
			t.Fatalf("encodings differ (%v):\n%s\n%s", err, out, out2)
		}
	})
}

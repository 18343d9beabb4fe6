package server

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"

	"leased/config"
	"leased/dhcpv4"
	"leased/lease"
)

// sharedConfig puts a second subnet on each link of testConfig: the
// direct link's 198.18.0.0/24 (cut to two addresses) shares it with
// 198.18.1.0/24, the relayed 198.19.0.0/24 (two addresses) with
// 198.19.1.0/24.
func sharedConfig(c *config.Config) {
	c.Subnets[0].Pools = []config.Range{{First: mustAddr("198.18.0.10"), Last: mustAddr("198.18.0.11")}}
	c.Subnets = append(c.Subnets,
		config.Subnet{
			Prefix:    netip.MustParsePrefix("198.18.1.0/24"),
			Pools:     []config.Range{{First: mustAddr("198.18.1.10"), Last: mustAddr("198.18.1.19")}},
			LeaseTime: time.Hour,
			Options:   []config.Option{{Code: dhcpv4.OptRouter, Value: addrs("198.18.1.1")}},
		},
		config.Subnet{
			Prefix:    netip.MustParsePrefix("198.19.1.0/24"),
			Pools:     []config.Range{{First: mustAddr("198.19.1.10"), Last: mustAddr("198.19.1.19")}},
			LeaseTime: time.Hour,
			Options:   []config.Option{{Code: dhcpv4.OptRouter, Value: addrs("198.19.1.1")}},
		})
	c.SharedNetworks = []config.SharedNetwork{
		{Name: "lan", Subnets: []netip.Prefix{netip.MustParsePrefix("198.18.0.0/24"), netip.MustParsePrefix("198.18.1.0/24")}},
		{Name: "remote", Subnets: []netip.Prefix{netip.MustParsePrefix("198.19.0.0/24"), netip.MustParsePrefix("198.19.1.0/24")}},
	}
}

var (
	lanSecondary    = netip.MustParsePrefix("198.18.1.0/24")
	remoteSecondary = netip.MustParsePrefix("198.19.1.0/24")
)

func TestSharedNetworkServesFromNextSubnetWhenFull(t *testing.T) {
	tests := []struct {
		name      string
		relayed   bool
		linkSel   bool
		secondary netip.Prefix
		router    string
	}{
		{"direct client, primary full -> offer from the secondary subnet", false, false, lanSecondary, "198.18.1.1"},
		{"relayed client, primary full -> offer from the secondary subnet", true, false, remoteSecondary, "198.19.1.1"},
		{"RFC3527 link selection picks the shared network first, then the secondary", true, true, remoteSecondary, "198.19.1.1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, sharedConfig)
			prep := func(p *dhcpv4.Packet) (*dhcpv4.Packet, Arrival) {
				if !tc.relayed {
					return p, direct()
				}
				if tc.linkSel {
					p.Options.Set(dhcpv4.OptRelayAgentInfo, dhcpv4.AppendSubOption(nil, dhcpv4.RelayLinkSelection, addrs("198.19.0.0")))
					p.GIAddr = mustAddr("198.18.0.254")
					return p, relayed()
				}
				return relayedVia(p, relayAddr), relayed()
			}
			// Fill the primary's two addresses.
			for i := byte(1); i <= 2; i++ {
				c := newClient(i)
				p, in := prep(c.packet(dhcpv4.Discover))
				out, offer := e.handle(p, in)
				if out.Reason != ReasonOffer || tc.secondary.Contains(offer.YIAddr) {
					t.Fatalf("client %d: %v %v, want an offer from the primary", i, out.Reason, offer)
				}
			}
			c := newClient(3)
			p, in := prep(c.packet(dhcpv4.Discover))
			out, offer := e.handle(p, in)
			if out.Reason != ReasonOffer || !tc.secondary.Contains(offer.YIAddr) {
				t.Fatalf("third client: %v %v, want an offer from %v", out.Reason, offer, tc.secondary)
			}
			if out.Subnet != tc.secondary {
				t.Errorf("outcome subnet %v, want %v", out.Subnet, tc.secondary)
			}
			if r, _ := offer.Options.Addr(dhcpv4.OptRouter); r.String() != tc.router {
				t.Errorf("router %v, want the secondary subnet's %s", r, tc.router)
			}
			if m, _ := offer.Options.Addr(dhcpv4.OptSubnetMask); m != mustAddr("255.255.255.0") {
				t.Errorf("mask %v", m)
			}
			sid, _ := offer.Options.Addr(dhcpv4.OptServerID)
			p, in = prep(c.packet(dhcpv4.Request, option{dhcpv4.OptServerID, sid.AsSlice()}, option{dhcpv4.OptRequestedIP, offer.YIAddr.AsSlice()}))
			if out, ack := e.handle(p, in); out.Reason != ReasonAck || ack.YIAddr != offer.YIAddr {
				t.Fatalf("REQUEST in the secondary subnet: %v, want ack of %v", out.Reason, offer.YIAddr)
			}
		})
	}
}

func TestSharedNetworkWithoutItPrimaryFullIsExhausted(t *testing.T) {
	e := newEnv(t, func(c *config.Config) { sharedConfig(c); c.SharedNetworks = nil })
	e.dora(newClient(1), direct())
	e.dora(newClient(2), direct())
	if out, _ := e.handle(newClient(3).packet(dhcpv4.Discover), direct()); out.Reason != ReasonExhausted {
		t.Fatalf("got %v, want pool-exhausted", out.Reason)
	}
}

func TestSharedNetworkRequestsInTheSecondarySubnet(t *testing.T) {
	e := newEnv(t, sharedConfig)
	e.dora(newClient(1), direct())
	e.dora(newClient(2), direct())
	c := newClient(3)
	a := e.dora(c, direct())
	if !lanSecondary.Contains(a) {
		t.Fatalf("third client bound %v, want the secondary subnet", a)
	}
	tests := []struct {
		name string
		req  func() (*dhcpv4.Packet, Arrival)
		want Reason
	}{
		{"RFC2131 4.3.2 INIT-REBOOT for an address of the other subnet of the shared network -> ACK, not NAK", func() (*dhcpv4.Packet, Arrival) {
			return c.packet(dhcpv4.Request, optAddr(dhcpv4.OptRequestedIP, a.String())), direct()
		}, ReasonAck},
		{"RFC2131 4.3.2 RENEWING in the secondary subnet -> ACK", func() (*dhcpv4.Packet, Arrival) {
			p := c.packet(dhcpv4.Request)
			p.CIAddr = a
			return p, unicastTo(a)
		}, ReasonAck},
		{"RFC2131 4.3.2 REBINDING (broadcast) in the secondary subnet -> ACK", func() (*dhcpv4.Packet, Arrival) {
			p := c.packet(dhcpv4.Request)
			p.CIAddr = a
			in := direct()
			in.Src = netip.AddrPortFrom(a, 68)
			return p, in
		}, ReasonAck},
		{"RFC2131 4.3.2 INIT-REBOOT for an address outside the shared network -> NAK", func() (*dhcpv4.Packet, Arrival) {
			return c.packet(dhcpv4.Request, optAddr(dhcpv4.OptRequestedIP, "198.19.1.10")), direct()
		}, ReasonNakNetwork},
		{"RFC2131 4.3.2 INIT-REBOOT for another client's address in the secondary -> NAK", func() (*dhcpv4.Packet, Arrival) {
			return newClient(4).packet(dhcpv4.Request, optAddr(dhcpv4.OptRequestedIP, a.String())), direct()
		}, ReasonNakAddress},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, in := tc.req()
			out, reply := e.handle(p, in)
			if out.Reason != tc.want {
				t.Fatalf("got %v, want %v", out.Reason, tc.want)
			}
			if tc.want == ReasonAck && reply.YIAddr != a {
				t.Errorf("ACK of %v, want %v", reply.YIAddr, a)
			}
		})
	}
	// With room in the primary again, the client keeps its address in
	// the secondary (RFC 2131 §4.3.1: its current binding first).
	e.release(newClient(1), mustAddr("198.18.0.10"))
	out, offer := e.handle(c.packet(dhcpv4.Discover), direct())
	if out.Reason != ReasonOffer || offer.YIAddr != a {
		t.Fatalf("rediscover: %v %v, want its binding %v", out.Reason, offer, a)
	}
}

// BenchmarkDORASharedSecondary measures a DISCOVER and a REQUEST for
// known clients bound in the secondary subnet of a shared network, whose
// primary is full: the extra cost of a shared network on the hot path.
func BenchmarkDORASharedSecondary(b *testing.B) {
	cfg := testConfig()
	sharedConfig(cfg)
	cfg.Subnets[2].Pools[0] = config.Range{First: mustAddr("198.18.1.10"), Last: mustAddr("198.18.1.249")}
	now := t0
	eng, err := New(cfg, &lease.Memory{}, func() time.Time { return now })
	if err != nil {
		b.Fatal(err)
	}
	const n = 200
	discovers := make([]*dhcpv4.Packet, n)
	requests := make([]*dhcpv4.Packet, n)
	in := direct()
	var reply dhcpv4.Packet
	ctx := context.Background()
	for i := range n + 2 {
		c := &client{mac: net.HardwareAddr{2, 0, 0, 1, byte(i >> 8), byte(i)}, xid: uint32(i), prl: []byte{1, 3, 6, 15, 51, 54}}
		d := c.packet(dhcpv4.Discover)
		eng.Handle(ctx, d, in, &reply)
		r := c.packet(dhcpv4.Request, optAddr(dhcpv4.OptServerID, "198.18.0.1"), option{dhcpv4.OptRequestedIP, reply.YIAddr.AsSlice()})
		eng.Handle(ctx, r, in, &reply)
		if i >= 2 {
			discovers[i-2], requests[i-2] = d, r
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		k := i % n
		if out := eng.Handle(ctx, discovers[k], in, &reply); out.Reason != ReasonOffer || out.Subnet != lanSecondary {
			b.Fatal(out.Reason, out.Subnet)
		}
		if out := eng.Handle(ctx, requests[k], in, &reply); out.Reason != ReasonAck {
			b.Fatal(out.Reason)
		}
	}
}

func TestSharedNetworkInformGetsItsOwnSubnetsOptions(t *testing.T) {
	tests := []struct {
		name   string
		ciaddr string
		in     func(a netip.Addr) Arrival
		router string
	}{
		{"RFC2131 4.3.5 INFORM broadcast from the secondary subnet -> its options", "198.18.1.50", func(netip.Addr) Arrival { return direct() }, "198.18.1.1"},
		{"RFC2131 4.3.5 INFORM unicast from the secondary subnet -> its options", "198.18.1.50", unicastTo, "198.18.1.1"},
		{"RFC2131 4.3.5 INFORM broadcast from the primary subnet -> its options", "198.18.0.50", func(netip.Addr) Arrival { return direct() }, "198.18.0.1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, sharedConfig)
			p := newClient(1).packet(dhcpv4.Inform)
			p.CIAddr = mustAddr(tc.ciaddr)
			out, ack := e.handle(p, tc.in(p.CIAddr))
			if out.Reason != ReasonInformAck {
				t.Fatalf("got %v", out.Reason)
			}
			if r, _ := ack.Options.Addr(dhcpv4.OptRouter); r.String() != tc.router {
				t.Errorf("router %v, want %s", r, tc.router)
			}
		})
	}
}

// TestSharedNetworkReleaseAndDeclineSourceCheck: a DHCPRELEASE or
// DHCPDECLINE of an address in the secondary subnet comes from the link
// of the shared network, whose interface or relay has an address in the
// primary subnet only: it is the holder's, not a wrong source.
func TestSharedNetworkReleaseAndDeclineSourceCheck(t *testing.T) {
	fill := func(e *env, relayedLink bool) (*client, netip.Addr) {
		for i := byte(1); i <= 2; i++ {
			if relayedLink {
				e.relayedDORA(newClient(i))
			} else {
				e.dora(newClient(i), direct())
			}
		}
		c := newClient(3)
		if relayedLink {
			return c, e.relayedDORA(c)
		}
		return c, e.dora(c, direct())
	}
	tests := []struct {
		name    string
		relayed bool
		send    func(c *client, a netip.Addr) (*dhcpv4.Packet, Arrival)
		want    Reason
	}{
		{"RFC2131 4.4.4 DECLINE broadcast on the shared link of a secondary address", false, func(c *client, a netip.Addr) (*dhcpv4.Packet, Arrival) {
			return c.packet(dhcpv4.Decline, optAddr(dhcpv4.OptRequestedIP, a.String()), optAddr(dhcpv4.OptServerID, "198.18.0.1")), direct()
		}, ReasonDeclined},
		{"DECLINE of a secondary address arriving on another link -> wrong source", false, func(c *client, a netip.Addr) (*dhcpv4.Packet, Arrival) {
			return c.packet(dhcpv4.Decline, optAddr(dhcpv4.OptRequestedIP, a.String()), optAddr(dhcpv4.OptServerID, "198.19.0.1")), secondLink()
		}, ReasonWrongSource},
		{"RFC2131 4.4.4 RELEASE through the relay of the shared link of a secondary address", true, func(c *client, a netip.Addr) (*dhcpv4.Packet, Arrival) {
			p := c.packet(dhcpv4.Release, optAddr(dhcpv4.OptServerID, "198.18.0.1"))
			p.CIAddr = a
			return relayedVia(p, relayAddr), relayed()
		}, ReasonReleased},
		{"RFC2131 4.4.4 DECLINE through the relay of the shared link of a secondary address", true, func(c *client, a netip.Addr) (*dhcpv4.Packet, Arrival) {
			p := c.packet(dhcpv4.Decline, optAddr(dhcpv4.OptRequestedIP, a.String()), optAddr(dhcpv4.OptServerID, "198.18.0.1"))
			return relayedVia(p, relayAddr), relayed()
		}, ReasonDeclined},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(c *config.Config) { sharedConfig(c); c.CheckReleaseSource = true })
			c, a := fill(e, tc.relayed)
			want := lanSecondary
			if tc.relayed {
				want = remoteSecondary
			}
			if !want.Contains(a) {
				t.Fatalf("lease %v, want one in %v", a, want)
			}
			p, in := tc.send(c, a)
			if out, _ := e.handle(p, in); out.Reason != tc.want {
				t.Fatalf("got %v, want %v", out.Reason, tc.want)
			}
		})
	}
}

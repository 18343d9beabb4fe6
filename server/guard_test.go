package server

import (
	"net"
	"net/netip"
	"testing"

	"leased/config"
	"leased/dhcpv4"
	"leased/lease"
)

func TestRelayAddressMustBeUnicastAndNotOurs(t *testing.T) {
	ownElsewhere := mustAddr("198.19.5.5") // an address of the server on another interface
	sid := mustAddr("198.18.0.9")          // the configured server identifier
	tests := []struct {
		name   string
		giaddr string
		typ    dhcpv4.MessageType
		src    string // the datagram's source; the relay's when empty
		want   Reason
	}{
		{"directed broadcast of a served subnet", "198.18.0.255", dhcpv4.Discover, "", ReasonBadGIAddr},
		{"directed broadcast of a served subnet, REQUEST that would be NAKed", "198.18.0.255", dhcpv4.Request, "", ReasonBadGIAddr},
		{"directed broadcast of another served subnet", "198.19.0.255", dhcpv4.Discover, "", ReasonBadGIAddr},
		{"network address of a served subnet", "198.19.0.0", dhcpv4.Discover, "", ReasonBadGIAddr},
		{"limited broadcast", "255.255.255.255", dhcpv4.Discover, "", ReasonBadGIAddr},
		{"reserved class E", "240.0.0.1", dhcpv4.Discover, "", ReasonBadGIAddr},
		{"multicast", "224.0.0.1", dhcpv4.Request, "", ReasonBadGIAddr},
		{"this network 0/8", "0.0.0.1", dhcpv4.Discover, "", ReasonBadGIAddr},
		{"loopback", "127.0.0.1", dhcpv4.Discover, "", ReasonBadGIAddr},
		{"the arrival interface's address", "198.18.0.1", dhcpv4.Discover, "", ReasonBadGIAddr},
		{"an address of the server on another interface", ownElsewhere.String(), dhcpv4.Discover, "", ReasonBadGIAddr},
		{"the configured server identifier", sid.String(), dhcpv4.Discover, "", ReasonBadGIAddr},
		{"a unicast relay address is served", "198.19.0.1", dhcpv4.Discover, "", ReasonOffer},
		{"a relay on this host may name itself", "127.0.0.1", dhcpv4.Discover, "127.0.0.1", ReasonNoSubnet},
		{"a relay on this host, sending from one of its addresses, may name another", ownElsewhere.String(), dhcpv4.Discover, "198.18.0.1", ReasonNoSubnet},
		{"a relay on this host may name the arrival interface's address", "198.18.0.1", dhcpv4.Discover, "198.18.0.1", ReasonOffer},
		{"a relay on this host may not name a broadcast address", "198.18.0.255", dhcpv4.Discover, "127.0.0.1", ReasonBadGIAddr},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(c *config.Config) { c.ServerID = sid })
			p := newClient(1).packet(tc.typ)
			p.GIAddr = mustAddr(tc.giaddr)
			if tc.typ == dhcpv4.Request {
				p.Options.SetAddr(dhcpv4.OptRequestedIP, mustAddr("198.20.0.7")) // wrong network: a NAK
			}
			in := relayed()
			in.Local = []netip.Addr{serverAddr, ownElsewhere}
			if tc.src != "" {
				in.Src = netip.AddrPortFrom(mustAddr(tc.src), 67)
			}
			out, reply := e.handle(p, in)
			if out.Reason != tc.want {
				t.Fatalf("giaddr %s: got %v, want %v", tc.giaddr, out.Reason, tc.want)
			}
			if tc.want == ReasonBadGIAddr && (out.Action != Drop || reply != nil) {
				t.Errorf("giaddr %s: a reply was made: %v", tc.giaddr, out.Action)
			}
		})
	}
}

// relayedVia returns p relayed by the relay agent at giaddr.
func relayedVia(p *dhcpv4.Packet, giaddr netip.Addr) *dhcpv4.Packet {
	p.GIAddr = giaddr
	return p
}

func TestReleaseAndDeclineSourceCheck(t *testing.T) {
	otherHost := mustAddr("198.18.0.77")
	otherMAC := lease.HardwareAddr{Type: 1, Len: 6, Addr: [16]byte{2, 0, 0, 0, 0, 0x77}}
	tests := []struct {
		name    string
		check   bool
		relayed bool // the lease was obtained through the relay at relayAddr
		// send builds the message about the client's address a, and where
		// it arrives.
		send func(c *client, a netip.Addr) (*dhcpv4.Packet, Arrival)
		want Reason
	}{
		{"RFC2131 4.4.4 RELEASE unicast from the lease's address", true, false, func(c *client, a netip.Addr) (*dhcpv4.Packet, Arrival) {
			p := c.packet(dhcpv4.Release)
			p.CIAddr = a
			return p, unicastTo(a)
		}, ReasonReleased},
		{"RELEASE from another host's address", true, false, func(c *client, a netip.Addr) (*dhcpv4.Packet, Arrival) {
			p := c.packet(dhcpv4.Release)
			p.CIAddr = a
			return p, unicastTo(otherHost)
		}, ReasonWrongSource},
		{"RELEASE broadcast from 0.0.0.0", true, false, func(c *client, a netip.Addr) (*dhcpv4.Packet, Arrival) {
			p := c.packet(dhcpv4.Release)
			p.CIAddr = a
			return p, direct()
		}, ReasonWrongSource},
		{"RELEASE from another host's address, check off", false, false, func(c *client, a netip.Addr) (*dhcpv4.Packet, Arrival) {
			p := c.packet(dhcpv4.Release)
			p.CIAddr = a
			return p, unicastTo(otherHost)
		}, ReasonReleased},
		{"RELEASE with the client identifier and another chaddr", true, false, func(c *client, a netip.Addr) (*dhcpv4.Packet, Arrival) {
			c.mac = net.HardwareAddr{2, 0, 0, 0, 0, 0x77}
			p := c.packet(dhcpv4.Release)
			p.CIAddr = a
			return p, unicastTo(a)
		}, ReasonWrongSource},
		{"RELEASE in a frame from another hardware address", true, false, func(c *client, a netip.Addr) (*dhcpv4.Packet, Arrival) {
			p := c.packet(dhcpv4.Release)
			p.CIAddr = a
			in := unicastTo(a)
			in.SrcHW = otherMAC
			return p, in
		}, ReasonWrongSource},
		{"RELEASE in a frame from the lease's hardware address", true, false, func(c *client, a netip.Addr) (*dhcpv4.Packet, Arrival) {
			p := c.packet(dhcpv4.Release)
			p.CIAddr = a
			in := unicastTo(a)
			in.SrcHW = lease.HardwareAddr{Type: 1, Len: 6}
			copy(in.SrcHW.Addr[:], c.mac)
			return p, in
		}, ReasonReleased},
		{"RELEASE from another client is no binding", true, false, func(c *client, a netip.Addr) (*dhcpv4.Packet, Arrival) {
			p := newClient(9).packet(dhcpv4.Release)
			p.CIAddr = a
			return p, unicastTo(a)
		}, ReasonNoBinding},
		{"RFC2131 4.4.4 DECLINE broadcast from 0.0.0.0 on the client's link", true, false, func(c *client, a netip.Addr) (*dhcpv4.Packet, Arrival) {
			return c.packet(dhcpv4.Decline, option{dhcpv4.OptRequestedIP, a.AsSlice()}), direct()
		}, ReasonDeclined},
		{"DECLINE from another host's address", true, false, func(c *client, a netip.Addr) (*dhcpv4.Packet, Arrival) {
			in := direct()
			in.Src = netip.AddrPortFrom(otherHost, 68)
			return c.packet(dhcpv4.Decline, option{dhcpv4.OptRequestedIP, a.AsSlice()}), in
		}, ReasonWrongSource},
		{"DECLINE from another host's address, check off", false, false, func(c *client, a netip.Addr) (*dhcpv4.Packet, Arrival) {
			in := direct()
			in.Src = netip.AddrPortFrom(otherHost, 68)
			return c.packet(dhcpv4.Decline, option{dhcpv4.OptRequestedIP, a.AsSlice()}), in
		}, ReasonDeclined},
		{"DECLINE arriving on another link", true, false, func(c *client, a netip.Addr) (*dhcpv4.Packet, Arrival) {
			in := direct()
			in.IfName, in.IfAddrs = "eth1", []netip.Prefix{netip.MustParsePrefix("198.19.0.1/24")}
			return c.packet(dhcpv4.Decline, option{dhcpv4.OptRequestedIP, a.AsSlice()}), in
		}, ReasonWrongSource},
		{"DECLINE with the client identifier and another chaddr", true, false, func(c *client, a netip.Addr) (*dhcpv4.Packet, Arrival) {
			c.mac = net.HardwareAddr{2, 0, 0, 0, 0, 0x77}
			return c.packet(dhcpv4.Decline, option{dhcpv4.OptRequestedIP, a.AsSlice()}), direct()
		}, ReasonWrongSource},
		{"relayed RELEASE from a relay of the lease's subnet", true, true, func(c *client, a netip.Addr) (*dhcpv4.Packet, Arrival) {
			p := relayedVia(c.packet(dhcpv4.Release), relayAddr)
			p.CIAddr = a
			return p, relayed()
		}, ReasonReleased},
		{"relayed RELEASE from a relay of another subnet", true, true, func(c *client, a netip.Addr) (*dhcpv4.Packet, Arrival) {
			p := relayedVia(c.packet(dhcpv4.Release), mustAddr("198.18.0.2"))
			p.CIAddr = a
			return p, relayed()
		}, ReasonWrongSource},
		{"relayed DECLINE from a relay of the lease's subnet", true, true, func(c *client, a netip.Addr) (*dhcpv4.Packet, Arrival) {
			return relayedVia(c.packet(dhcpv4.Decline, option{dhcpv4.OptRequestedIP, a.AsSlice()}), relayAddr), relayed()
		}, ReasonDeclined},
		{"relayed DECLINE from a relay of another subnet", true, true, func(c *client, a netip.Addr) (*dhcpv4.Packet, Arrival) {
			return relayedVia(c.packet(dhcpv4.Decline, option{dhcpv4.OptRequestedIP, a.AsSlice()}), mustAddr("198.18.0.2")), relayed()
		}, ReasonWrongSource},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(c *config.Config) { c.CheckReleaseSource = tc.check })
			c := newClient(1)
			c.cid = []byte{1, 2, 0, 0, 0, 0, 1}
			var a netip.Addr
			if tc.relayed {
				a = e.relayedDORA(c)
			} else {
				a = e.dora(c, direct())
			}
			p, in := tc.send(c, a)
			out, reply := e.handle(p, in)
			if out.Reason != tc.want || reply != nil {
				t.Fatalf("got %v (reply %v), want %v", out.Reason, reply != nil, tc.want)
			}
			l, _ := e.stored(a)
			if tc.want == ReasonWrongSource || tc.want == ReasonNoBinding {
				if l.State != lease.Bound {
					t.Errorf("the refused message changed the lease: %v", l.State)
				}
			} else if l.State == lease.Bound {
				t.Errorf("the lease is still bound after %v", tc.want)
			}
		})
	}
}

// relayedDORA runs DISCOVER, OFFER, REQUEST, ACK through the relay at
// relayAddr and returns the acknowledged address.
func (e *env) relayedDORA(c *client) netip.Addr {
	e.t.Helper()
	out, offer := e.handle(relayedVia(c.packet(dhcpv4.Discover), relayAddr), relayed())
	if out.Reason != ReasonOffer {
		e.t.Fatalf("relayed DISCOVER: got %v, want offer", out.Reason)
	}
	sid, _ := offer.Options.Addr(dhcpv4.OptServerID)
	req := relayedVia(c.packet(dhcpv4.Request, option{dhcpv4.OptServerID, sid.AsSlice()},
		option{dhcpv4.OptRequestedIP, offer.YIAddr.AsSlice()}), relayAddr)
	if out, _ := e.handle(req, relayed()); out.Reason != ReasonAck {
		e.t.Fatalf("relayed REQUEST: got %v, want ack", out.Reason)
	}
	return offer.YIAddr
}

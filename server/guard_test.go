package server

import (
	"net/netip"
	"testing"

	"leased/config"
	"leased/dhcpv4"
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

package netio

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"leased/dhcpv4"
	"leased/lease"
)

// TestUnicastFromClientOnInterfaceNotServed: a client on a relay's network
// renews and releases by unicast from its address straight to the server
// (RFC 2131 §4.4.5, §4.4.6), so its messages arrive on the interface
// towards the relay, which need not be among those served; they are
// handled as relayed requests are. A direct broadcast-style request there
// is still dropped as foreign.
func TestUnicastFromClientOnInterfaceNotServed(t *testing.T) {
	relay, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer relay.Close()
	leased := netip.MustParseAddr("127.0.0.15")
	client, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(leased, 0)))
	if err != nil {
		t.Skipf("cannot bind %v: %v", leased, err)
	}
	defer client.Close()
	srv, store := loopbackServerWith(t, uint16(relay.LocalAddr().(*net.UDPAddr).Port), func(o *Options) {
		o.Interfaces = []string{"nosuch0"} // not the loopback interface
		o.ClientPort = uint16(client.LocalAddr().(*net.UDPAddr).Port)
	})
	to := srv.LocalAddr()

	// The lease, through the relay.
	offer := exchange(t, relay, to, relayedRequest(t, dhcpv4.Discover, 1, func(p *dhcpv4.Packet) {
		p.Options.SetAddr(dhcpv4.OptRequestedIP, leased)
	}))
	sid, _ := offer.Options.Addr(dhcpv4.OptServerID)
	if offer.YIAddr != leased {
		t.Fatalf("offered %v, want the requested %v", offer.YIAddr, leased)
	}
	ack := exchange(t, relay, to, relayedRequest(t, dhcpv4.Request, 1, func(p *dhcpv4.Packet) {
		p.Options.SetAddr(dhcpv4.OptServerID, sid)
		p.Options.SetAddr(dhcpv4.OptRequestedIP, leased)
	}))
	if ack.MessageType() != dhcpv4.Ack {
		t.Fatalf("relayed REQUEST: got %v", ack)
	}

	fromClient := func(typ dhcpv4.MessageType, ciaddr netip.Addr, set func(*dhcpv4.Packet)) []byte {
		p := &dhcpv4.Packet{Op: dhcpv4.BootRequest, XID: 0xc11e47, CIAddr: ciaddr}
		p.SetHardwareAddr(1, []byte{2, 0, 0, 0, 0, 1})
		p.Options.SetMessageType(typ)
		if set != nil {
			set(p)
		}
		b, err := p.Append(nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	// RENEWING: unicast from ciaddr, answered to ciaddr.
	renewed := exchange(t, client, to, fromClient(dhcpv4.Request, leased, nil))
	if renewed.MessageType() != dhcpv4.Ack || renewed.YIAddr != leased {
		t.Fatalf("unicast renewal on an interface not served: got %v", renewed)
	}
	// DHCPRELEASE: unicast from ciaddr; the lease ends.
	if _, err := client.WriteToUDPAddrPort(fromClient(dhcpv4.Release, leased, func(p *dhcpv4.Packet) {
		p.Options.SetAddr(dhcpv4.OptServerID, sid)
	}), to); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the lease to be released", func() bool {
		l, ok := store.Get(leased)
		return ok && l.State == lease.Released
	})
	// A DISCOVER, not relayed, on that interface is still not served.
	if _, err := client.WriteToUDPAddrPort(fromClient(dhcpv4.Discover, netip.IPv4Unspecified(), nil), to); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the DISCOVER to be dropped as foreign", func() bool { return srv.Stats().Foreign == 1 })
	if st := srv.Stats(); st.Outcomes["released"] != 1 || st.Outcomes["ack"] != 2 {
		t.Errorf("outcomes %v, want 2 ack and 1 released", st.Outcomes)
	}
}

// waitUntil polls cond until it holds, failing the test after 5 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

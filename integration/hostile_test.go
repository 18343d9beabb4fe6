//go:build linux

package integration

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"leased/control"
	"leased/dhcpv4"
)

// hostileBytes encodes a request of type typ from hardware address mac,
// edited by edit.
func hostileBytes(t *testing.T, typ dhcpv4.MessageType, mac string, edit func(*dhcpv4.Packet)) []byte {
	t.Helper()
	hw, err := net.ParseMAC(mac)
	if err != nil {
		t.Fatal(err)
	}
	p := &dhcpv4.Packet{Op: dhcpv4.BootRequest, XID: 0xbad0001}
	p.SetHardwareAddr(1, hw)
	p.Options.SetMessageType(typ)
	if edit != nil {
		edit(p)
	}
	b, err := p.Append(nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestHostilePackets: what another host on the link sends to abuse the
// server gets no answer and changes nothing, and is counted.
func TestHostilePackets(t *testing.T) {
	requireClientCommands(t, dhclient)
	l, srvHost, hosts := newServerLink(t, 1)
	attacker := l.addHost("attacker", "198.18.0.9/24")
	sock := ctlSocketPath(t)
	srv := startServer(t, srvHost, newStore(t), append(quickArgs(mustRange("198.18.0.100", "198.18.0.199"), time.Hour),
		"--control", sock)...)
	victim := newClient(t, dhclient, hosts[0])
	victim.start()
	leased := victim.waitLease(0).addr.Addr()

	t.Run("a DHCPRELEASE of the victim's lease from another address is refused", func(t *testing.T) {
		sendUDP(t, attacker, serverAddr+":67", hostileBytes(t, dhcpv4.Release, victim.host.mac, func(p *dhcpv4.Packet) {
			p.CIAddr = leased
			p.Options.SetAddr(dhcpv4.OptServerID, netip.MustParseAddr(serverAddr))
		}))
		srv.waitRecord(t, 0, map[string]string{"msg": "lease", "event": "wrong-source", "client": victim.host.mac, "addr": leased.String()})
		var one control.Lease
		ctlGet(t, sock, "GET", "/v1/leases/"+leased.String(), "", 200, &one)
		if one.State != "bound" {
			t.Errorf("the victim's lease is %s, want bound", one.State)
		}
	})

	t.Run("a relayed request with the subnet's broadcast address as giaddr gets no answer", func(t *testing.T) {
		sendUDP(t, attacker, serverAddr+":67", hostileBytes(t, dhcpv4.Discover, "02:c6:12:00:0b:ad", func(p *dhcpv4.Packet) {
			p.GIAddr = netip.MustParseAddr("198.18.0.255")
		}))
		srv.waitRecord(t, 0, map[string]string{"msg": "lease", "event": "bad-giaddr", "client": "02:c6:12:00:0b:ad"})
		var st control.Status
		ctlGet(t, sock, "GET", "/v1/status", "", 200, &st)
		if st.Outcomes["bad-giaddr"] != 1 {
			t.Errorf("outcomes %v, want one bad-giaddr", st.Outcomes)
		}
		if offers := srv.events("offer", "02:c6:12:00:0b:ad"); len(offers) != 0 {
			t.Errorf("offered %v to the request with a broadcast giaddr", offers)
		}
	})
}

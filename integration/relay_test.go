//go:build linux

package integration

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"leased/dhcpv4"
)

// The relay tests put the server and its clients on two routed subnets:
//
//	client (198.18.1.0/24) -- down0 relay eth0 -- (198.18.0.0/24) server
//
// with leased relay, or ISC dhcrelay, on the router between them, and
// leased server, or Kea, on the server's link.

// TestRelayedLease: real clients behind leased relay get an address from
// the pool of the relay's subnet (the server chooses it by giaddr, RFC
// 2131 §4.3.1), the relay's option 82 reaches the server and not the
// client, and the renewal at T1 goes to the server by unicast, without
// the relay (RFC 2131 §4.4.5).
func TestRelayedLease(t *testing.T) {
	for _, kind := range clientKinds {
		t.Run("RFC1542 4.1 relayed DORA and direct renewal/"+string(kind), func(t *testing.T) {
			requireClientCommands(t, kind)
			rn := newRelayedNet(t, 1)
			srv := startServer(t, rn.server, newStore(t), "--config", relayServerConfig(t, 1, shortLease))
			rel := startRelay(t, rn.relays[0], "--agent-info")
			c := newClient(t, kind, rn.addClient(1, "client"))
			c.start()
			got := c.waitLease(0)
			addr := got.addr.Addr()

			if !relayPool(1).contains(addr) || got.addr.Bits() != 24 {
				t.Fatalf("lease %v, want an address of %v with the /24 mask of the relay's subnet", got.addr, relayPool(1))
			}
			checkOnInterface(t, c, got)
			if want := []netip.Addr{netip.MustParseAddr("198.18.1.1")}; !slices.Equal(got.routers, want) {
				t.Errorf("routers %v, want %v", got.routers, want)
			}
			if got.serverID != netip.MustParseAddr(relayServerAddr) {
				t.Errorf("server identifier %v, want %s", got.serverID, relayServerAddr)
			}
			acks := srv.events("ack", c.host.mac)
			if len(acks) == 0 || acks[0]["relay"] != "198.18.1.1" || acks[0]["addr"] != addr.String() {
				t.Fatalf("server log: acks %v, want %v relayed by 198.18.1.1", acks, addr)
			}
			// RFC 3046: the relay's circuit ID, the interface's name.
			agent := "relay-agent-info=circuit-id=" + hexText("down0")
			if len(srv.receivedWith("DHCPDISCOVER", "chaddr="+c.host.mac, "giaddr=198.18.1.1", "hops=1", agent)) == 0 {
				t.Errorf("server log: no relayed DHCPDISCOVER from %s with giaddr, hops 1 and %s", c.host.mac, agent)
			}
			for _, r := range rel.waitDelivered(t, "chaddr="+c.host.mac) {
				if strings.Contains(r["packet"], "relay-agent-info") {
					t.Errorf("relay delivered option 82 to the client: %s", r["packet"])
				}
			}

			// RENEWING: unicast from the client's address to the server,
			// not through the relay agent: ciaddr set, giaddr zero.
			rn.routeToServer(c.host, 1)
			after := len(c.eventsSoFar())
			e := c.waitEvent(renewWait, after, "renew", "rebind", "bound", "reboot", "deconfig", "expire", "fail")
			if e.reason != "renew" {
				t.Fatalf("after the lease, the client's next event is %q, want renew", e.reason)
			}
			renewals := srv.records(map[string]string{"msg": "received", "src": addr.String() + ":68"})
			direct := 0
			for _, r := range renewals {
				if strings.Contains(r["packet"], "DHCPREQUEST") && strings.Contains(r["packet"], "ciaddr="+addr.String()) &&
					!strings.Contains(r["packet"], "giaddr=") {
					direct++
				}
			}
			if direct == 0 {
				t.Errorf("server log: no DHCPREQUEST from %s:68 with ciaddr and no giaddr; got %v", addr, renewals)
			}
			var renewAck bool
			for _, a := range srv.events("ack", c.host.mac) {
				if _, relayed := a["relay"]; !relayed && a["addr"] == addr.String() {
					renewAck = true
				}
			}
			if !renewAck {
				t.Errorf("server log: no direct (unrelayed) ack of %v to %s", addr, c.host.mac)
			}
		})
	}
}

// TestRelayInterop: leased server behind ISC dhcrelay, with and without
// its option 82, and leased relay in front of Kea.
func TestRelayInterop(t *testing.T) {
	for _, agentInfo := range []bool{false, true} {
		name := "RFC1542 4.1 leased server behind ISC dhcrelay"
		if agentInfo {
			name = "RFC3046 2.2 leased server echoes ISC dhcrelay's option 82"
		}
		t.Run(name, func(t *testing.T) {
			requireInterop(t, []string{"dhclient"}, "dhcrelay")
			rn := newRelayedNet(t, 1)
			srv := startServer(t, rn.server, newStore(t), "--config", relayServerConfig(t, 1, time.Hour))
			startDhcrelay(t, rn.relays[0], agentInfo)
			c := newClient(t, dhclient, rn.addClient(1, "client"))
			c.start()
			got := c.waitLease(0)
			if !relayPool(1).contains(got.addr.Addr()) {
				t.Fatalf("lease %v, want an address of %v", got.addr, relayPool(1))
			}
			checkOnInterface(t, c, got)
			acks := srv.events("ack", c.host.mac)
			if len(acks) == 0 || acks[0]["relay"] != "198.18.1.1" {
				t.Fatalf("server log: acks %v, want one relayed by 198.18.1.1", acks)
			}
			relayed := srv.receivedWith("DHCPREQUEST", "chaddr="+c.host.mac, "giaddr=198.18.1.1")
			if len(relayed) == 0 {
				t.Fatalf("server log: no DHCPREQUEST relayed by dhcrelay")
			}
			// dhcrelay -a adds the interface name as circuit ID.
			withAgent := strings.Contains(relayed[0]["packet"], "relay-agent-info=circuit-id="+hexText("down0"))
			if withAgent != agentInfo {
				t.Errorf("relayed request %s: option 82 with dhcrelay's circuit ID present %v, want %v", relayed[0]["packet"], withAgent, agentInfo)
			}
		})
	}

	t.Run("RFC3046 leased relay in front of Kea", func(t *testing.T) {
		requireInterop(t, []string{"dhclient"}, "kea-dhcp4")
		rn := newRelayedNet(t, 1)
		kea := startKea(t, rn.server)
		rel := startRelay(t, rn.relays[0], "--agent-info", "--remote-id", "relay1")
		c := newClient(t, dhclient, rn.addClient(1, "client"))
		c.start()
		got := c.waitLease(0)
		if !relayPool(1).contains(got.addr.Addr()) || got.addr.Bits() != 24 {
			t.Fatalf("lease %v from Kea, want an address of %v/24", got.addr, relayPool(1))
		}
		if got.serverID != netip.MustParseAddr(relayServerAddr) {
			t.Errorf("server identifier %v, want Kea's %s", got.serverID, relayServerAddr)
		}
		checkOnInterface(t, c, got)
		if !strings.Contains(kea.output(), "DHCP4_LEASE_ALLOC") {
			t.Errorf("Kea's log has no lease allocation")
		}
		// Kea echoes option 82 (RFC 3046 2.2); the relay removed ours.
		st := rel.waitCount(t, "delivered", 2)
		if st["foreign-agent-info"] != "" || st["unknown-interface"] != "" {
			t.Errorf("relay dropped Kea's replies: %v", st)
		}
	})
}

// startDhcrelay runs ISC dhcrelay in the foreground on relay host h,
// relaying from down0 to the server, with option 82 when agentInfo.
func startDhcrelay(t *testing.T, h *relayHost, agentInfo bool) *proc {
	t.Helper()
	dir := t.TempDir()
	argv := []string{"dhcrelay", "-d", "-4", "-pf", filepath.Join(dir, "dhcrelay.pid"), "-id", "down0", "-iu", "eth0"}
	if agentInfo {
		argv = append(argv, "-a")
	}
	argv = append(argv, relayServerAddr)
	p := startProc(t, h.host, "dhcrelay on "+h.name, filepath.Join(dir, "dhcrelay.log"), nil, argv...)
	err := waitFor(startWait, "dhcrelay to start", func() (bool, error) {
		if p.exited() {
			return false, fmt.Errorf("it exited (%v):\n%s", p.err, tail(p.output(), 20))
		}
		return strings.Contains(p.output(), "Sending on"), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// startKea runs kea-dhcp4 in the foreground on h, serving client link 1
// from relay pool 1, with its leases in memory only.
func startKea(t *testing.T, h *host) *proc {
	t.Helper()
	dir := t.TempDir()
	conf := map[string]any{"Dhcp4": map[string]any{
		"interfaces-config": map[string]any{"interfaces": []string{"eth0"}, "dhcp-socket-type": "udp"},
		"lease-database":    map[string]any{"type": "memfile", "persist": false},
		"valid-lifetime":    3600,
		"subnet4": []any{map[string]any{
			"id":          1,
			"subnet":      clientNet(1),
			"pools":       []any{map[string]any{"pool": relayPool(1).first.String() + " - " + relayPool(1).last.String()}},
			"option-data": []any{map[string]any{"name": "routers", "data": "198.18.1.1"}},
		}},
		"loggers": []any{map[string]any{
			"name":           "kea-dhcp4",
			"output_options": []any{map[string]any{"output": "stdout"}},
			"severity":       "INFO",
		}},
	}}
	b, err := json.MarshalIndent(conf, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "kea-dhcp4.conf")
	writeFile(t, path, string(b), 0o644)
	env := []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"KEA_PIDFILE_DIR=" + dir, "KEA_LOCKFILE_DIR=" + dir}
	p := startProc(t, h, "kea-dhcp4 on "+h.name, filepath.Join(dir, "kea.log"), env, "kea-dhcp4", "-c", path)
	err = waitFor(startWait, "Kea to serve", func() (bool, error) {
		if p.exited() {
			return false, fmt.Errorf("it exited (%v):\n%s", p.err, tail(p.output(), 20))
		}
		return strings.Contains(p.output(), "DHCP4_STARTED"), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestTwoRelays: two relays on two client subnets relay to one server at
// once; each client gets an address of its own subnet's pool.
func TestTwoRelays(t *testing.T) {
	requireClientCommands(t, dhclient, udhcpc)
	rn := newRelayedNet(t, 2)
	srv := startServer(t, rn.server, newStore(t), "--config", relayServerConfig(t, 2, time.Hour))
	startRelay(t, rn.relays[0], "--agent-info")
	startRelay(t, rn.relays[1])
	clients := []*dhcpClient{
		newClient(t, dhclient, rn.addClient(1, "client1")),
		newClient(t, udhcpc, rn.addClient(2, "client2")),
	}
	for _, c := range clients {
		c.start()
	}
	for i, c := range clients {
		n := i + 1
		got := c.waitLease(0)
		if !relayPool(n).contains(got.addr.Addr()) || got.addr.Bits() != 24 {
			t.Errorf("%s on relay %d's link: lease %v, want an address of %v/24", c.kind, n, got.addr, relayPool(n))
		}
		if want := fmt.Sprintf("198.18.%d.1", n); len(got.routers) != 1 || got.routers[0].String() != want {
			t.Errorf("%s on relay %d's link: routers %v, want %s", c.kind, n, got.routers, want)
		}
		checkOnInterface(t, c, got)
		acks := srv.events("ack", c.host.mac)
		if len(acks) == 0 || acks[0]["relay"] != rn.relays[i].down || acks[0]["subnet"] != clientNet(n) {
			t.Errorf("server log: acks to %s %v, want one relayed by %s from subnet %s", c.host.mac, acks, rn.relays[i].down, clientNet(n))
		}
	}
}

// TestRelayAgentInfo: the relay's option 82 policies for a client request
// that already carries one (RFC 3046 §2.1), and the link selection (RFC
// 3527) and server identifier override (RFC 5107) sub-options. A probe on
// the client link sends crafted requests and reads what the relay
// delivers; the server's log shows what reached it.
func TestRelayAgentInfo(t *testing.T) {
	theirs := agentInfoOf(dhcpv4.RelayCircuitID, "switch-port-7")
	theirsLogged := "relay-agent-info=circuit-id=" + hexText("switch-port-7")
	for _, tc := range []struct {
		name  string
		args  []string
		check func(t *testing.T, srv *leasedServer, rel *relayProc, pr *probe)
	}{
		{
			name: "RFC3046 2.1 untrusted circuit: request with option 82 dropped and counted",
			args: []string{"--agent-info"},
			check: func(t *testing.T, srv *leasedServer, rel *relayProc, pr *probe) {
				bad := discover(t, 1, func(p *dhcpv4.Packet) { p.Options.Set(dhcpv4.OptRelayAgentInfo, theirs) })
				pr.broadcast(bad)
				rel.waitCount(t, "agent-info-present", 1)
				// The same client without the forged option is served.
				offer := pr.waitReply(discover(t, 2, nil))
				if !relayPool(1).contains(offer.YIAddr) || hasAgentInfo(offer, nil) {
					t.Errorf("offer %v: want an address of %v and no option 82", offer, relayPool(1))
				}
				if got := srv.receivedWith(xidString(bad.XID)); len(got) != 0 {
					t.Errorf("the server received the dropped request: %v", got)
				}
			},
		},
		{
			name: "RFC3046 2.1 trusted circuit: existing option 82 forwarded, reply delivered with it",
			args: []string{"--agent-info", "--agent-info-policy", "forward"},
			check: func(t *testing.T, srv *leasedServer, rel *relayProc, pr *probe) {
				req := discover(t, 3, func(p *dhcpv4.Packet) { p.Options.Set(dhcpv4.OptRelayAgentInfo, theirs) })
				offer := pr.waitReply(req)
				if !hasAgentInfo(offer, theirs) {
					t.Errorf("offer %v: want the downstream device's option 82 back, for it to remove", offer)
				}
				got := srv.receivedWith(xidString(req.XID), "giaddr=198.18.1.1")
				if len(got) == 0 || !strings.HasSuffix(got[0]["packet"], theirsLogged+"]") {
					t.Errorf("server received %v, want giaddr 198.18.1.1 and only the existing %s, last", got, theirsLogged)
				}
				rel.waitCount(t, "forwarded-agent-info-kept", 1)
			},
		},
		{
			name: "RFC3046 2.1 policy replace: existing option 82 replaced by the relay's",
			args: []string{"--agent-info", "--agent-info-policy", "replace"},
			check: func(t *testing.T, srv *leasedServer, rel *relayProc, pr *probe) {
				req := discover(t, 4, func(p *dhcpv4.Packet) { p.Options.Set(dhcpv4.OptRelayAgentInfo, theirs) })
				offer := pr.waitReply(req)
				if hasAgentInfo(offer, nil) {
					t.Errorf("offer %v: option 82 reaches the client", offer)
				}
				got := srv.receivedWith(xidString(req.XID))
				if len(got) == 0 || !strings.HasSuffix(got[0]["packet"], "relay-agent-info=circuit-id="+hexText("down0")+"]") {
					t.Errorf("server received %v, want the relay's circuit ID only", got)
				}
			},
		},
		{
			name: "RFC3527 RFC5107 link selection and server identifier override",
			args: []string{"--link-selection", "--server-id-override", "--remote-id", "relay1"},
			check: func(t *testing.T, srv *leasedServer, rel *relayProc, pr *probe) {
				req := discover(t, 5, nil)
				offer := pr.waitReply(req)
				// The server chose the client's subnet by the sub-option,
				// and answered the relay at its upstream address.
				if !relayPool(1).contains(offer.YIAddr) || hasAgentInfo(offer, nil) {
					t.Errorf("offer %v: want an address of %v and no option 82", offer, relayPool(1))
				}
				want := fmt.Sprintf("relay-agent-info=circuit-id=%s,remote-id=%s,link-selection=198.18.1.1,server-id-override=198.18.1.1]",
					hexText("down0"), hexText("relay1"))
				got := srv.receivedWith(xidString(req.XID), "giaddr="+rn0Up)
				if len(got) == 0 || !strings.HasSuffix(got[0]["packet"], want) {
					t.Errorf("server received %v, want giaddr %s and %s", got, rn0Up, want)
				}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			requireRoot(t)
			rn := newRelayedNet(t, 1)
			srv := startServer(t, rn.server, newStore(t), "--config", relayServerConfig(t, 1, time.Hour))
			rel := startRelay(t, rn.relays[0], tc.args...)
			pr := newProbe(t, rn.addClient(1, "probe", "198.18.1.50/24"))
			tc.check(t, srv, rel, pr)
		})
	}
}

// rn0Up is the upstream address of the first relay.
const rn0Up = "198.18.0.254"

// TestRelayHopLimit: a request whose hops field exceeds the maximum (4 by
// default) is dropped and counted; one at the maximum is relayed with hops
// incremented (RFC 1542 §4.1.1).
func TestRelayHopLimit(t *testing.T) {
	requireRoot(t)
	rn := newRelayedNet(t, 1)
	srv := startServer(t, rn.server, newStore(t), "--config", relayServerConfig(t, 1, time.Hour))
	rel := startRelay(t, rn.relays[0])
	pr := newProbe(t, rn.addClient(1, "probe", "198.18.1.50/24"))

	// The request at the limit goes first: waitReply sends it again until
	// answered, so the path through the relay is known to work before the
	// one request over the limit is sent, once.
	at := discover(t, 2, func(p *dhcpv4.Packet) { p.Hops = 4 })
	offer := pr.waitReply(at)
	if !relayPool(1).contains(offer.YIAddr) {
		t.Errorf("offer %v: want an address of %v", offer, relayPool(1))
	}

	over := discover(t, 1, func(p *dhcpv4.Packet) { p.Hops = 5 })
	pr.broadcast(over)
	rel.waitCount(t, "hop-limit", 1)
	if got := srv.receivedWith(xidString(at.XID), "hops=5", "giaddr=198.18.1.1"); len(got) == 0 {
		t.Errorf("server log: request with hops 4 not received with hops 5 and giaddr")
	}
	if got := srv.receivedWith(xidString(over.XID)); len(got) != 0 {
		t.Errorf("the server received the request over the hop limit: %v", got)
	}
}

// TestRelayBadReplies: replies the relay cannot place are dropped and
// counted: one whose giaddr is no downstream interface's (here the
// relay's upstream address), and one carrying an option 82 that the relay
// did not add.
func TestRelayBadReplies(t *testing.T) {
	requireRoot(t)
	rn := newRelayedNet(t, 1)
	rel := startRelay(t, rn.relays[0], "--agent-info")
	to := rn0Up + ":67"

	sendUDP(t, rn.server, to, replyBytes(t, 1, func(p *dhcpv4.Packet) { p.GIAddr = netip.MustParseAddr(rn0Up) }))
	st := rel.waitCount(t, "unknown-interface", 1)
	if st["delivered"] != "" {
		t.Errorf("relay delivered a reply for an unknown interface: %v", st)
	}

	sendUDP(t, rn.server, to, replyBytes(t, 2, func(p *dhcpv4.Packet) {
		p.GIAddr = netip.MustParseAddr("198.18.1.1")
		p.Options.Set(dhcpv4.OptRelayAgentInfo, agentInfoOf(dhcpv4.RelayCircuitID, "eth7"))
	}))
	st = rel.waitCount(t, "foreign-agent-info", 1)
	if st["delivered"] != "" {
		t.Errorf("relay delivered a reply with a foreign option 82: %v", st)
	}
	if len(rel.records(map[string]string{"msg": "dropped", "reason": "unknown-interface"})) == 0 {
		t.Errorf("relay log: no dropped line with reason unknown-interface")
	}
}

// TestRelayTwoInterfaces: one relay serves two client links; each
// client gets an address of its own link's pool, and each reply goes out
// of the interface its request came in by, found by the circuit ID of the
// relay's option 82 (RFC 3046 §3.1).
func TestRelayTwoInterfaces(t *testing.T) {
	requireClientCommands(t, dhclient, udhcpc)
	rn := newRelayedNet(t, 1)
	second := rn.addDownstream(1, 3, "down1")
	srv := startServer(t, rn.server, newStore(t), "--config", relayServerConfig(t, 3, time.Hour))
	rel := startRelay(t, rn.relays[0], "-i", "down1", "--circuit-id", "down1=port-3")
	c1 := newClient(t, dhclient, rn.addClient(1, "client1"))
	h3 := second.addHost("client3")
	h3.mac = "02:c6:12:03:00:02"
	second.ip("-n", h3.ns, "link", "set", "eth0", "address", h3.mac)
	c3 := newClient(t, udhcpc, h3)
	c1.start()
	c3.start()
	for _, tc := range []struct {
		c       *dhcpClient
		n       int
		ifname  string
		circuit string
	}{{c1, 1, "down0", "down0"}, {c3, 3, "down1", "port-3"}} {
		got := tc.c.waitLease(0)
		if !relayPool(tc.n).contains(got.addr.Addr()) {
			t.Errorf("%s on link %d: lease %v, want an address of %v", tc.c.kind, tc.n, got.addr, relayPool(tc.n))
		}
		checkOnInterface(t, tc.c, got)
		agent := "relay-agent-info=circuit-id=" + hexText(tc.circuit)
		if len(srv.receivedWith("chaddr="+tc.c.host.mac, fmt.Sprintf("giaddr=198.18.%d.1", tc.n), agent)) == 0 {
			t.Errorf("server log: no request from %s relayed with giaddr 198.18.%d.1 and %s", tc.c.host.mac, tc.n, agent)
		}
		for _, r := range rel.waitDelivered(t, "chaddr="+tc.c.host.mac) {
			if r["if"] != tc.ifname {
				t.Errorf("reply to %s delivered on %s, want %s", tc.c.host.mac, r["if"], tc.ifname)
			}
		}
	}
}

// TestRelayUnicastToCIAddr: a reply with ciaddr set (here the answer to a
// DHCPINFORM from a client with an address) is unicast to ciaddr on the
// client's link (RFC 2131 §4.1), not broadcast.
func TestRelayUnicastToCIAddr(t *testing.T) {
	requireRoot(t)
	rn := newRelayedNet(t, 1)
	startServer(t, rn.server, newStore(t), "--config", relayServerConfig(t, 1, time.Hour))
	rel := startRelay(t, rn.relays[0], "--agent-info")
	pr := newProbe(t, rn.addClient(1, "probe", "198.18.1.50/24"))
	inform := discover(t, 1, func(p *dhcpv4.Packet) {
		p.Flags = 0
		p.CIAddr = netip.MustParseAddr("198.18.1.50")
		p.Options.SetMessageType(dhcpv4.Inform)
	})
	ack := pr.waitReply(inform)
	if ack.MessageType() != dhcpv4.Ack || ack.CIAddr != inform.CIAddr || hasAgentInfo(ack, nil) {
		t.Errorf("reply %v: want a DHCPACK to ciaddr %v without option 82", ack, inform.CIAddr)
	}
	for _, r := range rel.waitDelivered(t, xidString(inform.XID)) {
		if r["how"] != "unicast-ciaddr" || r["to"] != "198.18.1.50:68" {
			t.Errorf("relay delivered the reply %s to %s, want unicast-ciaddr to 198.18.1.50:68", r["how"], r["to"])
		}
	}
}

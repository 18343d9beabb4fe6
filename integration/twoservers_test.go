//go:build linux

package integration

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"leased/control"
	"leased/dhcpv4"
)

// secondServer is the other DHCP server on the link of TestTwoServers.
type secondServer int

const (
	otherDnsmasq secondServer = iota // dnsmasq, Debian dnsmasq-base
	otherLeased                      // a second leased with its own pool
)

// The two servers of TestTwoServers: leased at .1 with a pool of one
// address it holds for offered clients far longer than the test runs, and
// the other server at .2 with a pool of its own.
const (
	otherAddr   = "198.18.0.2"
	otherPrefix = otherAddr + "/24"
)

var (
	heldPool  = mustRange("198.18.0.100", "198.18.0.100")
	otherPool = mustRange("198.18.0.150", "198.18.0.199")
)

// oneSubnetConfig is a configuration file serving eth0 with pool, router
// and offer hold.
func oneSubnetConfig(pool addrRange, router string, offerHold time.Duration) string {
	return fmt.Sprintf(`interfaces: [eth0]
offer-hold: %s
lease-time: 1h
subnets:
  - prefix: 198.18.0.0/24
    pools: [%s]
    options:
      routers: [%s]
`, offerHold, pool, router)
}

// startOther starts the other server on h.
func startOther(t *testing.T, kind secondServer, h *host) {
	t.Helper()
	switch kind {
	case otherLeased:
		cfg := filepath.Join(t.TempDir(), "other.yaml")
		writeFile(t, cfg, oneSubnetConfig(otherPool, otherAddr, time.Minute), 0o644)
		startServer(t, h, newStore(t), "--config", cfg)
	case otherDnsmasq:
		dir := t.TempDir()
		p := startProc(t, h, "dnsmasq on "+h.name, filepath.Join(dir, "dnsmasq.log"), nil,
			"dnsmasq", "--no-daemon", "--conf-file=/dev/null", "--port=0", "--no-resolv", "--no-hosts",
			"--user=root", "--group=root", "--pid-file="+filepath.Join(dir, "dnsmasq.pid"),
			"--interface=eth0", "--bind-interfaces", "--no-ping",
			fmt.Sprintf("--dhcp-range=%s,%s,255.255.255.0,1h", otherPool.first, otherPool.last),
			"--dhcp-leasefile="+filepath.Join(dir, "dnsmasq.leases"),
			"--dhcp-option=option:router,"+otherAddr,
			"--log-dhcp", "--log-facility=-")
		err := waitFor(startWait, "dnsmasq to start", func() (bool, error) {
			if p.exited() {
				return false, fmt.Errorf("it exited (%v):\n%s", p.err, tail(p.output(), 20))
			}
			return strings.Contains(p.output(), "DHCP, IP range"), nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// waitNotChosen waits, through the control API on sock, until leased has
// handled both the DHCPDISCOVER of a client that chose another server and
// its DHCPREQUEST naming that server, in either order, and returns its
// status then. Handled in that order, the offer is withdrawn
// (offer-withdrawn); with the DHCPREQUEST first (two readers, the same
// millisecond), there is no offer to withdraw (not-for-us) and the
// DHCPDISCOVER gets none (chose-other).
func waitNotChosen(t *testing.T, sock string) control.Status {
	t.Helper()
	var st control.Status
	err := waitFor(startWait, "leased to handle the DHCPDISCOVER and the DHCPREQUEST for the other server", func() (bool, error) {
		st = control.Status{}
		ctlGet(t, sock, "GET", "/v1/status", "", 200, &st)
		o := st.Outcomes
		return o["offer-withdrawn"]+o["not-for-us"] >= 1 && o["offer"]+o["chose-other"] >= 1, nil
	})
	if err != nil {
		t.Fatalf("%v; outcomes %v", err, st.Outcomes)
	}
	t.Logf("leased's outcomes: %v", st.Outcomes)
	return st
}

// TestTwoServers: two servers answer on one link; the client takes one
// offer and sends a DHCPREQUEST naming the other server. leased, when not
// chosen, returns its offered address to the pool at once (RFC 2131 §3.1
// step 4) instead of holding it for the offer hold, and makes no offer
// when the DHCPREQUEST overtakes the DHCPDISCOVER: with a pool of one
// address and an offer hold of ten minutes, a second client is offered
// and gets that address right away.
func TestTwoServers(t *testing.T) {
	for _, tc := range []struct {
		name  string
		other secondServer
	}{
		{"RFC2131 3.1 offer not chosen returns to the pool/leased and dnsmasq", otherDnsmasq},
		{"RFC2131 3.1 offer not chosen returns to the pool/two leased", otherLeased},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmds := []string{"dhclient"}
			if tc.other == otherDnsmasq {
				cmds = append(cmds, "dnsmasq")
			}
			requireCommands(t, cmds...)
			l := newLink(t)
			leasedHost := l.addHost("leased", serverPrefix)
			otherHost := l.addHost("other", otherPrefix)
			cfg := filepath.Join(t.TempDir(), "leased.yaml")
			writeFile(t, cfg, oneSubnetConfig(heldPool, serverAddr, 10*time.Minute), 0o644)
			sock := ctlSocketPath(t)
			srv := startServer(t, leasedHost, newStore(t), "--config", cfg, "--control", sock)
			startOther(t, tc.other, otherHost)

			// The first client refuses leased's offer, so takes the other.
			first := newClient(t, dhclient, l.addHost("client1"), serverAddr)
			first.start()
			got := first.waitLease(0)
			if !otherPool.contains(got.addr.Addr()) || got.serverID.String() != otherAddr {
				t.Fatalf("first client got %v from %v, want an address of %v from %s", got.addr, got.serverID, otherPool, otherAddr)
			}
			st := waitNotChosen(t, sock)
			if st.Leases["offered"] != 0 || st.Outcomes["ack"] != 0 {
				t.Errorf("leased holds %d offers and acknowledged %d requests after the client chose the other server",
					st.Leases["offered"], st.Outcomes["ack"])
			}
			for _, o := range srv.events("offer", first.host.mac) {
				if o["addr"] != heldPool.first.String() {
					t.Errorf("leased offered %v to the first client, want %v", o["addr"], heldPool.first)
				}
			}

			// The second client refuses the other server's offers: it can
			// only get leased's one address, which must be free again.
			second := newClient(t, dhclient, l.addHost("client2"), otherAddr)
			second.start()
			got2 := second.waitLease(0)
			if got2.addr.Addr() != heldPool.first {
				t.Errorf("second client got %v, want leased's withdrawn offer %v", got2.addr, heldPool.first)
			}
			if len(srv.events("pool-exhausted", "")) != 0 {
				t.Errorf("leased found its pool exhausted: the withdrawn offer was still held")
			}
		})
	}

	t.Run("RFC2131 3.1 client takes the first offer/leased and dnsmasq, udhcpc", func(t *testing.T) {
		requireCommands(t, "udhcpc", "dnsmasq")
		l := newLink(t)
		leasedHost := l.addHost("leased", serverPrefix)
		otherHost := l.addHost("other", otherPrefix)
		cfg := filepath.Join(t.TempDir(), "leased.yaml")
		pool := mustRange("198.18.0.100", "198.18.0.149")
		writeFile(t, cfg, oneSubnetConfig(pool, serverAddr, 10*time.Minute), 0o644)
		sock := ctlSocketPath(t)
		srv := startServer(t, leasedHost, newStore(t), "--config", cfg, "--control", sock)
		startOther(t, otherDnsmasq, otherHost)

		c := newClient(t, udhcpc, l.addHost("client"))
		c.start()
		got := c.waitLease(0)
		a := got.addr.Addr()
		switch {
		case pool.contains(a):
			t.Logf("udhcpc took leased's offer of %v", a)
			srv.waitRecord(t, 0, map[string]string{"msg": "lease", "event": "ack", "client": c.host.mac, "addr": a.String()})
		case otherPool.contains(a):
			t.Logf("udhcpc took dnsmasq's offer of %v", a)
			if st := waitNotChosen(t, sock); st.Leases["offered"] != 0 {
				t.Errorf("leased holds %d offers after the client chose dnsmasq", st.Leases["offered"])
			}
		default:
			t.Fatalf("udhcpc got %v, in neither pool", a)
		}
		checkOnInterface(t, c, got)
	})
}

// TestRequestOvertakesDiscover: a client's DHCPREQUEST naming another
// server reaches leased before the DHCPDISCOVER of the same exchange (as
// when two readers take them in the same millisecond; here they are sent
// in that order, the second once the first is handled). The DHCPDISCOVER
// gets no offer, and nothing is held.
func TestRequestOvertakesDiscover(t *testing.T) {
	l, srvHost, _ := newServerLink(t, 0)
	sender := l.addHost("sender", "198.18.0.9/24")
	sock := ctlSocketPath(t)
	startServer(t, srvHost, newStore(t), append(quickArgs(heldPool, time.Hour), "--control", sock)...)
	mac := "02:c6:12:00:0e:01"
	sendUDP(t, sender, serverAddr+":67", hostileBytes(t, dhcpv4.Request, mac, func(p *dhcpv4.Packet) {
		p.Options.SetAddr(dhcpv4.OptServerID, netip.MustParseAddr(otherAddr))
		p.Options.SetAddr(dhcpv4.OptRequestedIP, otherPool.first)
	}))
	err := waitFor(startWait, "leased to handle the DHCPREQUEST", func() (bool, error) {
		var st control.Status
		ctlGet(t, sock, "GET", "/v1/status", "", 200, &st)
		return st.Outcomes["not-for-us"] == 1, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sendUDP(t, sender, serverAddr+":67", hostileBytes(t, dhcpv4.Discover, mac, nil))
	st := waitNotChosen(t, sock)
	if st.Outcomes["not-for-us"] != 1 || st.Outcomes["chose-other"] != 1 || st.Outcomes["offer"] != 0 || st.Leases["offered"] != 0 {
		t.Errorf("outcomes %v, leases %v: want not-for-us and chose-other, no offer", st.Outcomes, st.Leases)
	}
}

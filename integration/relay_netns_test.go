//go:build linux

package integration

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"leased/dhcpv4"
)

// The routed network of the relay tests: the server's link 198.18.0.0/24
// and one client link per relay, 198.18.N.0/24 for N from 1, with the
// relay at .1 of its client link and at 198.18.0.(255-N) on the server's
// link, routing between them.
const (
	relayServerAddr = "198.18.0.1"
	relayServerNet  = "198.18.0.0/24"
)

// relayedNet is the network of one relay test.
type relayedNet struct {
	t          *testing.T
	serverLink *link
	server     *host
	relays     []*relayHost
}

// relayHost is a router between the server's link and one client link.
type relayHost struct {
	*host
	n          int    // the client link's number: 198.18.n.0/24
	clientLink *link  // the link of its downstream interface, down0
	down, up   string // its addresses on down0 and eth0
}

// clientNet returns the prefix of client link n, "198.18.n.0/24".
func clientNet(n int) string { return fmt.Sprintf("198.18.%d.0/24", n) }

// newRelayedNet makes the server's link with the server host, and a relay
// host with its own client link for each of 1..relays.
func newRelayedNet(t *testing.T, relays int) *relayedNet {
	t.Helper()
	rn := &relayedNet{t: t, serverLink: newLink(t)}
	rn.server = rn.serverLink.addHost("server", relayServerAddr+"/24")
	for n := 1; n <= relays; n++ {
		up := fmt.Sprintf("198.18.0.%d", 255-n)
		h := rn.serverLink.addHost(fmt.Sprintf("relay%d", n), up+"/24")
		rh := &relayHost{host: h, n: n, clientLink: newLink(t), down: fmt.Sprintf("198.18.%d.1", n), up: up}
		addLeg(rh.clientLink, h, "down0", rh.down+"/24")
		rn.serverLink.ip("netns", "exec", h.ns, "sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward")
		// The server answers relays at giaddr, and renewing clients at
		// their address, through the relay.
		rn.serverLink.ip("-n", rn.server.ns, "route", "add", clientNet(n), "via", up)
		rn.relays = append(rn.relays, rh)
	}
	return rn
}

// addClient adds a host to relay n's client link, with the given
// addresses. Hosts are numbered per link, so its MAC address becomes
// 02:c6:12:NN:HH:LL, with the link's number NN, to be unique across links.
func (rn *relayedNet) addClient(n int, name string, addrs ...string) *host {
	rn.t.Helper()
	l := rn.relays[n-1].clientLink
	h := l.addHost(name, addrs...)
	h.mac = fmt.Sprintf("02:c6:12:%02x:%02x:%02x", n, l.hosts>>8, l.hosts&0xff)
	l.ip("-n", h.ns, "link", "set", "eth0", "address", h.mac)
	return h
}

// addDownstream gives relay n a further downstream interface, ifname, on
// a new client link numbered m (198.18.m.0/24, the relay at .1), routed
// by the server through the relay. It returns the new link.
func (rn *relayedNet) addDownstream(n, m int, ifname string) *link {
	rn.t.Helper()
	r := rn.relays[n-1]
	l := newLink(rn.t)
	addLeg(l, r.host, ifname, fmt.Sprintf("198.18.%d.1/24", m))
	rn.serverLink.ip("-n", rn.server.ns, "route", "add", clientNet(m), "via", r.up)
	return l
}

// routeToServer gives a client on relay n's link a route to the server's
// link through the relay, as its router option would: renewals are
// unicast to the server (RFC 2131 §4.4.5). It must be added once the
// client has its address: removing an interface's last address removes
// its routes too.
func (rn *relayedNet) routeToServer(h *host, n int) {
	rn.t.Helper()
	rn.serverLink.ip("-n", h.ns, "route", "replace", relayServerNet, "via", rn.relays[n-1].down, "dev", "eth0")
}

// addLeg joins host h, already on another link, to link l with a second
// interface named ifname holding addr.
func addLeg(l *link, h *host, ifname, addr string) {
	l.t.Helper()
	p := netip.MustParsePrefix(addr)
	if !testRange.Contains(p.Addr()) {
		l.t.Fatalf("addLeg %s: %s is outside %s", h.name, addr, testRange)
	}
	l.hosts++
	port := fmt.Sprintf("p%d", l.hosts)
	l.ip("-n", l.hub, "link", "add", port, "type", "veth", "peer", "name", ifname, "netns", h.ns)
	l.ip("-n", l.hub, "link", "set", port, "master", "br0", "up")
	l.ip("-n", h.ns, "addr", "add", addr, "dev", ifname)
	l.ip("-n", h.ns, "link", "set", ifname, "up")
}

// relayServerConfig is the server's configuration: a subnet for each
// client link with its pool 198.18.N.100-149, and the server's own link.
func relayServerConfig(t *testing.T, links int, leaseTime time.Duration) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "interfaces: [eth0]\nlease-time: %s\nauthoritative: true\nsubnets:\n", leaseTime)
	fmt.Fprintf(&b, "  - prefix: %s\n    pools: [198.18.0.100-198.18.0.149]\n", relayServerNet)
	for n := 1; n <= links; n++ {
		fmt.Fprintf(&b, "  - prefix: %s\n    pools: [%s]\n    options:\n      routers: [198.18.%d.1]\n",
			clientNet(n), relayPool(n), n)
	}
	path := filepath.Join(t.TempDir(), "leased.yaml")
	writeFile(t, path, b.String(), 0o644)
	return path
}

// relayPool is the pool of client link n.
func relayPool(n int) addrRange {
	return mustRange(fmt.Sprintf("198.18.%d.100", n), fmt.Sprintf("198.18.%d.149", n))
}

// relayProc is a "leased relay" process.
type relayProc struct {
	*proc
	host *relayHost
}

// startRelay runs "leased relay -i down0 --server 198.18.0.1" with args
// and debug logs on relay host h, and waits until it relays.
func startRelay(t *testing.T, h *relayHost, args ...string) *relayProc {
	t.Helper()
	argv := append([]string{build.path, "relay", "-i", "down0", "--server", relayServerAddr, "--log-level", "debug"}, args...)
	p := &relayProc{proc: startProc(t, h.host, "leased relay on "+h.name, filepath.Join(t.TempDir(), "relay.log"), nil, argv...), host: h}
	err := waitFor(startWait, p.name+" to relay", func() (bool, error) {
		if p.exited() {
			return false, fmt.Errorf("it exited (%v):\n%s", p.err, tail(p.output(), 20))
		}
		return len(p.records(map[string]string{"msg": "relaying"})) > 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (p *relayProc) records(want map[string]string) []logRecord {
	return matchingRecords(p.output(), want)
}

// waitDelivered waits until the relay has logged the delivery of a reply
// whose packet holds part, and returns those records.
func (p *relayProc) waitDelivered(t *testing.T, part string) []logRecord {
	t.Helper()
	var got []logRecord
	err := waitFor(leaseWait, fmt.Sprintf("%s to deliver a reply with %s", p.name, part), func() (bool, error) {
		got = got[:0]
		for _, r := range p.records(map[string]string{"msg": "delivered"}) {
			if strings.Contains(r["packet"], part) {
				got = append(got, r)
			}
		}
		return len(got) > 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// waitCount asks the relay for its counters (SIGUSR1) until counter has
// reached at least min, and returns the counters.
func (p *relayProc) waitCount(t *testing.T, counter string, min uint64) logRecord {
	t.Helper()
	var last logRecord
	err := waitFor(leaseWait, fmt.Sprintf("%s to count %s >= %d", p.name, counter, min), func() (bool, error) {
		before := len(p.records(map[string]string{"msg": "stats"}))
		if err := p.signal(syscall.SIGUSR1); err != nil {
			return false, err
		}
		if err := waitFor(startWait, "the stats line", func() (bool, error) {
			return len(p.records(map[string]string{"msg": "stats"})) > before, nil
		}); err != nil {
			return false, err
		}
		recs := p.records(map[string]string{"msg": "stats"})
		last = recs[len(recs)-1]
		n, _ := strconv.ParseUint(last[counter], 10, 64)
		return n >= min, nil
	})
	if err != nil {
		t.Fatalf("%v; last counters %v", err, last)
	}
	return last
}

// receivedWith returns the server's "received" records whose packet
// holds every one of parts.
func (s *leasedServer) receivedWith(parts ...string) []logRecord {
	var out []logRecord
	for _, r := range s.records(map[string]string{"msg": "received"}) {
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(r["packet"], p)
		}
		if ok {
			out = append(out, r)
		}
	}
	return out
}

// inNamespace runs f with the calling goroutine's thread in namespace ns.
// Sockets f opens stay in that namespace. The thread is returned to the
// test's namespace afterwards or, if that fails, never used again.
func inNamespace(ns string, f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		self, err := os.Open(fmt.Sprintf("/proc/%d/task/%d/ns/net", os.Getpid(), unix.Gettid()))
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer self.Close()
		target, err := os.Open(filepath.Join("/run/netns", ns))
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer target.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("setns %s: %w", ns, err)
			return
		}
		ferr := f()
		if err := unix.Setns(int(self.Fd()), unix.CLONE_NEWNET); err != nil {
			// Leave the thread locked: it ends with this goroutine.
			errc <- errors.Join(ferr, fmt.Errorf("setns back: %w", err))
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

// probe is a DHCP client made of a UDP socket on port 68 of a host's eth0,
// bound to the interface and allowed to broadcast: the tests craft its
// requests and read the replies the relay delivers.
type probe struct {
	t    *testing.T
	host *host
	conn *net.UDPConn
}

// newProbe opens a probe on h, which needs an address to send from.
func newProbe(t *testing.T, h *host) *probe {
	t.Helper()
	var conn *net.UDPConn
	err := inNamespace(h.ns, func() error {
		lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
			var serr error
			err := c.Control(func(fd uintptr) {
				if serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); serr != nil {
					return
				}
				if serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_BROADCAST, 1); serr != nil {
					return
				}
				serr = unix.BindToDevice(int(fd), "eth0")
			})
			return errors.Join(err, serr)
		}}
		pc, err := lc.ListenPacket(context.Background(), "udp4", "0.0.0.0:68")
		if err != nil {
			return err
		}
		conn = pc.(*net.UDPConn)
		return nil
	})
	if err != nil {
		t.Fatalf("probe on %s: %v", h.name, err)
	}
	t.Cleanup(func() { conn.Close() })
	return &probe{t: t, host: h, conn: conn}
}

// probeMAC is the chaddr of the probe's message number i: each message is
// a client of its own to the server.
func probeMAC(i int) []byte { return []byte{0x02, 0xc6, 0x12, 0xee, byte(i >> 8), byte(i)} }

// discover returns a DHCPDISCOVER from client i with the broadcast flag
// (the probe's socket cannot take unicast to an address it does not
// have), edited by edit.
func discover(t *testing.T, i int, edit func(*dhcpv4.Packet)) *dhcpv4.Packet {
	t.Helper()
	p := &dhcpv4.Packet{Op: dhcpv4.BootRequest, XID: 0xc6120000 | uint32(i), Flags: dhcpv4.FlagBroadcast}
	p.SetHardwareAddr(1, probeMAC(i))
	p.Options.SetMessageType(dhcpv4.Discover)
	p.Options.SetParameterRequestList([]dhcpv4.OptionCode{dhcpv4.OptSubnetMask, dhcpv4.OptRouter})
	if edit != nil {
		edit(p)
	}
	return p
}

// broadcast sends p to 255.255.255.255:67 out of eth0, as a client would.
func (pr *probe) broadcast(p *dhcpv4.Packet) {
	pr.t.Helper()
	b, err := p.Append(nil, 0)
	if err != nil {
		pr.t.Fatal(err)
	}
	if _, err := pr.conn.WriteToUDPAddrPort(b, netip.MustParseAddrPort("255.255.255.255:67")); err != nil {
		pr.t.Fatalf("probe on %s: %v", pr.host.name, err)
	}
}

// waitReply returns the first reply to transaction xid that arrives,
// resending req every second as a client retransmits.
func (pr *probe) waitReply(req *dhcpv4.Packet) *dhcpv4.Packet {
	pr.t.Helper()
	deadline := time.Now().Add(leaseWait)
	buf := make([]byte, 4096)
	next := time.Now()
	for time.Now().Before(deadline) {
		if !time.Now().Before(next) {
			pr.broadcast(req)
			next = time.Now().Add(time.Second)
		}
		pr.conn.SetReadDeadline(next)
		n, err := pr.conn.Read(buf)
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				continue
			}
			pr.t.Fatalf("probe on %s: %v", pr.host.name, err)
		}
		var p dhcpv4.Packet
		if dhcpv4.Parse(buf[:n], &p) == nil && p.Op == dhcpv4.BootReply && p.XID == req.XID {
			return &p
		}
	}
	pr.t.Fatalf("probe on %s: no reply to xid %#08x within %v", pr.host.name, req.XID, leaseWait)
	return nil
}

// hexText is how the server's log shows a sub-option holding text.
func hexText(s string) string { return fmt.Sprintf("%x", s) }

// xidString is how the logs show a transaction ID.
func xidString(xid uint32) string { return fmt.Sprintf("xid=0x%08x", xid) }

// replyBytes encodes a BOOTREPLY to client i, sent to a relay, edited by
// edit.
func replyBytes(t *testing.T, i int, edit func(*dhcpv4.Packet)) []byte {
	t.Helper()
	p := &dhcpv4.Packet{Op: dhcpv4.BootReply, XID: 0xc6120000 | uint32(i), Flags: dhcpv4.FlagBroadcast,
		YIAddr: netip.MustParseAddr("198.18.1.120")}
	p.SetHardwareAddr(1, probeMAC(i))
	p.Options.SetMessageType(dhcpv4.Offer)
	p.Options.SetAddr(dhcpv4.OptServerID, netip.MustParseAddr(relayServerAddr))
	p.Options.SetUint32(dhcpv4.OptLeaseTime, 3600)
	if edit != nil {
		edit(p)
	}
	b, err := p.Append(nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// agentInfoOf encodes sub-options given as code, text pairs.
func agentInfoOf(subs ...any) []byte {
	var b []byte
	for i := 0; i+1 < len(subs); i += 2 {
		b = dhcpv4.AppendSubOption(b, subs[i].(uint8), []byte(subs[i+1].(string)))
	}
	return b
}

// hasAgentInfo reports whether p carries option 82 with value want (any
// value when want is nil).
func hasAgentInfo(p *dhcpv4.Packet, want []byte) bool {
	v, ok := p.Options.Get(dhcpv4.OptRelayAgentInfo)
	return ok && (want == nil || bytes.Equal(v, want))
}

// The other implementations of the interoperability tests, and their
// Debian packages.
var relayCommandPackages = map[string]string{
	"dhcrelay":  "isc-dhcp-relay",
	"kea-dhcp4": "kea-dhcp4-server",
}

// requireInterop is requireCommands for the common commands, and for the
// other implementations: it skips t when one is missing, or fails it when
// CI is "true".
func requireInterop(t *testing.T, common []string, others ...string) {
	t.Helper()
	requireCommands(t, common...)
	var missing []string
	for _, n := range others {
		if _, err := exec.LookPath(n); err != nil {
			missing = append(missing, fmt.Sprintf("%s (Debian package %s)", n, relayCommandPackages[n]))
		}
	}
	if len(missing) == 0 {
		return
	}
	msg := fmt.Sprintf("missing commands: %v", missing)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + "; CI must install them")
	}
	t.Skip(msg)
}

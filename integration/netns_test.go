//go:build linux

package integration

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// nsCounter numbers the networks made by this test process, so that
// namespace names (prefix, process ID, number) never collide, also with
// another run of the tests at the same time.
var nsCounter atomic.Int64

// link is one Ethernet segment: a bridge in a namespace of its own (the
// hub), and hosts, each in a namespace of its own with one interface,
// eth0, whose veth peer is a port of the bridge. Hosts see one another and
// nothing else.
type link struct {
	t      *testing.T
	prefix string // of the namespace names
	hub    string // namespace of the bridge
	hosts  int
}

// host is one namespace on a link.
type host struct {
	link *link
	name string // for logs: "server", "client1", ...
	ns   string
	mac  string // of eth0
}

// newLink makes the hub namespace and its bridge. Cleanup deletes the hub
// and every host namespace after the processes of the test have been
// stopped (cleanups run last registered first, and the processes of a test
// are always started after its link).
func newLink(t *testing.T) *link {
	t.Helper()
	l := &link{t: t, prefix: fmt.Sprintf("leased-it-%d-%d", os.Getpid(), nsCounter.Add(1))}
	l.hub = l.prefix + "-hub"
	l.addNamespace(l.hub)
	l.ip("-n", l.hub, "link", "add", "br0", "type", "bridge", "stp_state", "0", "forward_delay", "0")
	l.ip("-n", l.hub, "link", "set", "br0", "up")
	return l
}

// addNamespace creates namespace ns, with IPv6 off so that the only
// traffic on the link is the tests' own IPv4, and loopback up. Cleanup
// deletes it.
func (l *link) addNamespace(ns string) {
	l.t.Helper()
	l.ip("netns", "add", ns)
	l.t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", ns).CombinedOutput(); err != nil {
			l.t.Errorf("ip netns del %s: %v: %s", ns, err, out)
		}
	})
	if _, err := os.Stat("/proc/sys/net/ipv6"); err == nil {
		l.ip("netns", "exec", ns, "sh", "-c",
			"echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6 && echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6")
	}
	l.ip("-n", ns, "link", "set", "lo", "up")
}

// addHost makes a host namespace joined to the bridge, with the given
// addresses (198.18.0.0/15 prefixes such as "198.18.0.1/24") on its eth0.
// Its MAC address is 02:c6:12:00:HH:LL, where HHLL is the host's number on
// the link, from 1: locally administered and easy to spot in logs.
func (l *link) addHost(name string, addrs ...string) *host {
	l.t.Helper()
	l.hosts++
	n := l.hosts
	h := &host{
		link: l,
		name: name,
		ns:   fmt.Sprintf("%s-%d", l.prefix, n),
		mac:  fmt.Sprintf("02:c6:12:00:%02x:%02x", n>>8, n&0xff),
	}
	l.addNamespace(h.ns)
	port := fmt.Sprintf("p%d", n)
	l.ip("-n", l.hub, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", h.ns)
	l.ip("-n", l.hub, "link", "set", port, "master", "br0", "up")
	l.ip("-n", h.ns, "link", "set", "eth0", "address", h.mac)
	for _, a := range addrs {
		p := netip.MustParsePrefix(a)
		if !testRange.Contains(p.Addr()) {
			l.t.Fatalf("addHost %s: %s is outside %s", name, a, testRange)
		}
		l.ip("-n", h.ns, "addr", "add", a, "dev", "eth0")
	}
	l.ip("-n", h.ns, "link", "set", "eth0", "up")
	return h
}

// testRange is the only address range the tests use (RFC 2544).
var testRange = netip.MustParsePrefix("198.18.0.0/15")

// ip runs the ip command and fails the test when it fails.
func (l *link) ip(args ...string) {
	l.t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		l.t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// command returns a command that runs argv inside the host's namespace.
func (h *host) command(argv ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", h.ns}, argv...)...)
}

// addrs returns the IPv4 addresses on the host's eth0.
func (h *host) addrs() ([]netip.Prefix, error) {
	out, err := exec.Command("ip", "-j", "-n", h.ns, "-4", "addr", "show", "dev", "eth0").Output()
	if err != nil {
		return nil, fmt.Errorf("%s: ip addr show: %w", h.name, err)
	}
	var ifs []struct {
		AddrInfo []struct {
			Local     string `json:"local"`
			PrefixLen int    `json:"prefixlen"`
		} `json:"addr_info"`
	}
	if err := json.Unmarshal(out, &ifs); err != nil {
		return nil, fmt.Errorf("%s: ip -j addr show: %w", h.name, err)
	}
	var ps []netip.Prefix
	for _, i := range ifs {
		for _, a := range i.AddrInfo {
			ip, err := netip.ParseAddr(a.Local)
			if err != nil {
				return nil, fmt.Errorf("%s: ip -j addr show: %w", h.name, err)
			}
			ps = append(ps, netip.PrefixFrom(ip, a.PrefixLen))
		}
	}
	return ps, nil
}

// hasAddr reports whether p (address and prefix length) is on the host's
// eth0.
func (h *host) hasAddr(p netip.Prefix) (bool, error) {
	ps, err := h.addrs()
	if err != nil {
		return false, err
	}
	for _, q := range ps {
		if q == p {
			return true, nil
		}
	}
	return false, nil
}

// flushAddrs removes every IPv4 address from the host's eth0, as a reboot
// would.
func (h *host) flushAddrs() {
	h.link.t.Helper()
	h.link.ip("-n", h.ns, "-4", "addr", "flush", "dev", "eth0")
}

// Waits. The machines running these tests are shared and slow: deadlines
// are generous, and a wait returns as soon as its condition holds.
const (
	pollEvery = 100 * time.Millisecond
	// startWait bounds the start of a process (the server's "serving").
	startWait = 20 * time.Second
	// leaseWait bounds obtaining a lease: a few DHCPDISCOVERs.
	leaseWait = 45 * time.Second
	// renewWait bounds waiting for a renewal at T1 of a short lease
	// (shortLease), counted from the start of the wait.
	renewWait = 60 * time.Second
	// stopWait bounds a process's exit after a signal.
	stopWait = 20 * time.Second
)

// shortLease is the lease time of the renewal tests: T1 is half of it.
const shortLease = 20 * time.Second

// waitFor polls cond until it reports done or fails, or timeout passes.
// The error says what was awaited.
func waitFor(timeout time.Duration, what string, cond func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for {
		done, err := cond()
		if err != nil {
			return fmt.Errorf("waiting for %s: %w", what, err)
		}
		if done {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("waiting for %s: %w after %v", what, errTimeout, timeout)
		}
		time.Sleep(pollEvery)
	}
}

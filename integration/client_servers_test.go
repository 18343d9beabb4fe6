//go:build linux

package integration

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// This file holds the DHCP servers the tests of "leased client" run
// against: leased server, dnsmasq and ISC Kea, each configured alike (the
// same pool, router, DNS server and domain, T1 10 s and T2 15 s) and read
// back alike (did it acknowledge, see a release, see a decline).

// lcServerKind is a DHCP server implementation.
type lcServerKind string

// The servers.
const (
	lcLeased  lcServerKind = "leased"  // leased server, this repository
	lcDnsmasq lcServerKind = "dnsmasq" // dnsmasq, Debian dnsmasq-base
	lcKea     lcServerKind = "kea"     // ISC Kea, Debian kea-dhcp4-server
)

// lcServerKinds are the servers every client test runs against.
var lcServerKinds = []lcServerKind{lcLeased, lcDnsmasq, lcKea}

// lcTimes are the lease, renewal and rebinding times a server gives.
type lcTimes struct{ lease, t1, t2 time.Duration }

// lcTimesOf returns the times of kind in these tests: a 20 s lease, or
// for dnsmasq, which refuses leases under two minutes, a 2 min lease; T1
// and T2 are 10 s and 15 s for all three, sent as options 58 and 59.
func lcTimesOf(kind lcServerKind) lcTimes {
	if kind == lcDnsmasq {
		return lcTimes{2 * time.Minute, 10 * time.Second, 15 * time.Second}
	}
	return lcTimes{20 * time.Second, 10 * time.Second, 15 * time.Second}
}

// The configuration every server hands out, and what the client must
// make of it.
const (
	lcDNS    = "198.18.0.53"
	lcDomain = "example.net"
	// lcStaticNet is a classless static route (RFC 3442) through lcHop,
	// given by the servers that can send option 121 (leased, dnsmasq).
	lcStaticNet = "198.19.0.0/16"
	lcHop       = "198.18.0.254"
	// lcMTU is the interface MTU (option 26) leased server gives.
	lcMTU = 1400
)

// lcClasslessRoutes reports whether kind sends option 121 in these tests.
// Kea 2.2 has no definition of it to configure by name.
func lcClasslessRoutes(kind lcServerKind) bool { return kind != lcKea }

// lcRequire skips or fails t (see requireCommands) unless the server kind
// can run.
func lcRequire(t *testing.T, kind lcServerKind) {
	t.Helper()
	switch kind {
	case lcDnsmasq:
		requireCommands(t, "dnsmasq")
	case lcKea:
		requireInterop(t, nil, "kea-dhcp4")
	default:
		requireCommands(t)
	}
}

// lcServer is a DHCP server running on a host for the client tests.
type lcServer struct {
	kind   lcServerKind
	host   *host
	proc   *proc
	leased *leasedServer // kind lcLeased only
	times  lcTimes
}

// startLCServer starts a server of kind on h (at serverAddr on eth0)
// with pool, and waits until it serves.
func startLCServer(t *testing.T, kind lcServerKind, h *host, pool addrRange) *lcServer {
	t.Helper()
	s := &lcServer{kind: kind, host: h, times: lcTimesOf(kind)}
	dir := t.TempDir()
	switch kind {
	case lcLeased:
		cfg := filepath.Join(dir, "leased.yaml")
		writeFile(t, cfg, fmt.Sprintf(`interfaces: [eth0]
lease-time: %s
renewal-time: %s
rebinding-time: %s
subnets:
  - prefix: 198.18.0.0/24
    pools: [%s]
    options:
      routers: [%s]
      dns-servers: [%s]
      domain-name: %s
      classless-routes:
        - 0.0.0.0/0 via %s
        - %s via %s
      interface-mtu: %d
`, s.times.lease, s.times.t1, s.times.t2, pool, serverAddr, lcDNS, lcDomain, serverAddr, lcStaticNet, lcHop, lcMTU), 0o644)
		s.leased = startServer(t, h, newStore(t), "--config", cfg)
		s.proc = s.leased.proc
	case lcDnsmasq:
		s.proc = startProc(t, h, "dnsmasq on "+h.name, filepath.Join(dir, "dnsmasq.log"), nil,
			"dnsmasq", "--no-daemon", "--conf-file=/dev/null", "--port=0", "--no-resolv", "--no-hosts",
			"--user=root", "--group=root", "--pid-file="+filepath.Join(dir, "dnsmasq.pid"),
			"--interface=eth0", "--bind-interfaces", "--no-ping",
			fmt.Sprintf("--dhcp-range=%s,%s,255.255.255.0,%ds", pool.first, pool.last, int(s.times.lease/time.Second)),
			"--dhcp-leasefile="+filepath.Join(dir, "dnsmasq.leases"),
			"--dhcp-option=option:router,"+serverAddr,
			"--dhcp-option=option:dns-server,"+lcDNS,
			"--dhcp-option=option:domain-name,"+lcDomain,
			fmt.Sprintf("--dhcp-option=option:T1,%d", int(s.times.t1/time.Second)),
			fmt.Sprintf("--dhcp-option=option:T2,%d", int(s.times.t2/time.Second)),
			fmt.Sprintf("--dhcp-option=option:classless-static-route,0.0.0.0/0,%s,%s,%s", serverAddr, lcStaticNet, lcHop),
			"--log-dhcp", "--log-facility=-")
		s.waitLog(t, "DHCP, IP range")
	case lcKea:
		conf := map[string]any{"Dhcp4": map[string]any{
			// Raw sockets, to answer clients that have no address yet.
			"interfaces-config": map[string]any{"interfaces": []string{"eth0"}, "dhcp-socket-type": "raw"},
			"lease-database":    map[string]any{"type": "memfile", "persist": false},
			"valid-lifetime":    int(s.times.lease / time.Second),
			"renew-timer":       int(s.times.t1 / time.Second),
			"rebind-timer":      int(s.times.t2 / time.Second),
			"subnet4": []any{map[string]any{
				"id":     1,
				"subnet": "198.18.0.0/24",
				"pools":  []any{map[string]any{"pool": pool.first.String() + " - " + pool.last.String()}},
				"option-data": []any{
					map[string]any{"name": "routers", "data": serverAddr},
					map[string]any{"name": "domain-name-servers", "data": lcDNS},
					map[string]any{"name": "domain-name", "data": lcDomain},
				},
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
		// Its PID and lock files in the test's directory: never those of
		// a system service.
		env := []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			"KEA_PIDFILE_DIR=" + dir, "KEA_LOCKFILE_DIR=" + dir}
		s.proc = startProc(t, h, "kea-dhcp4 on "+h.name, filepath.Join(dir, "kea.log"), env, "kea-dhcp4", "-c", path)
		s.waitLog(t, "DHCP4_STARTED")
		if strings.Contains(s.proc.output(), "DHCPSRV_OPEN_SOCKET_FAIL") {
			t.Fatalf("Kea could not open its socket:\n%s", tail(s.proc.output(), 20))
		}
	default:
		t.Fatalf("unknown server kind %q", kind)
	}
	return s
}

// waitLog waits for the server's output to hold line.
func (s *lcServer) waitLog(t *testing.T, line string) {
	t.Helper()
	err := waitFor(startWait, fmt.Sprintf("%s to log %q", s.kind, line), func() (bool, error) {
		if s.proc.exited() {
			return false, fmt.Errorf("it exited (%v):\n%s", s.proc.err, tail(s.proc.output(), 20))
		}
		return strings.Contains(s.proc.output(), line), nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// stop stops the server (SIGTERM) and waits for it to end.
func (s *lcServer) stop(t *testing.T) {
	t.Helper()
	s.proc.stop(syscall.SIGTERM)
	if !s.proc.exited() {
		t.Fatalf("%s did not stop", s.kind)
	}
}

// lcServerEvent is something a server logs about a client's address.
type lcServerEvent string

// The events.
const (
	lcAck      lcServerEvent = "ack"      // DHCPACK sent
	lcReleased lcServerEvent = "released" // DHCPRELEASE processed
	lcDeclined lcServerEvent = "declined" // DHCPDECLINE processed
)

// count returns how many times the server has logged event for the client
// with hardware address mac and address addr.
func (s *lcServer) count(event lcServerEvent, mac string, addr netip.Addr) int {
	switch s.kind {
	case lcLeased:
		return len(s.leased.records(map[string]string{"msg": "lease", "event": string(event), "client": mac, "addr": addr.String()}))
	case lcDnsmasq:
		// "DHCPACK(eth0) 198.18.0.100 02:c6:12:00:00:02"
		msg := map[lcServerEvent]string{lcAck: "DHCPACK", lcReleased: "DHCPRELEASE", lcDeclined: "DHCPDECLINE"}[event]
		re := regexp.MustCompile(regexp.QuoteMeta(msg+"(eth0) "+addr.String()+" "+mac) + `\b`)
		return len(re.FindAllString(s.proc.output(), -1))
	default:
		// "DHCP4_LEASE_ALLOC [hwtype=1 02:c6:12:00:00:02], cid=[...], tid=...: lease 198.18.0.100 has been allocated"
		var re *regexp.Regexp
		q := regexp.QuoteMeta
		switch event {
		case lcAck:
			re = regexp.MustCompile(`DHCP4_LEASE_ALLOC \[hwtype=1 ` + q(mac) + `\].*: lease ` + q(addr.String()) + ` has been allocated`)
		case lcReleased:
			re = regexp.MustCompile(`DHCP4_RELEASE \[hwtype=1 ` + q(mac) + `\].*: address ` + q(addr.String()) + ` was released properly`)
		default:
			re = regexp.MustCompile(`DHCP4_DECLINE_LEASE .*` + q(addr.String()) + `\b`)
		}
		return len(re.FindAllString(s.proc.output(), -1))
	}
}

// waitCount waits until the server has logged event more than after
// times for the client and address.
func (s *lcServer) waitCount(t *testing.T, timeout time.Duration, after int, event lcServerEvent, mac string, addr netip.Addr) {
	t.Helper()
	err := waitFor(timeout, fmt.Sprintf("%s to log %s of %v to %s", s.kind, event, addr, mac), func() (bool, error) {
		return s.count(event, mac, addr) > after, nil
	})
	if err != nil {
		t.Fatalf("%v; its log ends:\n%s", err, tail(s.proc.output(), 15))
	}
}

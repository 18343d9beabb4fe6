//go:build linux

package integration

import (
	"bufio"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// clientKind names a DHCP client implementation.
type clientKind string

// The clients.
const (
	dhclient clientKind = "dhclient" // ISC dhclient, Debian isc-dhcp-client
	udhcpc   clientKind = "udhcpc"   // busybox udhcpc, Debian udhcpc
)

// clientKinds are the real clients every per-client test runs with.
var clientKinds = []clientKind{dhclient, udhcpc}

// dhcpClient is a real DHCP client on a host, with a hook script that
// configures the address it gets and records each invocation in a file of
// its own.
type dhcpClient struct {
	t      *testing.T
	kind   clientKind
	host   *host
	dir    string // script, configuration, lease file, run logs
	events string // one file per hook invocation, named by its number
	reject []string
	name   string   // sent to the server, see sendName; "" for none
	conf   []string // more lines of dhclient.conf ("send host-name ...;")
	proc   *proc    // the current run; nil before start
	runs   int
}

// sendName makes the client send name from its next start: dhclient in the
// client FQDN option (81, RFC 4702) asking the server to update the DNS
// (S=1), udhcpc as its host name (option 12).
func (c *dhcpClient) sendName(name string) { c.name = name }

// newClient prepares a client of kind on h. reject (dhclient only) lists
// server identifiers whose offers the client refuses, which decides which
// of two servers it takes.
func newClient(t *testing.T, kind clientKind, h *host, reject ...string) *dhcpClient {
	t.Helper()
	if len(reject) > 0 && kind != dhclient {
		t.Fatalf("newClient: only dhclient can reject servers")
	}
	c := &dhcpClient{t: t, kind: kind, host: h, dir: t.TempDir(), reject: reject}
	c.events = filepath.Join(c.dir, "events")
	if err := os.Mkdir(c.events, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, c.path("hook"), fmt.Sprintf(hookScript, shellQuote(c.events)), 0o755)
	return c
}

// hookScript is the client's script, for dhclient (-sf; the reason in
// $reason, the lease in $new_*) and for udhcpc (-s; the reason in $1, the
// lease in $ip, $mask, ...). It configures the address, then records the
// reason and the environment. %s is the quoted events directory.
const hookScript = `#!/bin/sh
events=%s
reason=${reason:-$1}
case $reason in
# dhclient
BOUND|RENEW|REBIND|REBOOT)
	if [ -n "$old_ip_address" ] && [ "$old_ip_address" != "$new_ip_address" ]; then
		ip -4 addr del "$old_ip_address/$old_subnet_mask" dev "$interface"
	fi
	ip -4 addr replace "$new_ip_address/$new_subnet_mask" dev "$interface" ;;
EXPIRE|FAIL|RELEASE|STOP)
	if [ -n "$old_ip_address" ]; then
		ip -4 addr del "$old_ip_address/$old_subnet_mask" dev "$interface"
	fi ;;
PREINIT)
	ip link set "$interface" up ;;
# udhcpc
bound)
	ip -4 addr flush dev "$interface"
	ip -4 addr add "$ip/$mask" dev "$interface" ;;
renew)
	ip -4 addr replace "$ip/$mask" dev "$interface" ;;
deconfig)
	ip -4 addr flush dev "$interface" ;;
esac
n=$(( $(cat "$events/seq" 2>/dev/null || echo 0) + 1 ))
echo "$n" > "$events/seq"
{ echo "reason=$reason"; env; } > "$events/.new"
mv "$events/.new" "$events/$(printf %%04d "$n")"
exit 0
`

// shellQuote quotes s for sh.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// path returns the path of a file of the client's.
func (c *dhcpClient) path(name string) string { return filepath.Join(c.dir, name) }

// argv returns the client's command line. A persistent client keeps its
// lease, renewing it, until killed; otherwise it tries for about timeout
// and exits, with status 0 only when it got a lease. dhclient is the same
// in both cases: it gives up after timeout without a lease, and keeps one
// it got.
func (c *dhcpClient) argv(persistent bool, timeout time.Duration) []string {
	secs := int(timeout / time.Second)
	switch c.kind {
	case dhclient:
		// -1: try once, exit 2 on failure after the "timeout" of the
		// configuration. A lease obtained is kept and renewed.
		conf := fmt.Sprintf("timeout %d;\ninitial-interval 1;\n", secs)
		if len(c.reject) > 0 {
			conf += "reject " + strings.Join(c.reject, ", ") + ";\n"
		}
		conf += "request subnet-mask, broadcast-address, routers, domain-name, domain-name-servers;\n"
		if c.name != "" {
			conf += fmt.Sprintf("send fqdn.fqdn %q;\nsend fqdn.server-update on;\n", c.name)
		}
		for _, l := range c.conf {
			conf += l + "\n"
		}
		writeFile(c.t, c.path("dhclient.conf"), conf, 0o644)
		argv := []string{"dhclient", "-d", "-1", "-v"}
		return append(argv, c.dhclientFiles()...)
	default:
		argv := []string{"udhcpc", "-f", "-i", "eth0", "-s", c.path("hook"), "-T", "1"}
		if c.name != "" {
			argv = append(argv, "-x", "hostname:"+c.name)
		}
		if persistent {
			// Retry for ever; release on exit (SIGTERM).
			return append(argv, "-R", "-t", "5", "-A", "1")
		}
		// Give up after secs DHCPDISCOVERs a second apart; quit once bound.
		return append(argv, "-n", "-q", "-t", strconv.Itoa(max(secs, 1)), "-A", "1")
	}
}

// dhclientFiles are dhclient's file flags and interface.
func (c *dhcpClient) dhclientFiles() []string {
	return []string{"-cf", c.path("dhclient.conf"), "-sf", c.path("hook"),
		"-lf", c.path("dhclient.leases"), "-pf", c.path("dhclient.pid"), "eth0"}
}

// start runs the client until the test ends, or release or kill: it
// obtains a lease and keeps renewing it.
func (c *dhcpClient) start() {
	c.t.Helper()
	if c.proc != nil && !c.proc.exited() {
		c.t.Fatalf("%s on %s: already running", c.kind, c.host.name)
	}
	c.runs++
	c.proc = startProc(c.t, c.host, fmt.Sprintf("%s on %s (run %d)", c.kind, c.host.name, c.runs),
		c.path(fmt.Sprintf("run-%d.log", c.runs)), nil, c.argv(true, leaseWait)...)
}

// tryOnce runs the client for one bounded attempt of about timeout and
// reports whether it obtained a lease. A dhclient that got one stays up,
// keeping it; an udhcpc has exited.
func (c *dhcpClient) tryOnce(timeout time.Duration) bool {
	c.t.Helper()
	before := len(c.eventsSoFar())
	c.runs++
	c.proc = startProc(c.t, c.host, fmt.Sprintf("%s on %s (run %d, one attempt)", c.kind, c.host.name, c.runs),
		c.path(fmt.Sprintf("run-%d.log", c.runs)), nil, c.argv(false, timeout)...)
	got := false
	err := waitFor(timeout+stopWait, fmt.Sprintf("%s on %s to get a lease or give up", c.kind, c.host.name), func() (bool, error) {
		exited := c.proc.exited() // before reading events: the hook runs before the exit
		for _, e := range c.eventsSoFar()[before:] {
			if e.bound() {
				got = true
				return true, nil
			}
		}
		return exited, nil
	})
	if err != nil {
		c.t.Fatal(err)
	}
	if !got && c.proc.exitCode() == 0 {
		c.t.Fatalf("%s on %s: exited with status 0 without configuring a lease", c.kind, c.host.name)
	}
	return got
}

// clientEvent is one invocation of the hook script.
type clientEvent struct {
	seq    int
	reason string // lower case: bound, renew, rebind, reboot, release, deconfig, ...
	env    map[string]string
}

// bound reports whether the event configures a lease.
func (e clientEvent) bound() bool {
	switch e.reason {
	case "bound", "renew", "rebind", "reboot":
		return true
	}
	return false
}

// eventsSoFar returns the hook's invocations so far, in order.
func (c *dhcpClient) eventsSoFar() []clientEvent {
	c.t.Helper()
	names, err := filepath.Glob(filepath.Join(c.events, "[0-9][0-9][0-9][0-9]"))
	if err != nil {
		c.t.Fatal(err)
	}
	slices.Sort(names)
	var evs []clientEvent
	for _, name := range names {
		f, err := os.Open(name)
		if err != nil {
			c.t.Fatal(err)
		}
		e := clientEvent{env: map[string]string{}}
		e.seq, _ = strconv.Atoi(filepath.Base(name))
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), "="); ok {
				e.env[k] = v
			}
		}
		f.Close()
		e.reason = strings.ToLower(e.env["reason"])
		evs = append(evs, e)
	}
	return evs
}

// waitEvent waits for a hook invocation after the first after ones whose
// reason is one of reasons, and returns it.
func (c *dhcpClient) waitEvent(timeout time.Duration, after int, reasons ...string) clientEvent {
	c.t.Helper()
	var found clientEvent
	err := waitFor(timeout, fmt.Sprintf("%s on %s: hook reason %v", c.kind, c.host.name, reasons), func() (bool, error) {
		evs := c.eventsSoFar()
		for _, e := range evs[min(after, len(evs)):] {
			if slices.Contains(reasons, e.reason) {
				found = e
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		c.t.Fatal(err)
	}
	return found
}

// waitLease waits for the client to configure a lease (bound, renew,
// rebind or reboot) after its first after hook invocations, and returns
// the lease as the hook saw it.
func (c *dhcpClient) waitLease(after int) clientLease {
	c.t.Helper()
	e := c.waitEvent(leaseWait, after, "bound", "renew", "rebind", "reboot")
	l, err := c.leaseOf(e)
	if err != nil {
		c.t.Fatal(err)
	}
	return l
}

// clientLease is a lease as a client's hook received it.
type clientLease struct {
	reason    string
	addr      netip.Prefix // address and mask
	routers   []netip.Addr
	dns       []netip.Addr
	domain    string
	leaseTime time.Duration
	t1        time.Duration // renewal time (option 58); 0 when not sent
	serverID  netip.Addr
}

// leaseOf reads the lease out of a hook invocation, from dhclient's new_*
// variables or udhcpc's.
func (c *dhcpClient) leaseOf(e clientEvent) (clientLease, error) {
	l := clientLease{reason: e.reason}
	get := func(dh, ud string) string {
		if c.kind == dhclient {
			return e.env[dh]
		}
		return e.env[ud]
	}
	ip, err := netip.ParseAddr(get("new_ip_address", "ip"))
	if err != nil {
		return l, fmt.Errorf("%s hook %d (%s): address: %w", c.kind, e.seq, e.reason, err)
	}
	var bits int
	if c.kind == dhclient {
		m, err := netip.ParseAddr(e.env["new_subnet_mask"])
		if err != nil {
			return l, fmt.Errorf("dhclient hook %d: new_subnet_mask: %w", e.seq, err)
		}
		bits = maskBits(m)
	} else if bits, err = strconv.Atoi(e.env["mask"]); err != nil {
		return l, fmt.Errorf("udhcpc hook %d: mask: %w", e.seq, err)
	}
	if bits < 0 || bits > 32 {
		return l, fmt.Errorf("%s hook %d: not a contiguous mask", c.kind, e.seq)
	}
	l.addr = netip.PrefixFrom(ip, bits)
	if l.routers, err = parseAddrs(get("new_routers", "router")); err != nil {
		return l, fmt.Errorf("%s hook %d: routers: %w", c.kind, e.seq, err)
	}
	if l.dns, err = parseAddrs(get("new_domain_name_servers", "dns")); err != nil {
		return l, fmt.Errorf("%s hook %d: DNS servers: %w", c.kind, e.seq, err)
	}
	l.domain = get("new_domain_name", "domain")
	secs, err := strconv.Atoi(get("new_dhcp_lease_time", "lease"))
	if err != nil {
		return l, fmt.Errorf("%s hook %d: lease time: %w", c.kind, e.seq, err)
	}
	l.leaseTime = time.Duration(secs) * time.Second
	// dhclient gives T1 in seconds; udhcpc gives unknown options in hex.
	if v := e.env["new_dhcp_renewal_time"]; c.kind == dhclient && v != "" {
		secs, err := strconv.Atoi(v)
		if err != nil {
			return l, fmt.Errorf("dhclient hook %d: new_dhcp_renewal_time: %w", e.seq, err)
		}
		l.t1 = time.Duration(secs) * time.Second
	} else if v := e.env["opt58"]; c.kind == udhcpc && v != "" {
		secs, err := strconv.ParseUint(v, 16, 32)
		if err != nil {
			return l, fmt.Errorf("udhcpc hook %d: opt58: %w", e.seq, err)
		}
		l.t1 = time.Duration(secs) * time.Second
	}
	if sid := get("new_dhcp_server_identifier", "serverid"); sid != "" {
		if l.serverID, err = netip.ParseAddr(sid); err != nil {
			return l, fmt.Errorf("%s hook %d: server identifier: %w", c.kind, e.seq, err)
		}
	}
	return l, nil
}

// maskBits returns the prefix length of a contiguous mask, or -1.
func maskBits(m netip.Addr) int {
	b := m.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	n := 0
	for v&(1<<31) != 0 {
		n++
		v <<= 1
	}
	if v != 0 {
		return -1
	}
	return n
}

// parseAddrs parses a space-separated list of addresses.
func parseAddrs(s string) ([]netip.Addr, error) {
	var as []netip.Addr
	for _, f := range strings.Fields(s) {
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, err
		}
		as = append(as, a)
	}
	return as, nil
}

// release makes the running client release its lease and exit: dhclient
// -r (which stops the running dhclient through its PID file and sends the
// DHCPRELEASE), or SIGTERM to udhcpc, started with -R.
func (c *dhcpClient) release() {
	c.t.Helper()
	if c.proc == nil || c.proc.exited() {
		c.t.Fatalf("%s on %s: release: not running", c.kind, c.host.name)
	}
	switch c.kind {
	case dhclient:
		cmd := c.host.command(append([]string{"dhclient", "-r", "-v"}, c.dhclientFiles()...)...)
		cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
		if out, err := cmd.CombinedOutput(); err != nil {
			c.t.Fatalf("dhclient -r on %s: %v: %s", c.host.name, err, out)
		}
		// dhclient -r stops the running dhclient with SIGTERM.
		if c.proc.wait(stopWait); !c.proc.exited() {
			c.t.Fatalf("dhclient on %s still runs after dhclient -r", c.host.name)
		}
	default:
		if err := c.proc.stop(syscall.SIGTERM); err != nil {
			c.t.Fatalf("udhcpc on %s: SIGTERM: %v", c.host.name, err)
		}
		if out := c.proc.output(); !strings.Contains(out, "sending release") {
			c.t.Fatalf("udhcpc on %s: no release sent on SIGTERM:\n%s", c.host.name, tail(out, 10))
		}
	}
}

// renewNow makes udhcpc renew at once (SIGUSR1).
func (c *dhcpClient) renewNow() {
	c.t.Helper()
	if c.kind != udhcpc {
		c.t.Fatalf("renewNow: only udhcpc renews on a signal")
	}
	if err := c.proc.signal(syscall.SIGUSR1); err != nil {
		c.t.Fatal(err)
	}
}

// kill stops the client abruptly (SIGKILL), as a crash or a power cut
// would: no DHCPRELEASE, and dhclient's lease file stays.
func (c *dhcpClient) kill() {
	c.t.Helper()
	if c.proc == nil || c.proc.exited() {
		c.t.Fatalf("%s on %s: kill: not running", c.kind, c.host.name)
	}
	c.proc.stop(syscall.SIGKILL)
}

// runLog returns the output of the client's current run.
func (c *dhcpClient) runLog() string { return c.proc.output() }

// requireClientCommands is requireCommands for the client kinds.
func requireClientCommands(t *testing.T, kinds ...clientKind) {
	t.Helper()
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = string(k)
	}
	requireCommands(t, names...)
}

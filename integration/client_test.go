//go:build linux

package integration

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The tests of "leased client" against leased server, dnsmasq and Kea.
// Each runs the client as a daemon in a host namespace, with a hook script
// that records each invocation (its reason and environment) in a file of
// its own, and with --log-level debug, whose lines ("state from=BOUND
// to=RENEWING", "sending ... DHCPDISCOVER") the tests read back. They check
// what the interface ends up with (ip -j addr, route, link) and what the
// server logged.

// lcPool is the pool of the client tests.
var lcPool = mustRange("198.18.0.100", "198.18.0.149")

// lcSlack is added to every wait on a lease timer: the machines running
// the tests are shared and slow, and the client's retransmission jitter
// is a second.
const lcSlack = 20 * time.Second

// lcClient is "leased client" on a host, with its state directory and
// hook script.
type lcClient struct {
	t      *testing.T
	host   *host
	dir    string // hook script and run logs
	state  string // --state-dir
	events string // one file per hook invocation
	proc   *proc  // the current run
	runs   int
}

// lcHook records its reason argument and environment in the events
// directory, one file per run, numbered. %s is the quoted directory.
const lcHook = `#!/bin/sh
events=%s
n=$(( $(cat "$events/seq" 2>/dev/null || echo 0) + 1 ))
echo "$n" > "$events/seq"
{ echo "arg=$1"; env; } > "$events/.new"
mv "$events/.new" "$events/$(printf %%04d "$n")"
`

func newLCClient(t *testing.T, h *host) *lcClient {
	t.Helper()
	c := &lcClient{t: t, host: h, dir: t.TempDir()}
	c.state = filepath.Join(c.dir, "state")
	c.events = filepath.Join(c.dir, "events")
	if err := os.Mkdir(c.events, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, c.hookPath(), fmt.Sprintf(lcHook, shellQuote(c.events)), 0o755)
	return c
}

func (c *lcClient) hookPath() string  { return filepath.Join(c.dir, "hook") }
func (c *lcClient) leaseFile() string { return filepath.Join(c.state, "client-eth0.json") }

// argv is the client's command line with extra flags: short ARP probes
// (two, 100 ms apart) and a short offer window keep the tests quick.
func (c *lcClient) argv(extra ...string) []string {
	return append([]string{build.path, "client", "-i", "eth0", "--state-dir", c.state,
		"--script", c.hookPath(), "--arp-probes", "2", "--arp-interval", "100ms",
		"--offer-wait", "200ms", "--log-level", "debug"}, extra...)
}

// start runs the client as a daemon.
func (c *lcClient) start(extra ...string) {
	c.t.Helper()
	if c.proc != nil && !c.proc.exited() {
		c.t.Fatalf("leased client on %s: already running", c.host.name)
	}
	c.runs++
	c.proc = startProc(c.t, c.host, fmt.Sprintf("leased client on %s (run %d)", c.host.name, c.runs),
		filepath.Join(c.dir, fmt.Sprintf("run-%d.log", c.runs)), nil, c.argv(extra...)...)
}

// lcEvent is one run of the hook.
type lcEvent struct {
	seq    int
	reason string
	env    map[string]string
}

// eventsSoFar returns the hook's runs so far, in order.
func (c *lcClient) eventsSoFar() []lcEvent {
	c.t.Helper()
	names, err := filepath.Glob(filepath.Join(c.events, "[0-9][0-9][0-9][0-9]"))
	if err != nil {
		c.t.Fatal(err)
	}
	slices.Sort(names)
	var evs []lcEvent
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			c.t.Fatal(err)
		}
		e := lcEvent{env: map[string]string{}}
		e.seq, _ = strconv.Atoi(filepath.Base(name))
		sc := bufio.NewScanner(strings.NewReader(string(b)))
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), "="); ok {
				e.env[k] = v
			}
		}
		e.reason = e.env["reason"]
		if e.env["arg"] != e.reason {
			c.t.Errorf("hook run %d: argument %q, reason %q: want them equal", e.seq, e.env["arg"], e.reason)
		}
		evs = append(evs, e)
	}
	return evs
}

// nextEvent waits up to timeout for a hook run after the first after, and
// returns it.
func (c *lcClient) nextEvent(timeout time.Duration, after int) lcEvent {
	c.t.Helper()
	var found lcEvent
	err := waitFor(timeout, fmt.Sprintf("leased client on %s: hook run %d", c.host.name, after+1), func() (bool, error) {
		if evs := c.eventsSoFar(); len(evs) > after {
			found = evs[after]
			return true, nil
		}
		return false, nil
	})
	if err != nil {
		c.t.Fatalf("%v; the client's log ends:\n%s", err, tail(c.proc.output(), 30))
	}
	return found
}

// expectEvent waits for the next hook run after the first after and fails
// unless its reason is want.
func (c *lcClient) expectEvent(timeout time.Duration, after int, want string) lcEvent {
	c.t.Helper()
	e := c.nextEvent(timeout, after)
	if e.reason != want {
		c.t.Fatalf("hook run %d: reason %s, want %s; the client's log ends:\n%s", e.seq, e.reason, want, tail(c.proc.output(), 30))
	}
	return e
}

// leaseOf returns the address and prefix of a hook run.
func (e lcEvent) leaseOf(t *testing.T) netip.Prefix {
	t.Helper()
	p, err := netip.ParsePrefix(e.env["cidr"])
	if err != nil {
		t.Fatalf("hook run %d (%s): cidr %q: %v", e.seq, e.reason, e.env["cidr"], err)
	}
	return p
}

// logLines returns the lines of the current run's log that contain all
// of parts.
func (c *lcClient) logLines(parts ...string) []string {
	var out []string
	for _, line := range strings.Split(c.proc.output(), "\n") {
		ok := true
		for _, p := range parts {
			if !strings.Contains(line, p) {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, line)
		}
	}
	return out
}

// lcRoutes returns the IPv4 routes of the host's main table as
// destination -> gateway ("" for on-link).
func lcRoutes(t *testing.T, h *host) map[string]string {
	t.Helper()
	out, err := exec.Command("ip", "-j", "-n", h.ns, "-4", "route", "show").Output()
	if err != nil {
		t.Fatalf("%s: ip route show: %v", h.name, err)
	}
	var rs []struct {
		Dst     string `json:"dst"`
		Gateway string `json:"gateway"`
	}
	if err := json.Unmarshal(out, &rs); err != nil {
		t.Fatalf("%s: ip -j route show: %v", h.name, err)
	}
	m := map[string]string{}
	for _, r := range rs {
		m[r.Dst] = r.Gateway
	}
	return m
}

// interfaceMTU returns the MTU of the host's eth0.
func interfaceMTU(t *testing.T, h *host) int {
	t.Helper()
	out, err := exec.Command("ip", "-j", "-n", h.ns, "link", "show", "dev", "eth0").Output()
	if err != nil {
		t.Fatalf("%s: ip link show: %v", h.name, err)
	}
	var ls []struct {
		MTU int `json:"mtu"`
	}
	if err := json.Unmarshal(out, &ls); err != nil || len(ls) != 1 {
		t.Fatalf("%s: ip -j link show: %v %s", h.name, err, out)
	}
	return ls[0].MTU
}

// checkConfigured fails t unless the host's eth0 has the address p and
// the routes of the server kind: a default route through the server, and
// the classless static route where the server sends option 121.
func checkConfigured(t *testing.T, kind lcServerKind, h *host, p netip.Prefix) {
	t.Helper()
	if ok, err := h.hasAddr(p); err != nil || !ok {
		ps, _ := h.addrs()
		t.Errorf("%v is not on eth0 (it has %v, err %v)", p, ps, err)
	}
	routes := lcRoutes(t, h)
	if gw := routes["default"]; gw != serverAddr {
		t.Errorf("default route via %q, want %s (routes %v)", gw, serverAddr, routes)
	}
	if lcClasslessRoutes(kind) {
		if gw := routes[lcStaticNet]; gw != lcHop {
			t.Errorf("RFC 3442 route %s via %q, want %s (routes %v)", lcStaticNet, gw, lcHop, routes)
		}
	}
}

// checkDeconfigured fails t if the host's eth0 still has address p or a
// default route.
func checkDeconfigured(t *testing.T, h *host, p netip.Prefix) {
	t.Helper()
	if ok, err := h.hasAddr(p); err != nil || ok {
		t.Errorf("%v still on eth0 (err %v)", p, err)
	}
	routes := lcRoutes(t, h)
	if gw, ok := routes["default"]; ok {
		t.Errorf("default route via %s still there", gw)
	}
	if _, ok := routes[lcStaticNet]; ok {
		t.Errorf("route %s still there", lcStaticNet)
	}
}

// newClientNet makes a link with a server host at serverPrefix running a
// server of kind with pool, and a client host.
func newClientNet(t *testing.T, kind lcServerKind, pool addrRange) (*link, *lcServer, *host) {
	t.Helper()
	l := newLink(t)
	srvHost := l.addHost("server", serverPrefix)
	clientHost := l.addHost("client")
	srv := startLCServer(t, kind, srvHost, pool)
	return l, srv, clientHost
}

// TestClientExpiry: with no server answering any more, the client renews
// at T1, rebinds at T2 and, at the end of the lease, removes the address
// and its routes and starts over from INIT.
//
// It is the longest of the client tests (dnsmasq's leases last at least two
// minutes), so it comes first and starts with dnsmasq; the others run
// beside it.
func TestClientExpiry(t *testing.T) {
	t.Parallel()
	for _, kind := range []lcServerKind{lcDnsmasq, lcLeased, lcKea} {
		t.Run("RFC2131 4.4.5 expiry removes the address/"+string(kind), func(t *testing.T) {
			t.Parallel()
			lcRequire(t, kind)
			_, srv, h := newClientNet(t, kind, lcPool)
			c := newLCClient(t, h)
			c.start()
			e := c.expectEvent(leaseWait, 0, "BOUND")
			lease := e.leaseOf(t)
			checkConfigured(t, kind, h, lease)
			srv.stop(t)

			e = c.expectEvent(srv.times.lease+lcSlack, e.seq, "EXPIRE")
			if got := e.leaseOf(t); got != lease {
				t.Errorf("EXPIRE of %v, want %v", got, lease)
			}
			checkDeconfigured(t, h, lease)
			var order []string
			for _, s := range c.logLines("msg=state") {
				if i := strings.Index(s, "from="); i >= 0 {
					order = append(order, s[i:])
				}
			}
			for _, want := range []string{"from=BOUND to=RENEWING", "from=RENEWING to=REBINDING", "from=REBINDING to=SELECTING"} {
				if !slices.Contains(order, want) {
					t.Errorf("no %q in the client's state changes %q", want, order)
				}
			}
			// And it keeps looking for a server.
			err := waitFor(leaseWait, "a DHCPDISCOVER after the expiry", func() (bool, error) {
				return len(c.logLines("sending", "DHCPDISCOVER")) > 1, nil
			})
			if err != nil {
				t.Error(err)
			}
			if c.proc.exited() {
				t.Errorf("the client exited after the expiry: %v", c.proc.err)
			}
		})
	}
}

// TestClientLease takes "leased client" through a lease's life with each
// server: DORA and the configuration of the interface, renewal at T1,
// rebinding at T2 when the renewal gets no answer, INIT-REBOOT after a
// restart, and release.
func TestClientLease(t *testing.T) {
	t.Parallel()
	for _, kind := range lcServerKinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			lcRequire(t, kind)
			l, srv, h := newClientNet(t, kind, lcPool)
			times := srv.times
			c := newLCClient(t, h)
			c.start()
			var lease netip.Prefix
			after := 0

			if !t.Run("RFC2131 3.1 lease obtained and the interface configured", func(t *testing.T) {
				e := c.expectEvent(leaseWait, after, "BOUND")
				after = e.seq
				lease = e.leaseOf(t)
				if !lcPool.contains(lease.Addr()) || lease.Bits() != 24 {
					t.Errorf("lease %v, want an address of %v with /24", lease, lcPool)
				}
				for k, want := range map[string]string{
					"interface": "eth0", "routers": serverAddr, "dns": lcDNS, "domain": lcDomain,
					"server_id": serverAddr, "subnet": "255.255.255.0",
					"lease_time":     strconv.Itoa(int(times.lease / time.Second)),
					"renewal_time":   strconv.Itoa(int(times.t1 / time.Second)),
					"rebinding_time": strconv.Itoa(int(times.t2 / time.Second)),
				} {
					if e.env[k] != want {
						t.Errorf("hook variable %s=%q, want %q", k, e.env[k], want)
					}
				}
				checkConfigured(t, kind, h, lease)
				if kind == lcLeased {
					if mtu := interfaceMTU(t, h); mtu != lcMTU {
						t.Errorf("MTU %d, want option 26's %d", mtu, lcMTU)
					}
				}
				if srv.count(lcAck, h.mac, lease.Addr()) == 0 {
					t.Errorf("%s logged no acknowledgement of %v to %s", kind, lease.Addr(), h.mac)
				}
				b, err := os.ReadFile(c.leaseFile())
				if err != nil || !strings.Contains(string(b), `"address": "`+lease.String()+`"`) {
					t.Errorf("lease file: %v\n%s", err, b)
				}
				// The ARP probe came before the binding.
				if len(c.logLines("to=PROBING")) == 0 {
					t.Errorf("no PROBING state before BOUND")
				}
			}) {
				return
			}

			if !t.Run("RFC2131 4.4.5 renewal at T1 by unicast", func(t *testing.T) {
				acks := srv.count(lcAck, h.mac, lease.Addr())
				e := c.expectEvent(times.t1+lcSlack, after, "RENEW")
				after = e.seq
				if got := e.leaseOf(t); got != lease {
					t.Errorf("renewed %v, want %v", got, lease)
				}
				if n := srv.count(lcAck, h.mac, lease.Addr()); n <= acks {
					t.Errorf("%s logged no new acknowledgement for the renewal", kind)
				}
				if len(c.logLines("sending", "to="+serverAddr, "DHCPREQUEST", "ciaddr="+lease.Addr().String())) == 0 {
					t.Errorf("no unicast DHCPREQUEST to %s in the client's log", serverAddr)
				}
				if kind == lcLeased && len(srv.leased.records(map[string]string{"msg": "received", "src": lease.Addr().String() + ":68"})) == 0 {
					t.Errorf("leased server received nothing from %v:68", lease.Addr())
				}
				checkConfigured(t, kind, h, lease)
			}) {
				return
			}

			if !t.Run("RFC2131 4.4.5 rebinding at T2 when the renewal gets no answer", func(t *testing.T) {
				// Unicast to the server goes to a sink instead: a host
				// whose hardware address the client's neighbour table now
				// gives for the server, and which drops what is not its
				// own. Broadcasts still reach the server. (Policy rules
				// would not do: they do not apply to the client's socket,
				// which is bound to the interface.)
				sink := l.addHost("sink", "198.18.0.9/24")
				sendUDP(t, sink, serverAddr+":9", []byte("so that the bridge learns the sink's address"))
				l.ip("-n", h.ns, "neigh", "replace", serverAddr, "lladdr", sink.mac, "dev", "eth0", "nud", "permanent")
				defer l.ip("-n", h.ns, "neigh", "del", serverAddr, "dev", "eth0")
				e := c.expectEvent(times.t2+lcSlack, after, "REBIND")
				after = e.seq
				if got := e.leaseOf(t); got != lease {
					t.Errorf("rebound %v, want %v", got, lease)
				}
				states := c.logLines("msg=state")
				i := slices.IndexFunc(states, func(s string) bool { return strings.Contains(s, "from=RENEWING to=REBINDING") })
				if i < 0 {
					t.Errorf("no RENEWING -> REBINDING in the client's log:\n%s", strings.Join(states, "\n"))
				}
				checkConfigured(t, kind, h, lease)
			}) {
				return
			}

			if !t.Run("RFC2131 4.4.2 INIT-REBOOT after a restart", func(t *testing.T) {
				c.proc.stop(syscall.SIGKILL)
				h.flushAddrs() // as a reboot would
				c.start()
				e := c.expectEvent(leaseWait, after, "REBOOT")
				after = e.seq
				if got := e.leaseOf(t); got != lease {
					t.Errorf("INIT-REBOOT got %v, want the remembered %v", got, lease)
				}
				if d := c.logLines("sending", "DHCPDISCOVER"); len(d) > 0 {
					t.Errorf("the restarted client sent a DHCPDISCOVER, want INIT-REBOOT only:\n%s", d[0])
				}
				if len(c.logLines("from=INIT to=REBOOTING")) == 0 {
					t.Errorf("no INIT -> REBOOTING in the client's log")
				}
				if kind == lcLeased {
					var initReboot bool
					for _, r := range srv.leased.records(map[string]string{"msg": "received"}) {
						p := r["packet"]
						if strings.HasPrefix(p, "DHCPREQUEST ") && strings.Contains(p, "chaddr="+h.mac) &&
							strings.Contains(p, "requested-address="+lease.Addr().String()) &&
							!strings.Contains(p, "server-id=") && !strings.Contains(p, "ciaddr=") {
							initReboot = true
						}
					}
					if !initReboot {
						t.Errorf("leased server received no DHCPREQUEST with requested-address=%v and neither server-id nor ciaddr", lease.Addr())
					}
				}
				checkConfigured(t, kind, h, lease)
			}) {
				return
			}

			t.Run("RFC2131 4.4.6 release: DHCPRELEASE, address and routes removed, daemon exits", func(t *testing.T) {
				released := srv.count(lcReleased, h.mac, lease.Addr())
				cmd := h.command(append(c.argv(), "--release")...)
				cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("leased client --release: %v\n%s", err, out)
				}
				if err := c.proc.wait(stopWait); err != nil {
					t.Errorf("the daemon after --release: %v, want exit status 0", err)
				}
				c.expectEvent(leaseWait, after, "RELEASE")
				srv.waitCount(t, leaseWait, released, lcReleased, h.mac, lease.Addr())
				checkDeconfigured(t, h, lease)
				if _, err := os.Stat(c.leaseFile()); !os.IsNotExist(err) {
					t.Errorf("lease file after the release: %v, want it removed", err)
				}
			})
		})
	}
}

// TestClientDecline: the only address of the pool is already used by
// another host on the link. The client is offered it, probes it with ARP
// before binding, finds the conflict and declines it (DHCPDECLINE), never
// configures it, and starts over after ten seconds.
func TestClientDecline(t *testing.T) {
	t.Parallel()
	taken := mustRange("198.18.0.100", "198.18.0.100")
	for _, kind := range lcServerKinds {
		t.Run("RFC2131 4.4.1 ARP conflict declines the address/"+string(kind), func(t *testing.T) {
			t.Parallel()
			lcRequire(t, kind)
			l, srv, h := newClientNet(t, kind, taken)
			l.addHost("squatter", taken.first.String()+"/24")
			c := newLCClient(t, h)
			c.start()

			srv.waitCount(t, leaseWait, 0, lcDeclined, h.mac, taken.first)
			err := waitFor(leaseWait, "the client to log the conflict", func() (bool, error) {
				return len(c.logLines("address in use by another host")) > 0, nil
			})
			if err != nil {
				t.Fatalf("%v:\n%s", err, tail(c.proc.output(), 30))
			}
			declines := c.logLines("sending", "DHCPDECLINE")
			if len(declines) == 0 || !strings.Contains(declines[0], "requested-address="+taken.first.String()) ||
				!strings.Contains(declines[0], "server-id="+serverAddr) {
				t.Errorf("DHCPDECLINE sent: %q, want one with requested-address=%v and server-id=%s", declines, taken.first, serverAddr)
			}
			// RFC 2131 §3.1 step 5: at least ten seconds before starting
			// over.
			err = waitFor(leaseWait, "a DHCPDISCOVER after the decline", func() (bool, error) {
				return len(c.logLines("from=INIT to=SELECTING")) > 1, nil
			})
			if err != nil {
				t.Fatal(err)
			}
			declinedAt := logTime(t, c.logLines("from=PROBING to=INIT")[0])
			restartedAt := logTime(t, c.logLines("from=INIT to=SELECTING")[1])
			if gap := restartedAt.Sub(declinedAt); gap < 10*time.Second {
				t.Errorf("started over %v after the decline, want at least 10s", gap)
			}
			for _, e := range c.eventsSoFar() {
				t.Errorf("hook ran with %s: nothing should have been configured", e.reason)
			}
			if ok, _ := h.hasAddr(netip.PrefixFrom(taken.first, 24)); ok {
				t.Errorf("the declined address is on the client's eth0")
			}
		})
	}
}

// logTime returns the time of a slog text line ("time=... level=...").
func logTime(t *testing.T, line string) time.Time {
	t.Helper()
	rec := parseLogLine(line)
	tm, err := time.Parse(time.RFC3339Nano, rec["time"])
	if err != nil {
		t.Fatalf("no time in log line %q: %v", line, err)
	}
	return tm
}

// runOnce runs a one-shot "leased client" on c's host with extra flags
// and returns its exit status, standard output and standard error.
func (c *lcClient) runOnce(extra ...string) (int, string, string) {
	c.t.Helper()
	cmd := c.host.command(c.argv(extra...)...)
	cmd.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			c.t.Fatalf("leased client %v: %v", extra, err)
		}
	}
	return cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()
}

// lcLeaseJSON is what --once prints.
type lcLeaseJSON struct {
	Interface string       `json:"interface"`
	Address   netip.Prefix `json:"address"`
	ServerID  netip.Addr   `json:"server_id"`
	Routers   []netip.Addr `json:"routers"`
	DNS       []netip.Addr `json:"dns"`
	Domain    string       `json:"domain"`
	LeaseTime int          `json:"lease_time"`
	Expiry    *time.Time   `json:"expiry"`
}

// TestClientOnce: the one-shot modes against leased server. --once gets
// a lease, configures it, prints it as JSON and exits 0; with
// --no-configure it only prints; --inform asks for the options of a
// static address (RFC 2131 §4.4.3); and without a server --once gives up
// after --timeout with status 1.
func TestClientOnce(t *testing.T) {
	t.Parallel()
	requireCommands(t)
	l, srv, _ := newClientNet(t, lcLeased, lcPool)

	t.Run("--once configures, prints the lease as JSON and exits 0", func(t *testing.T) {
		c := newLCClient(t, l.addHost("once"))
		resolv := filepath.Join(c.dir, "resolv.conf")
		code, out, errOut := c.runOnce("--once", "--resolv-conf", resolv)
		if code != 0 {
			t.Fatalf("exit %d, stderr:\n%s", code, errOut)
		}
		var got lcLeaseJSON
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("stdout is not a lease: %v\n%s", err, out)
		}
		if got.Interface != "eth0" || !lcPool.contains(got.Address.Addr()) || got.ServerID.String() != serverAddr ||
			got.Domain != lcDomain || got.LeaseTime != int(srv.times.lease/time.Second) || got.Expiry == nil {
			t.Errorf("printed lease %+v", got)
		}
		checkConfigured(t, lcLeased, c.host, got.Address)
		if b, err := os.ReadFile(resolv); err != nil || !strings.Contains(string(b), "nameserver "+lcDNS+"\n") || !strings.Contains(string(b), "search "+lcDomain+"\n") {
			t.Errorf("resolv.conf: %v\n%s", err, b)
		}
		if _, err := os.Stat(c.leaseFile()); err != nil {
			t.Errorf("lease file: %v", err)
		}
		if evs := c.eventsSoFar(); len(evs) != 1 || evs[0].reason != "BOUND" {
			t.Errorf("hook runs %v, want one BOUND", evs)
		}
	})

	t.Run("--once --no-configure only prints", func(t *testing.T) {
		c := newLCClient(t, l.addHost("print"))
		code, out, errOut := c.runOnce("--once", "--no-configure")
		if code != 0 {
			t.Fatalf("exit %d, stderr:\n%s", code, errOut)
		}
		var got lcLeaseJSON
		if err := json.Unmarshal([]byte(out), &got); err != nil || !lcPool.contains(got.Address.Addr()) {
			t.Fatalf("stdout %q: %v", out, err)
		}
		if ps, _ := c.host.addrs(); len(ps) != 0 {
			t.Errorf("eth0 has %v, want nothing configured", ps)
		}
		if _, ok := lcRoutes(t, c.host)["default"]; ok {
			t.Errorf("a default route with --no-configure")
		}
		if _, err := os.Stat(c.state); !os.IsNotExist(err) {
			t.Errorf("state directory: %v, want it untouched", err)
		}
	})

	t.Run("RFC2131 4.4.3 --inform gets the options of a static address", func(t *testing.T) {
		static := "198.18.0.10/24"
		c := newLCClient(t, l.addHost("static", static))
		resolv := filepath.Join(c.dir, "resolv.conf")
		code, out, errOut := c.runOnce("--inform", static, "--resolv-conf", resolv)
		if code != 0 {
			t.Fatalf("exit %d, stderr:\n%s", code, errOut)
		}
		var got lcLeaseJSON
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("stdout %q: %v", out, err)
		}
		if got.Address.String() != static || len(got.DNS) != 1 || got.DNS[0].String() != lcDNS || got.Domain != lcDomain || got.Expiry != nil {
			t.Errorf("informed %+v", got)
		}
		if evs := c.eventsSoFar(); len(evs) != 1 || evs[0].reason != "INFORM" || evs[0].env["ip"] != "198.18.0.10" {
			t.Errorf("hook runs %v, want one INFORM for 198.18.0.10", evs)
		}
		if b, err := os.ReadFile(resolv); err != nil || !strings.Contains(string(b), "nameserver "+lcDNS) {
			t.Errorf("resolv.conf: %v\n%s", err, b)
		}
		if len(srv.leased.records(map[string]string{"msg": "lease", "event": "inform-ack", "client": c.host.mac})) == 0 {
			t.Errorf("leased server logged no inform-ack to %s", c.host.mac)
		}
		if _, err := os.Stat(c.leaseFile()); !os.IsNotExist(err) {
			t.Errorf("lease file after DHCPINFORM: %v, want none", err)
		}
	})

	t.Run("--once without a server exits 1 after --timeout", func(t *testing.T) {
		alone := newLink(t).addHost("alone")
		c := newLCClient(t, alone)
		code, out, errOut := c.runOnce("--once", "--timeout", "3s")
		if code != 1 || out != "" || !strings.Contains(errOut, "no lease within 3s") {
			t.Errorf("exit %d, stdout %q, stderr %q: want 1, nothing printed, \"no lease within 3s\"", code, out, errOut)
		}
	})
}

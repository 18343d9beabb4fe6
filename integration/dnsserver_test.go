//go:build linux

package integration

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The DNS servers that receive leased's dynamic updates (RFC 2136) in the
// tests: a real BIND 9 (Debian's bind9) or Knot DNS (knot), started by the
// test in a namespace of its own on the link, with a TSIG key and dynamic
// zones, and queried with dig (bind9-dnsutils). Both keep their zones
// across a stop and a start, as for a DNS server that goes down and comes
// back.

// dnsKind names a DNS server implementation.
type dnsKind string

// The DNS servers.
const (
	bindDNS dnsKind = "bind" // ISC BIND 9: named
	knotDNS dnsKind = "knot" // CZ.NIC Knot DNS: knotd
)

// dnsKinds are the DNS servers every DNS update test runs with.
var dnsKinds = []dnsKind{bindDNS, knotDNS}

// The test DNS setup: the DNS server's address on the link of
// newServerLink, its key's name, and its zones: the forward zone of the
// clients' names and the reverse zone of serverPrefix.
const (
	dnsAddr        = "198.18.0.53"
	dnsKeyName     = "leased-test"
	dnsForwardZone = "example.test"
	dnsReverseZone = "0.18.198.in-addr.arpa"
)

// dnsUpdateQuota is BIND's update-quota in the tests: how many updates it
// keeps in progress before it refuses more (100 by default, which a burst
// of leases can pass).
const dnsUpdateQuota = 1000

// tsigKey is a TSIG key (RFC 8945) as the DNS servers' key files hold it.
type tsigKey struct {
	name, algorithm, secret string
}

// nsupdateArg returns the key as nsupdate's -y takes it.
func (k tsigKey) nsupdateArg() string { return k.algorithm + ":" + k.name + ":" + k.secret }

// dnsServer is a DNS server of a test, in the namespace of a host on the
// link, serving dynamic zones that a TSIG key may update.
type dnsServer struct {
	t       *testing.T
	kind    dnsKind
	host    *host
	addr    netip.AddrPort
	dir     string // configuration, zone files, journals, run directory
	conf    string
	keyFile string  // the key as the server's own tool wrote it
	key     tsigKey // the same, parsed
	zones   []string
	proc    *proc // the current run; nil or exited when stopped
	runs    int
}

// requireDNSCommands is requireCommands for a DNS server of kind and the
// tools the tests use with it: dig and nsupdate, and the server's key
// generator.
func requireDNSCommands(t *testing.T, kind dnsKind) {
	t.Helper()
	switch kind {
	case bindDNS:
		requireCommands(t, "named", "tsig-keygen", "dig", "nsupdate")
	case knotDNS:
		requireCommands(t, "knotd", "keymgr", "dig", "nsupdate")
	default:
		t.Fatalf("unknown DNS server %q", kind)
	}
}

// newDNSHost adds a host for the DNS server to l, at dnsAddr.
func newDNSHost(l *link) *host { return l.addHost("dns", dnsAddr+"/24") }

// startDNS makes a DNS server of kind on h, listening on h's address
// addr, port 53, with a new TSIG key and the given zones (each with an SOA
// and an NS record, and dynamic: the key may update the A and DHCID
// records of any name in the forward zone and the PTR records of the
// others, as the examples allow), starts it and waits until it answers
// for every zone.
func startDNS(t *testing.T, kind dnsKind, h *host, addr string, zones ...string) *dnsServer {
	t.Helper()
	d := newDNS(t, kind, h, addr, dnsKeyName, zones...)
	for _, z := range zones {
		writeFile(t, d.zoneFile(z), zoneFileText(z), 0o644)
	}
	switch kind {
	case bindDNS:
		writeFile(t, d.conf, d.namedConf(), 0o644)
	case knotDNS:
		writeFile(t, d.conf, d.knotConf(), 0o644)
	}
	d.start()
	return d
}

// newDNS prepares a DNS server of kind on h at addr, port 53, serving
// zones: its directory, with the run directories Knot needs, and a new
// TSIG key called keyName in the file keyFile. The caller writes the
// configuration (conf) and the zone files, then starts it.
func newDNS(t *testing.T, kind dnsKind, h *host, addr, keyName string, zones ...string) *dnsServer {
	t.Helper()
	// A directory of its own, short enough for Knot's control socket.
	dir, err := os.MkdirTemp("", "leased-dns-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	d := &dnsServer{t: t, kind: kind, host: h, addr: netip.AddrPortFrom(netip.MustParseAddr(addr), 53), dir: dir, zones: zones}
	d.keyFile = filepath.Join(dir, "tsig.key")
	d.key = newTSIGKey(t, kind, keyName, d.keyFile)
	d.conf = filepath.Join(dir, string(kind)+".conf")
	if kind == knotDNS {
		for _, sub := range []string{"run", "db"} {
			if err := os.Mkdir(filepath.Join(dir, sub), 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	return d
}

// updateTypes are the record types the key may update in zone z: A and
// DHCID in the forward zone, PTR and DHCID in a reverse zone (RFC 4703
// §5.4 guards a reverse name with a DHCID record too).
func updateTypes(z string) []string {
	if strings.HasSuffix(z, ".in-addr.arpa") {
		return []string{"PTR", "DHCID"}
	}
	return []string{"A", "DHCID"}
}

// newTSIGKey makes a new HMAC-SHA256 key called name with the DNS server's
// own tool, writes it to path as the tool writes it, and returns it.
func newTSIGKey(t *testing.T, kind dnsKind, name, path string) tsigKey {
	t.Helper()
	var cmd *exec.Cmd
	if kind == knotDNS {
		cmd = exec.Command("keymgr", "-t", name, "hmac-sha256")
	} else {
		cmd = exec.Command("tsig-keygen", "-a", "hmac-sha256", name)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v: %s", cmd, err, stderr.Bytes())
	}
	writeFile(t, path, string(out), 0o600)
	k, err := parseTSIGKey(string(out))
	if err != nil {
		t.Fatalf("%s wrote a key the test cannot read: %v:\n%s", cmd, err, out)
	}
	if k.name != name {
		t.Fatalf("%s wrote key %q, want %q", cmd, k.name, name)
	}
	return k
}

// parseTSIGKey reads the one key of a file written by tsig-keygen (BIND:
// key "name" { algorithm a; secret "s"; };) or keymgr -t (Knot: a key:
// list of id, algorithm and secret). It only needs to read what these two
// write.
func parseTSIGKey(text string) (tsigKey, error) {
	var k tsigKey
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimPrefix(strings.TrimSpace(line), "- ")
		word, rest, _ := strings.Cut(line, " ")
		value := strings.Trim(strings.TrimSpace(rest), "\";{ ")
		switch strings.TrimSuffix(word, ":") {
		case "key", "id":
			k.name = value
		case "algorithm":
			k.algorithm = value
		case "secret":
			k.secret = value
		}
	}
	if k.name == "" || k.algorithm == "" || k.secret == "" {
		return k, fmt.Errorf("want a key's name, algorithm and secret, got %+v", k)
	}
	return k, nil
}

// zoneFile returns the path of zone z's file.
func (d *dnsServer) zoneFile(z string) string { return filepath.Join(d.dir, z+".zone") }

// zoneFileText is the starting content of zone z: an SOA and an NS
// record, and in the forward zone the name server's address.
func zoneFileText(z string) string {
	s := fmt.Sprintf(`$ORIGIN %s.
$TTL 300
@	SOA	ns.%s. hostmaster.%s. 1 3600 600 86400 300
@	NS	ns.%s.
`, z, dnsForwardZone, dnsForwardZone, dnsForwardZone)
	if z == dnsForwardZone {
		s += "ns\tA\t" + dnsAddr + "\n"
	}
	return s
}

// namedConf is BIND's configuration: the key file included as tsig-keygen
// wrote it, no recursion, no rndc channel, AXFR for the tests' checks, and
// each zone dynamic for the key (update-policy), its journal beside its
// file.
func (d *dnsServer) namedConf() string {
	var b strings.Builder
	fmt.Fprintf(&b, `include %q;
options {
	directory %q;
	pid-file %q;
	listen-on port %d { %s; };
	listen-on-v6 { none; };
	recursion no;
	notify no;
	dnssec-validation no;
	allow-transfer { any; };
	session-keyfile none;
	update-quota %d;
};
controls { };
`, d.keyFile, d.dir, filepath.Join(d.dir, "named.pid"), d.addr.Port(), d.addr.Addr(), dnsUpdateQuota)
	for _, z := range d.zones {
		fmt.Fprintf(&b, `zone %q {
	type primary;
	file %q;
	update-policy { grant %s zonesub %s; };
};
`, z, d.zoneFile(z), d.key.name, strings.Join(updateTypes(z), " "))
	}
	return b.String()
}

// knotConf is Knot's configuration: logs at debug level (where Knot
// says why it refused an update), the key file included as keymgr wrote
// it, ACLs that let the key update (the types of updateTypes) and
// anyone in the test range transfer, and zones whose updates go to the
// journal and, at once, to the zone file (zonefile-sync: 0), so that a
// restart keeps them.
func (d *dnsServer) knotConf() string {
	var b strings.Builder
	fmt.Fprintf(&b, `server:
    rundir: %q
    pidfile: %q
    listen: %s@%d
log:
  - target: stderr
    any: debug
database:
    storage: %q
include: %q
acl:
  - id: transfer
    address: %s
    action: transfer
`, filepath.Join(d.dir, "run"), filepath.Join(d.dir, "run", "knot.pid"), d.addr.Addr(), d.addr.Port(),
		filepath.Join(d.dir, "db"), d.keyFile, testRange)
	for _, z := range d.zones {
		fmt.Fprintf(&b, "  - id: update-%s\n    key: %s\n    action: update\n    update-type: [%s]\n",
			z, d.key.name, strings.Join(updateTypes(z), ", "))
	}
	fmt.Fprintf(&b, `template:
  - id: default
    storage: %q
    file: "%%s.zone"
    zonefile-sync: 0
    zonefile-load: whole
    journal-content: changes
zone:
`, d.dir)
	for _, z := range d.zones {
		fmt.Fprintf(&b, "  - domain: %s\n    acl: [transfer, update-%s]\n", z, z)
	}
	return b.String()
}

// start starts the server (again, on the zones as it left them) and waits
// until it answers for every zone.
func (d *dnsServer) start() {
	d.t.Helper()
	if d.running() {
		d.t.Fatalf("%s: already running", d.kind)
	}
	var argv []string
	switch d.kind {
	case bindDNS:
		// -g: foreground, log to stderr; -4: IPv4 only.
		argv = []string{"named", "-g", "-4", "-c", d.conf}
	case knotDNS:
		argv = []string{"knotd", "-c", d.conf}
	}
	d.runs++
	d.proc = startProc(d.t, d.host, fmt.Sprintf("%s on %s (run %d)", argv[0], d.host.name, d.runs),
		filepath.Join(d.dir, fmt.Sprintf("run-%d.log", d.runs)), nil, argv...)
	for _, z := range d.zones {
		err := waitFor(startWait, fmt.Sprintf("%s to answer for %s", d.kind, z), func() (bool, error) {
			if d.proc.exited() {
				return false, fmt.Errorf("it exited (%v):\n%s", d.proc.err, tail(d.proc.output(), 20))
			}
			soa, err := d.lookup("SOA", z)
			return err == nil && len(soa) == 1, nil
		})
		if err != nil {
			d.t.Fatal(err)
		}
	}
}

// running reports whether the server is running.
func (d *dnsServer) running() bool { return d.proc != nil && !d.proc.exited() }

// stop stops the server (SIGTERM) and waits for its end; its zones stay.
func (d *dnsServer) stop() {
	d.t.Helper()
	if !d.running() {
		d.t.Fatalf("%s: stop: not running", d.kind)
	}
	if err := d.proc.stop(syscall.SIGTERM); err != nil {
		d.t.Fatalf("%s: SIGTERM: %v", d.proc.name, err)
	}
}

// log returns what the server has written in its current run.
func (d *dnsServer) log() string {
	if d.proc == nil {
		return ""
	}
	return d.proc.output()
}

// dig runs dig in the server's namespace against the server, without
// recursion, one try of one second, with args, and returns its output.
// An error means no answer (a timeout, a refused connection), not an
// empty one.
func (d *dnsServer) dig(args ...string) (string, error) {
	argv := append([]string{"dig", "@" + d.addr.Addr().String(), "-p", fmt.Sprint(d.addr.Port()),
		"+norec", "+time=1", "+tries=1"}, args...)
	cmd := d.host.command(argv...)
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%s: %v: %s", strings.Join(argv, " "), err, out)
	}
	return string(out), nil
}

// lookup returns the data of the records of type qtype ("A", "PTR",
// "DHCID", "SOA") at name, one string each as dig +short prints them;
// none when there are none (NXDOMAIN or no data). A PTR lookup takes an
// address as name.
func (d *dnsServer) lookup(qtype, name string) ([]string, error) {
	args := []string{"+short", name, qtype}
	if qtype == "PTR" {
		args = []string{"+short", "-x", name}
	}
	out, err := d.dig(args...)
	if err != nil {
		return nil, err
	}
	var rs []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, ";") {
			rs = append(rs, line)
		}
	}
	return rs, nil
}

// waitLookup waits until the records of qtype at name are exactly want
// (in any order; none for want empty), and fails the test otherwise.
func (d *dnsServer) waitLookup(timeout time.Duration, qtype, name string, want ...string) {
	d.t.Helper()
	var got []string
	err := waitFor(timeout, fmt.Sprintf("%s: %s %s to be %v", d.kind, name, qtype, want), func() (bool, error) {
		rs, err := d.lookup(qtype, name)
		if err != nil {
			return false, nil // down or busy: ask again
		}
		got = rs
		return sameSet(rs, want), nil
	})
	if err != nil {
		d.t.Fatalf("%v (last answer %v)", err, got)
	}
}

// sameSet reports whether a and b hold the same strings, in any order.
func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[string]int{}
	for _, s := range a {
		seen[s]++
	}
	for _, s := range b {
		if seen[s] == 0 {
			return false
		}
		seen[s]--
	}
	return true
}

// zoneRecords returns the records of zone z of type qtype, by a zone
// transfer (AXFR), as "name data" strings.
func (d *dnsServer) zoneRecords(z, qtype string) ([]string, error) {
	out, err := d.dig("+noall", "+answer", "+onesoa", z, "AXFR")
	if err != nil {
		return nil, err
	}
	var rs []string
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		// name TTL class type data...
		if len(f) >= 5 && f[3] == qtype {
			rs = append(rs, f[0]+" "+strings.Join(f[4:], " "))
		}
	}
	if len(rs) == 0 && !strings.Contains(out, "SOA") {
		return nil, fmt.Errorf("AXFR of %s: no SOA in the answer:\n%s", z, out)
	}
	return rs, nil
}

// nsupdate sends one update of zone to the server with nsupdate, signed
// with key, made of the nsupdate commands lines ("update add ...",
// "prereq nxdomain ..."), and returns nsupdate's output and its error.
func (d *dnsServer) nsupdate(key tsigKey, zone string, lines ...string) (string, error) {
	script := fmt.Sprintf("server %s %d\nzone %s\n%s\nsend\n", d.addr.Addr(), d.addr.Port(), zone, strings.Join(lines, "\n"))
	cmd := d.host.command("nsupdate", "-t", "5", "-y", key.nsupdateArg())
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
	cmd.Stdin = strings.NewReader(script)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestDNSServerHarness: the DNS servers of the DNS update tests on their
// own. For BIND and for Knot: an update signed with the server's key
// (RFC 2136, RFC 8945) adds an A and a PTR record that dig then sees; an
// update signed with a key of the same name and another secret is refused
// (BADSIG) and changes nothing; so is an update of a type the key may not
// update; a stop and a start keep the zones.
func TestDNSServerHarness(t *testing.T) {
	for _, kind := range dnsKinds {
		t.Run(string(kind), func(t *testing.T) {
			requireDNSCommands(t, kind)
			l := newLink(t)
			d := startDNS(t, kind, newDNSHost(l), dnsAddr, dnsForwardZone, dnsReverseZone)

			name, addr := "h1."+dnsForwardZone, "198.18.0.7"
			if out, err := d.nsupdate(d.key, dnsForwardZone, "update add "+name+" 300 A "+addr); err != nil {
				t.Fatalf("RFC 2136 update with the key: %v:\n%s", err, out)
			}
			if out, err := d.nsupdate(d.key, dnsReverseZone, "update add 7."+dnsReverseZone+" 300 PTR "+name); err != nil {
				t.Fatalf("RFC 2136 PTR update with the key: %v:\n%s", err, out)
			}
			d.waitLookup(startWait, "A", name, addr)
			d.waitLookup(startWait, "PTR", addr, name+".")

			wrong := newTSIGKey(t, kind, dnsKeyName, filepath.Join(t.TempDir(), "wrong.key"))
			out, err := d.nsupdate(wrong, dnsForwardZone, "update add h2."+dnsForwardZone+" 300 A 198.18.0.8")
			if err == nil {
				t.Fatalf("RFC 8945 5.2 an update signed with a wrong secret was accepted:\n%s", out)
			}
			if !strings.Contains(out, "BADSIG") {
				t.Errorf("RFC 8945 5.2 wrong secret: nsupdate says %q, want NOTAUTH(BADSIG)", strings.TrimSpace(out))
			}
			if rs, err := d.lookup("A", "h2."+dnsForwardZone); err != nil || len(rs) != 0 {
				t.Errorf("after the refused update: h2 A %v (%v), want none", rs, err)
			}

			out, err = d.nsupdate(d.key, dnsForwardZone, "update add h3."+dnsForwardZone+" 300 TXT not-allowed")
			if err == nil || !strings.Contains(out, "REFUSED") && !strings.Contains(out, "NOTAUTH") {
				t.Errorf("a TXT update, a type the key may not update: %v, %q; want REFUSED or NOTAUTH", err, strings.TrimSpace(out))
			}

			d.stop()
			if _, err := d.lookup("SOA", dnsForwardZone); err == nil {
				t.Errorf("%s answers after it stopped", kind)
			}
			d.start()
			d.waitLookup(startWait, "A", name, addr)
			d.waitLookup(startWait, "PTR", addr, name+".")
			recs, err := d.zoneRecords(dnsForwardZone, "A")
			if err != nil {
				t.Fatal(err)
			}
			if want := []string{"h1." + dnsForwardZone + ". " + addr, "ns." + dnsForwardZone + ". " + dnsAddr}; !sameSet(recs, want) {
				t.Errorf("AXFR %s A records %v, want %v", dnsForwardZone, recs, want)
			}
		})
	}
}

//go:build linux

package integration

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"leased/config"
)

// TestExamplesLoad: every example configuration in examples/ is valid, so
// that what the documentation offers to copy works. It needs no root.
func TestExamplesLoad(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "examples", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no examples/*.yaml found")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			cfg, err := config.Load(f)
			if err != nil {
				t.Fatalf("config.Load: %v", err)
			}
			if len(cfg.Interfaces) == 0 || len(cfg.Subnets) == 0 {
				t.Errorf("%d interfaces and %d subnets, want some of each", len(cfg.Interfaces), len(cfg.Subnets))
			}
		})
	}
}

// TestDNSServerExamples: the DNS servers' configurations of the examples
// (examples/bind/named.conf, examples/knot/knot.conf, the zone files of
// examples/zones) run as they are, but for their paths: BIND and Knot
// serve the zones, take the updates leased sends (A and DHCID records in
// the forward zone, PTR and DHCID records in the reverse zone) signed with the key
// their own tool made, refuse an update of another type, and keep the
// operator's records.
func TestDNSServerExamples(t *testing.T) {
	for _, kind := range dnsKinds {
		t.Run(string(kind), func(t *testing.T) {
			requireDNSCommands(t, kind)
			l := newLink(t)
			d := startExampleDNS(t, kind, newDNSHost(l))
			const fwd, rev = "lan.example.net", "0.18.198.in-addr.arpa"
			name := "pc1." + fwd
			for _, u := range []struct{ zone, cmd string }{
				{fwd, "update add " + name + " 1200 A 198.18.0.100"},
				{fwd, "update add " + name + " 1200 DHCID " + rfc4701DHCID},
				{rev, "update add 100." + rev + " 1200 PTR " + name},
				{rev, "update add 100." + rev + " 1200 DHCID " + rfc4701DHCID},
			} {
				if out, err := d.nsupdate(d.key, u.zone, u.cmd); err != nil {
					t.Fatalf("%s: %v:\n%s", u.cmd, err, out)
				}
			}
			d.waitLookup(startWait, "A", name, "198.18.0.100")
			d.waitLookup(startWait, "DHCID", name, rfc4701DHCID)
			d.waitLookup(startWait, "PTR", "198.18.0.100", name+".")
			out, err := d.nsupdate(d.key, fwd, "update add pc2."+fwd+" 1200 TXT not-allowed")
			if err == nil || !strings.Contains(out, "REFUSED") && !strings.Contains(out, "NOTAUTH") {
				t.Errorf("a TXT update: %v, %q; want REFUSED or NOTAUTH", err, strings.TrimSpace(out))
			}
			d.waitLookup(startWait, "A", "router."+fwd, "198.18.0.1")
			d.waitLookup(startWait, "PTR", "198.18.0.53", "ns."+fwd+".")
		})
	}
}

// rfc4701DHCID is the DHCID of the first example of RFC 4701 §3.6.
const rfc4701DHCID = "AAIBY2/AuCccgoJbsaxcQc9TUapptP69lOjxfNuVAA2kjEA="

// startExampleDNS starts the example configuration of kind on h (which
// must be at the example's address, dnsAddr), with its paths moved to a
// directory of the test's and a new key "leased" made by the server's
// own tool, and waits until it answers for its zones.
func startExampleDNS(t *testing.T, kind dnsKind, h *host) *dnsServer {
	t.Helper()
	d := newDNS(t, kind, h, dnsAddr, "leased", "lan.example.net", "0.18.198.in-addr.arpa")
	for _, z := range d.zones {
		b, err := os.ReadFile(filepath.Join("..", "examples", "zones", z+".zone"))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, d.zoneFile(z), string(b), 0o644)
	}
	var src string
	var paths *strings.Replacer
	switch kind {
	case bindDNS:
		src = filepath.Join("..", "examples", "bind", "named.conf")
		paths = strings.NewReplacer(
			`"/etc/bind/leased.key"`, strconv.Quote(d.keyFile),
			`"/var/cache/bind"`, strconv.Quote(d.dir),
			`"/var/lib/bind/`, `"`+d.dir+"/",
			// Test-only: the process ID file in the directory, no
			// session key and no rndc channel (both under /run).
			"options {", "options {\n\tpid-file "+strconv.Quote(filepath.Join(d.dir, "named.pid"))+";\n\tsession-keyfile none;",
			"\nzone ", "\ncontrols { };\nzone ")
	case knotDNS:
		src = filepath.Join("..", "examples", "knot", "knot.conf")
		paths = strings.NewReplacer(
			`"/etc/knot/leased.key"`, strconv.Quote(d.keyFile),
			`"/run/knot"`, strconv.Quote(filepath.Join(d.dir, "run")),
			`"/var/lib/knot"`, strconv.Quote(d.dir),
			// Test-only: stay root (the directory is root's), log to
			// the test.
			"user: knot:knot", "",
			"target: syslog", "target: stderr")
	}
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	conf := paths.Replace(string(b))
	for _, line := range strings.Split(conf, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") && !strings.HasPrefix(strings.TrimSpace(line), "//") &&
			strings.ContainsAny(line, "/") && !strings.Contains(line, d.dir) {
			t.Fatalf("%s: a path the test does not move: %q", src, line)
		}
	}
	writeFile(t, d.conf, conf, 0o644)
	d.start()
	return d
}

// TestDDNSExamples: leased with the dynamic DNS examples
// (examples/ddns-bind.yaml, examples/ddns-knot.yaml) as they are, but for
// the key file's path (and the Knot example's second interface, which the
// test's server lacks), against the DNS servers of the examples: a client
// that sends its host name gets a lease, and the example's zones then
// name its address both ways, over UDP (BIND's example) and TCP (Knot's).
func TestDDNSExamples(t *testing.T) {
	for _, kind := range dnsKinds {
		t.Run(string(kind), func(t *testing.T) {
			requireDNSCommands(t, kind)
			requireClientCommands(t, udhcpc)
			l, srvHost, hosts := newServerLink(t, 1)
			d := startExampleDNS(t, kind, newDNSHost(l))
			src := filepath.Join("..", "examples", "ddns-"+string(kind)+".yaml")
			b, err := os.ReadFile(src)
			if err != nil {
				t.Fatal(err)
			}
			conf := strings.NewReplacer(
				"key-file: /etc/leased/ddns.key", "key-file: "+d.keyFile,
				"interfaces: [eth0, eth1]", "interfaces: [eth0]",
			).Replace(string(b))
			if !strings.Contains(conf, d.keyFile) {
				t.Fatalf("%s: no key-file: /etc/leased/ddns.key to replace", src)
			}
			cfg := filepath.Join(t.TempDir(), "leased.yaml")
			writeFile(t, cfg, conf, 0o644)
			startServer(t, srvHost, newStore(t), "--config", cfg)

			c := newClient(t, udhcpc, hosts[0])
			c.sendName("pc7")
			c.start()
			addr := c.waitLease(0).addr.Addr()
			d.waitLookup(dnsWait, "A", "pc7.lan.example.net", addr.String())
			d.waitLookup(dnsWait, "PTR", addr.String(), "pc7.lan.example.net.")
		})
	}
}

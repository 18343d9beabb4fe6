//go:build linux

package integration

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// classesConfig serves 198.18.0.0/24 with a class for clients that send
// the vendor class "leased-phone" (their own pool, DNS server, domain
// and lease time) and an ignored class for "leased-blocked".
const classesConfig = `interfaces: [eth0]
lease-time: 1h
options:
  dns-servers: [198.18.0.53]
  domain-name: example.net
client-classes:
  - name: phones
    match: {vendor-class: leased-phone}
    options: {dns-servers: [198.18.0.77], domain-name: phones.example}
    lease-time: 2h
  - name: blocked
    match: {vendor-class-prefix: leased-blocked}
    ignore: true
subnets:
  - prefix: 198.18.0.0/24
    pools:
      - {range: 198.18.0.50-198.18.0.59, classes: [phones]}
      - {range: 198.18.0.100-198.18.0.199, deny-classes: [phones]}
    options:
      routers: [198.18.0.1]
`

// startWithVendorClass is start, with the client sending vendor class vc
// (option 60): "send vendor-class-identifier" in dhclient's configuration,
// -V for udhcpc.
func (c *dhcpClient) startWithVendorClass(vc string) {
	c.t.Helper()
	argv := c.argv(true, leaseWait)
	switch c.kind {
	case dhclient:
		f, err := os.OpenFile(c.path("dhclient.conf"), os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			c.t.Fatal(err)
		}
		_, err = fmt.Fprintf(f, "send vendor-class-identifier %q;\n", vc)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			c.t.Fatal(err)
		}
	default:
		argv = append(argv, "-V", vc)
	}
	c.runs++
	c.proc = startProc(c.t, c.host, fmt.Sprintf("%s on %s (run %d, vendor class %s)", c.kind, c.host.name, c.runs, vc),
		c.path(fmt.Sprintf("run-%d.log", c.runs)), nil, argv...)
}

// TestClientClassesRealClients: real clients sending a vendor class get
// their class's pool, options and lease time; a client of an ignored class
// gets no answer at all, counted as ignored-class; and "leased leases
// show" gives the class of a client.
func TestClientClassesRealClients(t *testing.T) {
	for _, kind := range clientKinds {
		t.Run(string(kind), func(t *testing.T) {
			requireClientCommands(t, kind)
			_, srvHost, hosts := newServerLink(t, 3)
			cfg := filepath.Join(t.TempDir(), "leased.yaml")
			writeFile(t, cfg, classesConfig, 0o644)
			sock := ctlSocketPath(t)
			srv := startServer(t, srvHost, newStore(t), "--config", cfg, "--control", sock)

			phone := newClient(t, kind, hosts[0])
			phone.startWithVendorClass("leased-phone")
			blocked := newClient(t, kind, hosts[1])
			blocked.startWithVendorClass("leased-blocked-v1")
			plain := newClient(t, kind, hosts[2])
			plain.start()

			t.Run("the class's pool, options and lease time", func(t *testing.T) {
				got := phone.waitLease(0)
				if a := got.addr.Addr(); a.Less(netip.MustParseAddr("198.18.0.50")) || netip.MustParseAddr("198.18.0.59").Less(a) {
					t.Errorf("address %v, want one of the phones' pool 198.18.0.50-198.18.0.59", a)
				}
				if want := []netip.Addr{netip.MustParseAddr("198.18.0.77")}; !slices.Equal(got.dns, want) || got.domain != "phones.example" {
					t.Errorf("DNS %v, domain %q; want %v and phones.example", got.dns, got.domain, want)
				}
				if got.leaseTime != 2*time.Hour {
					t.Errorf("lease time %v, want the class's 2h", got.leaseTime)
				}
				checkOnInterface(t, phone, got)
			})
			t.Run("a client of no class: the subnet's", func(t *testing.T) {
				got := plain.waitLease(0)
				if a := got.addr.Addr(); a.Less(netip.MustParseAddr("198.18.0.100")) {
					t.Errorf("address %v, want one of 198.18.0.100-198.18.0.199", a)
				}
				if got.domain != "example.net" || got.leaseTime != time.Hour {
					t.Errorf("domain %q, lease time %v; want example.net and 1h", got.domain, got.leaseTime)
				}
			})
			t.Run("an ignored class gets no answer", func(t *testing.T) {
				// Several DISCOVERs, each ignored: no offer, no lease.
				srv.waitRecord(t, 2, map[string]string{"event": "ignored-class", "client": blocked.host.mac})
				if offers := srv.events("offer", blocked.host.mac); len(offers) != 0 {
					t.Errorf("offers to the ignored client: %v", offers)
				}
				for _, e := range blocked.eventsSoFar() {
					if e.bound() {
						t.Errorf("the ignored client configured a lease: %v", e.reason)
					}
				}
			})
			t.Run("leases show gives the class", func(t *testing.T) {
				code, out, stderr := ctlCLI(t, "leases", "show", phone.host.mac, "--control", sock)
				if code != 0 || !strings.Contains(out, "classes:") || !strings.Contains(out, "phones") {
					t.Errorf("leases show: status %d\n%s%s", code, out, stderr)
				}
			})
		})
	}
}

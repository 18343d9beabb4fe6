//go:build linux

package integration

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"leased/control"
)

// The dynamic DNS tests: "leased server" with ddns on, real clients that
// send names (dhclient the client FQDN option 81 of RFC 4702, udhcpc a
// host name, option 12), and a real DNS server (BIND 9 or Knot DNS, see
// dnsserver_test.go) that takes the updates (RFC 2136), read back with
// dig. Every test runs once with each DNS server.

// ddnsPool is the pool of the DNS update tests.
var ddnsPool = mustRange("198.18.0.100", "198.18.0.149")

// dnsWait bounds the wait for a name to appear in or leave the DNS: the
// updater's next attempt after a failure, or its next rescan of the store
// (ddnsRescan), and the DNS server's own work.
const dnsWait = 60 * time.Second

// ddnsRescan is ddns.rescan in the tests: short, so that what a rescan
// finds is found quickly.
const ddnsRescan = 2 * time.Second

// ddnsConfig is a configuration serving eth0 from ddnsPool with lease
// time leaseTime and DNS updates to the DNS server at dnsAddr, the
// forward zone dnsForwardZone (also the qualifying suffix), the reverse
// zone derived from the subnet, signed with the key in keyFile.
func ddnsConfig(keyFile string, leaseTime time.Duration) string {
	return fmt.Sprintf(`interfaces: [eth0]
lease-time: %s
ddns:
  enabled: true
  qualifying-suffix: %s
  servers: [%s]
  key-file: %s
  timeout: 1s
  retries: 1
  rescan: %s
subnets:
  - prefix: 198.18.0.0/24
    pools: [%s]
    options:
      routers: [%s]
`, leaseTime, dnsForwardZone, dnsAddr, keyFile, ddnsRescan, ddnsPool, serverAddr)
}

// ddnsNet is the network of a DNS update test: leased at serverAddr, the
// DNS server at dnsAddr with the zones dnsForwardZone and dnsReverseZone,
// and client hosts.
type ddnsNet struct {
	dns     *dnsServer
	srvHost *host
	store   string
	cfg     string
	sock    string
	clients []*host
}

// newDDNSNet makes the network with a DNS server of kind and n client
// hosts, and writes leased's configuration with the DNS server's key and
// leaseTime; it does not start leased.
func newDDNSNet(t *testing.T, kind dnsKind, n int, leaseTime time.Duration) *ddnsNet {
	t.Helper()
	l, srvHost, hosts := newServerLink(t, n)
	d := startDNS(t, kind, newDNSHost(l), dnsAddr, dnsForwardZone, dnsReverseZone)
	nw := &ddnsNet{dns: d, srvHost: srvHost, store: newStore(t), cfg: filepath.Join(t.TempDir(), "leased.yaml"),
		sock: ctlSocketPath(t), clients: hosts}
	writeFile(t, nw.cfg, ddnsConfig(d.keyFile, leaseTime), 0o644)
	return nw
}

// startLeased starts leased on the network's configuration and store.
func (nw *ddnsNet) startLeased(t *testing.T) *leasedServer {
	t.Helper()
	return startServer(t, nw.srvHost, nw.store, "--config", nw.cfg, "--control", nw.sock)
}

// ddnsStatus returns the DNS update counters of "leased status".
func (nw *ddnsNet) ddnsStatus(t *testing.T) control.DDNSStatus {
	t.Helper()
	var st control.Status
	ctlGet(t, nw.sock, "GET", "/v1/status", "", 200, &st)
	if st.DDNS == nil {
		t.Fatal("status without the DNS updates, with ddns enabled")
	}
	return *st.DDNS
}

// waitStatus waits until the DNS update counters satisfy cond.
func (nw *ddnsNet) waitStatus(t *testing.T, what string, cond func(control.DDNSStatus) bool) control.DDNSStatus {
	t.Helper()
	var st control.DDNSStatus
	err := waitFor(dnsWait, "dns updates status: "+what, func() (bool, error) {
		st = nw.ddnsStatus(t)
		return cond(st), nil
	})
	if err != nil {
		t.Fatalf("%v (last %+v)", err, st)
	}
	return st
}

// fqdn returns the name leased gives a client that sends the single
// label name.
func fqdn(name string) string { return name + "." + dnsForwardZone }

// waitNamed waits until the DNS holds name → addr (A) and addr → name
// (PTR), and nothing else for either.
func (d *dnsServer) waitNamed(name string, addr netip.Addr) {
	d.t.Helper()
	d.waitLookup(dnsWait, "A", name, addr.String())
	d.waitLookup(dnsWait, "PTR", addr.String(), name+".")
}

// waitUnnamed waits until the DNS holds no A record at name and no PTR
// record for addr.
func (d *dnsServer) waitUnnamed(name string, addr netip.Addr) {
	d.t.Helper()
	d.waitLookup(dnsWait, "A", name)
	d.waitLookup(dnsWait, "PTR", addr.String())
}

// TestDDNSRealClients: dhclient sending option 81 and udhcpc sending a
// host name get leases, and their names resolve both ways (RFC 2136: A in
// the forward zone, PTR in the reverse zone, each with a DHCID record of
// RFC 4701); a third client claiming a name already held gets a lease but
// not the name (RFC 4703 §5.3: the DHCID differs); after release the
// names are gone, DHCID records included.
func TestDDNSRealClients(t *testing.T) {
	for _, kind := range dnsKinds {
		t.Run(string(kind), func(t *testing.T) {
			requireDNSCommands(t, kind)
			requireClientCommands(t, dhclient, udhcpc)
			nw := newDDNSNet(t, kind, 3, time.Hour)
			srv := nw.startLeased(t)
			d := nw.dns

			first := newClient(t, dhclient, nw.clients[0])
			first.sendName("host1")
			second := newClient(t, udhcpc, nw.clients[1])
			second.sendName("host2")
			first.start()
			second.start()
			l1, l2 := first.waitLease(0).addr.Addr(), second.waitLease(0).addr.Addr()

			t.Run("RFC4702 option 81: name to address and back", func(t *testing.T) {
				d.waitNamed(fqdn("host1"), l1)
			})
			t.Run("option 12 host name: name to address and back", func(t *testing.T) {
				d.waitNamed(fqdn("host2"), l2)
			})
			dhcid, err := d.lookup("DHCID", fqdn("host1"))
			if err != nil || len(dhcid) != 1 {
				t.Fatalf("RFC4701 DHCID of host1: %v (%v), want one record", dhcid, err)
			}

			t.Run("RFC4703 5.3 a second client does not take over a name", func(t *testing.T) {
				claimer := newClient(t, udhcpc, nw.clients[2])
				claimer.sendName("host1")
				claimer.start()
				l3 := claimer.waitLease(0).addr.Addr()
				srv.waitRecord(t, 0, map[string]string{"msg": ddnsConflictMsg})
				nw.waitStatus(t, "a conflict counted", func(st control.DDNSStatus) bool { return st.Conflicts > 0 })
				d.waitLookup(dnsWait, "A", fqdn("host1"), l1.String())
				d.waitLookup(dnsWait, "DHCID", fqdn("host1"), dhcid...)
				if ptr, err := d.lookup("PTR", l3.String()); err != nil || len(ptr) != 0 {
					t.Errorf("PTR of the refused claimer's %v: %v (%v), want none", l3, ptr, err)
				}
				claimer.release()
			})

			first.release()
			second.release()
			t.Run("RFC2131 4.4.6 release removes the names", func(t *testing.T) {
				d.waitUnnamed(fqdn("host1"), l1)
				d.waitUnnamed(fqdn("host2"), l2)
				for _, z := range []string{dnsForwardZone, dnsReverseZone} {
					if left, err := d.zoneRecords(z, "DHCID"); err != nil || len(left) != 0 {
						t.Errorf("RFC4703 5.5 DHCID records left in %s: %v (%v)", z, left, err)
					}
				}
			})
		})
	}
}

// ddnsConflictMsg is the message of the server's log line about a name
// held by another client (RFC 4703).
const ddnsConflictMsg = "dns update: name in use by another client, left alone (RFC 4703)"

// ddnsRefusedMsg is the message of the server's log line about an update
// the DNS server refused.
const ddnsRefusedMsg = "dns update refused; will retry"

// TestDDNSWrongKey: with a key whose secret is not the DNS server's, the
// updates are refused (RFC 8945 §5.2: BADSIG), the refusal is logged by
// the DNS server and by leased, no name appears, and DHCP goes on
// serving.
func TestDDNSWrongKey(t *testing.T) {
	for _, kind := range dnsKinds {
		t.Run(string(kind), func(t *testing.T) {
			requireDNSCommands(t, kind)
			requireClientCommands(t, udhcpc)
			nw := newDDNSNet(t, kind, 2, time.Hour)
			wrong := filepath.Join(t.TempDir(), "wrong.key")
			newTSIGKey(t, kind, dnsKeyName, wrong)
			writeFile(t, nw.cfg, ddnsConfig(wrong, time.Hour), 0o644)
			srv := nw.startLeased(t)

			c := newClient(t, udhcpc, nw.clients[0])
			c.sendName("badkey")
			c.start()
			c.waitLease(0)
			srv.waitRecord(t, 0, map[string]string{"msg": ddnsRefusedMsg})
			if st := nw.waitStatus(t, "refusals counted", func(st control.DDNSStatus) bool { return st.Refused > 0 }); st.Done != 0 {
				t.Errorf("status %+v: updates done with a wrong key", st)
			}
			err := waitFor(dnsWait, string(kind)+" to log the bad signature", func() (bool, error) {
				return strings.Contains(nw.dns.log(), "BADSIG"), nil
			})
			if err != nil {
				t.Error(err)
			}
			if rs, err := nw.dns.lookup("A", fqdn("badkey")); err != nil || len(rs) != 0 {
				t.Errorf("A of badkey: %v (%v), want none", rs, err)
			}
			other := newClient(t, udhcpc, nw.clients[1])
			if !other.tryOnce(leaseWait) {
				t.Error("no lease for a second client while the updates are refused")
			}
		})
	}
}

// dnsOutage is a way for the DNS server to be down, and back.
type dnsOutage struct {
	name       string
	down, back func(t *testing.T, nw *ddnsNet)
}

// dnsOutages: the DNS server stopped (updates are refused at once: ICMP
// port unreachable, TCP reset) and unreachable (it runs, but leased's
// packets to it vanish: leased's neighbour entry for it names a hardware
// address nobody has, so every attempt waits for its timeout).
var dnsOutages = []dnsOutage{
	{"stopped",
		func(t *testing.T, nw *ddnsNet) { nw.dns.stop() },
		func(t *testing.T, nw *ddnsNet) { nw.dns.start() }},
	{"unreachable",
		func(t *testing.T, nw *ddnsNet) {
			nw.srvHost.link.ip("-n", nw.srvHost.ns, "neigh", "replace", dnsAddr, "lladdr", "02:00:5e:00:00:99", "nud", "permanent", "dev", "eth0")
		},
		func(t *testing.T, nw *ddnsNet) {
			nw.srvHost.link.ip("-n", nw.srvHost.ns, "neigh", "del", dnsAddr, "dev", "eth0")
		}},
}

// TestDDNSOutage: while the DNS server is down (stopped, or unreachable),
// clients still get leases; when it is back their names appear. And the
// same across a restart of leased while the DNS server was down: the
// updates still to do are in the lease store, not in memory.
func TestDDNSOutage(t *testing.T) {
	for _, kind := range dnsKinds {
		for _, outage := range dnsOutages {
			t.Run(string(kind)+"/"+outage.name, func(t *testing.T) {
				requireDNSCommands(t, kind)
				requireClientCommands(t, udhcpc)
				nw := newDDNSNet(t, kind, 2, time.Hour)
				srv := nw.startLeased(t)
				d := nw.dns

				outage.down(t, nw)
				during := newClient(t, udhcpc, nw.clients[0])
				during.sendName("during")
				during.start()
				l1 := during.waitLease(0).addr.Addr()
				nw.waitStatus(t, "failed updates waiting for a retry", func(st control.DDNSStatus) bool {
					return st.Failed > 0 && st.Retrying > 0 && st.Done == 0
				})
				outage.back(t, nw)
				t.Run("names done when the DNS server is back", func(t *testing.T) {
					d.waitNamed(fqdn("during"), l1)
					nw.waitStatus(t, "nothing left to retry", func(st control.DDNSStatus) bool { return st.Retrying == 0 && st.Done > 0 })
				})

				outage.down(t, nw)
				beforeRestart := newClient(t, udhcpc, nw.clients[1])
				beforeRestart.sendName("restart")
				beforeRestart.start()
				l2 := beforeRestart.waitLease(0).addr.Addr()
				if err := srv.stop(syscall.SIGTERM); err != nil {
					t.Fatalf("leased on SIGTERM: %v", err)
				}
				nw.startLeased(t)
				outage.back(t, nw)
				t.Run("names done across a restart of leased", func(t *testing.T) {
					d.waitNamed(fqdn("restart"), l2)
					d.waitNamed(fqdn("during"), l1)
				})
			})
		}
	}
}

// TestDDNSExpiry: a client that vanishes without a release (killed) loses
// its names when its lease expires, without any event on the wire: the
// updater's rescan of the store finds the expired lease.
func TestDDNSExpiry(t *testing.T) {
	for _, kind := range dnsKinds {
		t.Run(string(kind), func(t *testing.T) {
			requireDNSCommands(t, kind)
			requireClientCommands(t, udhcpc)
			nw := newDDNSNet(t, kind, 1, shortLease)
			nw.startLeased(t)
			c := newClient(t, udhcpc, nw.clients[0])
			c.sendName("vanishing")
			c.start()
			l := c.waitLease(0).addr.Addr()
			nw.dns.waitNamed(fqdn("vanishing"), l)
			c.kill()
			nw.dns.waitUnnamed(fqdn("vanishing"), l)
		})
	}
}

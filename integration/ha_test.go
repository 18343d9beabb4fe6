//go:build linux

package integration

import (
	"fmt"
	"net/netip"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"leased/internal/pgtest"
)

// The servers of the high-availability tests: two leased on one link
// sharing one PostgreSQL database (started by the test; the servers reach
// it through its Unix socket, which namespaces do not separate).
const (
	haAddrA = "198.18.0.1"
	haAddrB = "198.18.0.2"
)

// The lease times of the failover tests: clients rebind soon after their
// server dies, and have long enough between T2 and the end of the lease
// for dhclient, whose retransmissions back off to many seconds, to try
// the broadcast at least once. udhcpc ignores T1 and T2: it renews at
// half the lease time and broadcasts when its server does not answer.
const (
	haLease = 60 * time.Second
	haTimes = "renewal-time: 10s\nrebinding-time: 20s\n"
)

// haPair is two servers sharing a database.
type haPair struct {
	pg    *pgtest.Server
	url   string
	srv   [2]*leasedServer
	cfg   [2]string
	sock  [2]string
	hosts [2]*host
}

// newPGDatabase starts PostgreSQL for t and returns it with the
// connection string of a fresh database made ready by "leased db init".
func newPGDatabase(t *testing.T) (*pgtest.Server, string) {
	t.Helper()
	pg := pgtest.Start(t)
	url := pg.NewDB(t)
	if out, err := exec.Command(build.path, "db", "init", "--url", url).CombinedOutput(); err != nil {
		t.Fatalf("leased db init: %v: %s", err, out)
	}
	return pg, url
}

// haConfig is the configuration of one of two servers sharing url: the
// subnets text (YAML, under "subnets:"), the lease time, where the server
// begins in each pool, and the store section.
func haConfig(t *testing.T, url, subnets string, leaseTime time.Duration, startPercent int, extra string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "leased.yaml")
	writeFile(t, path, fmt.Sprintf(`interfaces: [eth0]
lease-time: %s
pool-start-percent: %d
%ssubnets:
%sstore:
  type: postgres
  url: "%s"
`, leaseTime, startPercent, extra, subnets, url), 0o644)
	return path
}

// startHAPair starts PostgreSQL and two servers on hosts a and b of one
// link, at haAddrA and haAddrB, both serving subnets from one database,
// the first from the start of each pool and the second from its middle
// (starts gives other percentages). args are added to both command lines.
func startHAPair(t *testing.T, a, b *host, subnets string, leaseTime time.Duration, starts [2]int, extra string, args ...string) *haPair {
	t.Helper()
	p := &haPair{hosts: [2]*host{a, b}}
	p.pg, p.url = newPGDatabase(t)
	for i, h := range p.hosts {
		p.cfg[i] = haConfig(t, p.url, subnets, leaseTime, starts[i], extra)
		p.sock[i] = ctlSocketPath(t)
		p.srv[i] = startServer(t, h, newStore(t), append([]string{"--config", p.cfg[i], "--control", p.sock[i]}, args...)...)
	}
	return p
}

// haSubnet is the one subnet of the real-client tests.
const haSubnet = "  - prefix: 198.18.0.0/24\n    pools: [198.18.0.100-198.18.0.199]\n"

var haPool = mustRange("198.18.0.100", "198.18.0.199")

// dbOwners returns the bound, unexpired leases of the database as a map
// from address to hardware address, failing t if an address is listed
// twice.
func dbOwners(t *testing.T, url string) map[netip.Addr]string {
	t.Helper()
	owners := map[netip.Addr]string{}
	for _, l := range listDBLeases(t, url) {
		if l.State != "bound" {
			continue
		}
		if prev, dup := owners[l.Address]; dup {
			t.Errorf("the database lists %v bound to both %s and %s", l.Address, prev, l.HWAddr)
		}
		owners[l.Address] = l.HWAddr
	}
	return owners
}

// TestHAServerDies: two leased servers on one link share one PostgreSQL
// database; 20 real clients (10 dhclient, 10 udhcpc) get 20 distinct
// addresses, each bound to its client in the database. One server is
// killed (SIGKILL): each client it served renews with it in vain, then
// rebinds by broadcast at T2 and the surviving server acknowledges the
// same address from the shared records; no client loses or changes its
// address, and the database still binds every address to the same
// client. Started again, the killed server has every lease.
func TestHAServerDies(t *testing.T) {
	requireClientCommands(t, dhclient, udhcpc)
	const n = 20
	l := newLink(t)
	a := l.addHost("serverA", haAddrA+"/24")
	b := l.addHost("serverB", haAddrB+"/24")
	clients := make([]*dhcpClient, n)
	for i := range clients {
		clients[i] = newClient(t, clientKinds[i%len(clientKinds)], l.addHost(fmt.Sprintf("client%d", i+1)))
	}
	p := startHAPair(t, a, b, haSubnet, haLease, [2]int{0, 50}, haTimes)
	haServeClients(t, p, clients, haPool, nil, p.killA, haAddrA, haAddrB)
}

// killA kills the first server with SIGKILL.
func (p *haPair) killA(t *testing.T) {
	t.Helper()
	if err := p.srv[0].stop(syscall.SIGKILL); err == nil || p.srv[0].exitCode() != -1 {
		t.Fatalf("server A: want killed by SIGKILL, got %v", err)
	}
}

// TestHAServerDiesBehindRelay is TestHAServerDies with the clients on a
// network of their own behind a leased relay that forwards every request
// to both servers: renewals go to the dead server through the relay's
// routing, rebinding broadcasts through the relay to both.
func TestHAServerDiesBehindRelay(t *testing.T) {
	requireClientCommands(t, dhclient, udhcpc)
	const n = 20
	rn := newRelayedNet(t, 1)
	a := rn.server
	b := rn.serverLink.addHost("serverB", haAddrB+"/24")
	rn.serverLink.ip("-n", b.ns, "route", "add", clientNet(1), "via", rn.relays[0].up)
	clients := make([]*dhcpClient, n)
	for i := range clients {
		clients[i] = newClient(t, clientKinds[i%len(clientKinds)], rn.addClient(1, fmt.Sprintf("client%d", i+1)))
	}
	subnet := fmt.Sprintf("  - prefix: %s\n    pools: [%s]\n    options:\n      routers: [%s]\n", clientNet(1), relayPool(1), rn.relays[0].down)
	p := startHAPair(t, a, b, subnet, haLease, [2]int{0, 50}, haTimes)
	startRelay(t, rn.relays[0], "--server", haAddrB)
	haServeClients(t, p, clients, relayPool(1), func(c *dhcpClient) { rn.routeToServer(c.host, 1) }, p.killA, haAddrA, haAddrB)
}

// haServeClients starts clients, checks that they get distinct addresses
// of pool recorded in the database, calls bound (if not nil) for each
// client once it has its lease, calls kill, and checks that every client
// whose lease came from dead (a server identifier) then holds the same
// address from alive, and that the others keep theirs. Last, it starts
// the first server, the one kill killed, again, and checks that it has
// every lease from the database.
func haServeClients(t *testing.T, p *haPair, clients []*dhcpClient, pool addrRange, bound func(*dhcpClient), kill func(*testing.T), dead, alive string) {
	t.Helper()
	for _, c := range clients {
		c.start()
	}
	leases := make([]clientLease, len(clients))
	owner := map[netip.Addr]string{}
	servedBy := map[string]int{}
	for i, c := range clients {
		leases[i] = c.waitLease(0)
		a := leases[i].addr.Addr()
		if !pool.contains(a) {
			t.Errorf("%s (%s) got %v, outside the pool %v", c.host.name, c.kind, a, pool)
		}
		if prev, dup := owner[a]; dup {
			t.Errorf("%v given to both %s and %s", a, prev, c.host.mac)
		}
		owner[a] = c.host.mac
		servedBy[leases[i].serverID.String()]++
		checkOnInterface(t, c, leases[i])
		if bound != nil {
			bound(c)
		}
	}
	t.Logf("leases by server: %v", servedBy)
	haCheckDB(t, p.url, owner)
	if servedBy[dead] == 0 {
		t.Logf("no client chose %s: the failover below checks renewals only", dead)
	}

	afters := make([]int, len(clients))
	for i, c := range clients {
		afters[i] = len(c.eventsSoFar())
	}
	killed := time.Now()
	kill(t)
	// Every client must go through at least one full renewal after the
	// kill: the clients of the dead server rebind (their T2 comes within
	// a lease time), the others renew with the living one.
	for i, c := range clients {
		after := afters[i]
		var got clientLease
		err := waitFor(haLease+leaseWait, fmt.Sprintf("%s (%s) to renew or rebind with %s", c.host.name, c.kind, alive), func() (bool, error) {
			evs := c.eventsSoFar()
			for _, e := range evs[min(after, len(evs)):] {
				if !e.bound() {
					return false, fmt.Errorf("hook %d: %s: the client lost its lease", e.seq, e.reason)
				}
				l, err := c.leaseOf(e)
				if err != nil {
					return false, err
				}
				if l.serverID.String() == alive && l.addr == leases[i].addr {
					got = l
					return true, nil
				}
				if l.addr != leases[i].addr {
					return false, fmt.Errorf("hook %d: %s: address %v, before the kill %v", e.seq, e.reason, l.addr, leases[i].addr)
				}
			}
			return false, nil
		})
		if err != nil {
			t.Error(err)
			continue
		}
		checkOnInterface(t, c, got)
	}
	t.Logf("every client holds its address from %s %v after the kill", alive, time.Since(killed).Round(time.Second))
	haCheckDB(t, p.url, owner)

	// The killed server, started again, has every lease from the
	// database.
	p.srv[0] = startServer(t, p.hosts[0], newStore(t), "--config", p.cfg[0], "--control", p.sock[0])
	if got := storeStatus(t, p.sock[0]).Leases["bound"]; got != len(clients) {
		t.Errorf("server started again after the kill: %d bound leases, want %d", got, len(clients))
	}
}

// haCheckDB fails t unless the database binds each address of owner to
// the same client, and nothing else.
func haCheckDB(t *testing.T, url string, owner map[netip.Addr]string) {
	t.Helper()
	db := dbOwners(t, url)
	for a, mac := range owner {
		if db[a] != mac {
			t.Errorf("the database binds %v to %q, the client that has it is %s", a, db[a], mac)
		}
	}
	if len(db) != len(owner) {
		t.Errorf("the database has %d bound leases, the clients %d: %v", len(db), len(owner), db)
	}
}

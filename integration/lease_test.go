//go:build linux

package integration

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"
)

// The network of most tests: the server at .1 of 198.18.0.0/24.
const (
	serverAddr   = "198.18.0.1"
	serverPrefix = serverAddr + "/24"
)

// addrRange is an inclusive range of addresses, as --range takes it.
type addrRange struct{ first, last netip.Addr }

func mustRange(first, last string) addrRange {
	return addrRange{netip.MustParseAddr(first), netip.MustParseAddr(last)}
}

func (r addrRange) String() string { return r.first.String() + "-" + r.last.String() }

func (r addrRange) contains(a netip.Addr) bool {
	return r.first.Compare(a) <= 0 && a.Compare(r.last) <= 0
}

// newServerLink makes a link with a server host at serverPrefix and n
// client hosts.
func newServerLink(t *testing.T, clients int) (*link, *host, []*host) {
	t.Helper()
	l := newLink(t)
	srv := l.addHost("server", serverPrefix)
	hs := make([]*host, clients)
	for i := range hs {
		hs[i] = l.addHost(fmt.Sprintf("client%d", i+1))
	}
	return l, srv, hs
}

// quickArgs are the flags of quick mode on eth0 with pool r and the
// given lease time.
func quickArgs(r addrRange, leaseTime time.Duration) []string {
	return []string{"-i", "eth0", "--range", r.String(), "--lease-time", leaseTime.String()}
}

// checkOnInterface fails t unless the client's lease address, with its
// mask, is on the client's interface.
func checkOnInterface(t *testing.T, c *dhcpClient, l clientLease) {
	t.Helper()
	ok, err := c.host.hasAddr(l.addr)
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		ps, _ := c.host.addrs()
		t.Errorf("%s on %s: lease %v is not on eth0 (it has %v)", c.kind, c.host.name, l.addr, ps)
	}
}

// TestLeaseReachesClient: DHCPDISCOVER, DHCPOFFER, DHCPREQUEST, DHCPACK
// with each real client; the address (in the pool, with the subnet's
// mask) and the options reach the client's script, the address is on its
// interface, the server logs the acknowledgement and the store holds the
// lease.
func TestLeaseReachesClient(t *testing.T) {
	pool := mustRange("198.18.0.100", "198.18.0.199")
	for _, kind := range clientKinds {
		t.Run("RFC2131 3.1 DORA configures the client/"+string(kind), func(t *testing.T) {
			requireClientCommands(t, kind)
			_, srvHost, hosts := newServerLink(t, 1)
			store := newStore(t)
			srv := startServer(t, srvHost, store, append(quickArgs(pool, time.Hour),
				"--router", serverAddr, "--dns", "198.18.0.53,198.18.0.54", "--domain", "example.net")...)
			c := newClient(t, kind, hosts[0])
			c.start()
			got := c.waitLease(0)

			if got.reason != "bound" {
				t.Errorf("first lease event %q, want bound", got.reason)
			}
			if !pool.contains(got.addr.Addr()) {
				t.Errorf("address %v outside the pool %v", got.addr.Addr(), pool)
			}
			if got.addr.Bits() != 24 {
				t.Errorf("mask /%d, want /24 (the subnet's)", got.addr.Bits())
			}
			checkOnInterface(t, c, got)
			if want := []netip.Addr{netip.MustParseAddr(serverAddr)}; !slices.Equal(got.routers, want) {
				t.Errorf("routers %v, want %v", got.routers, want)
			}
			if want := []netip.Addr{netip.MustParseAddr("198.18.0.53"), netip.MustParseAddr("198.18.0.54")}; !slices.Equal(got.dns, want) {
				t.Errorf("DNS servers %v, want %v", got.dns, want)
			}
			if got.domain != "example.net" {
				t.Errorf("domain name %q, want example.net", got.domain)
			}
			if got.leaseTime != time.Hour {
				t.Errorf("lease time %v, want 1h", got.leaseTime)
			}
			if got.serverID != netip.MustParseAddr(serverAddr) {
				t.Errorf("server identifier %v, want %s", got.serverID, serverAddr)
			}

			acks := srv.events("ack", c.host.mac)
			if len(acks) == 0 || acks[0]["addr"] != got.addr.Addr().String() {
				t.Errorf("server log: acks to %s: %v, want one of %v", c.host.mac, acks, got.addr.Addr())
			}
			if offers := srv.events("offer", c.host.mac); len(offers) == 0 {
				t.Errorf("server log: no offer to %s", c.host.mac)
			}
			l, ok := boundLease(listLeases(t, store), got.addr.Addr())
			if !ok {
				t.Fatalf("leases list: no bound lease of %v", got.addr.Addr())
			}
			if l.HWAddr != c.host.mac {
				t.Errorf("leases list: %v bound to %s, want %s", got.addr.Addr(), l.HWAddr, c.host.mac)
			}
		})
	}
}

// TestRenewalKeepsAddress: with a short lease, each client renews at T1
// by unicast from its address (RENEWING), the server acknowledges the
// same address again, and the client keeps it.
func TestRenewalKeepsAddress(t *testing.T) {
	pool := mustRange("198.18.0.100", "198.18.0.199")
	for _, kind := range clientKinds {
		t.Run("RFC2131 4.4.5 renewal at T1 keeps the address/"+string(kind), func(t *testing.T) {
			requireClientCommands(t, kind)
			_, srvHost, hosts := newServerLink(t, 1)
			srv := startServer(t, srvHost, newStore(t), quickArgs(pool, shortLease)...)
			c := newClient(t, kind, hosts[0])
			c.start()
			first := c.waitLease(0)
			if first.leaseTime != shortLease || first.t1 != shortLease/2 {
				t.Errorf("lease time %v and T1 %v, want %v and %v", first.leaseTime, first.t1, shortLease, shortLease/2)
			}
			after := len(c.eventsSoFar())

			e := c.waitEvent(renewWait, after, "renew", "rebind", "bound", "reboot", "deconfig", "expire", "fail")
			if e.reason != "renew" {
				t.Fatalf("after the lease, the client's next event is %q, want renew", e.reason)
			}
			renewed, err := c.leaseOf(e)
			if err != nil {
				t.Fatal(err)
			}
			if renewed.addr != first.addr {
				t.Errorf("renewed %v, want the same address %v", renewed.addr, first.addr)
			}
			checkOnInterface(t, c, renewed)

			addr := first.addr.Addr().String()
			// RENEWING: unicast from the client's address, ciaddr set.
			unicast := srv.records(map[string]string{"msg": "received", "src": addr + ":68"})
			if len(unicast) == 0 {
				t.Errorf("server log: no request received from %s:68 (unicast renewal)", addr)
			}
			acks := srv.events("ack", c.host.mac)
			if len(acks) < 2 {
				t.Fatalf("server log: %d acks to %s, want the first and the renewal", len(acks), c.host.mac)
			}
			for _, a := range acks {
				if a["addr"] != addr {
					t.Errorf("server log: ack of %s to %s, want only %s", a["addr"], c.host.mac, addr)
				}
			}
		})
	}
}

// TestReleaseReturnsAddress: with a pool of one address, a second client
// gets nothing while the first holds it, and gets it once the first has
// released it (DHCPRELEASE).
func TestReleaseReturnsAddress(t *testing.T) {
	pool := mustRange("198.18.0.100", "198.18.0.100")
	for _, kind := range clientKinds {
		t.Run("RFC2131 4.3.4 released address returns to the pool/"+string(kind), func(t *testing.T) {
			requireClientCommands(t, kind)
			_, srvHost, hosts := newServerLink(t, 2)
			store := newStore(t)
			srv := startServer(t, srvHost, store, quickArgs(pool, time.Hour)...)
			first := newClient(t, kind, hosts[0])
			first.start()
			got := first.waitLease(0)
			if got.addr.Addr() != pool.first {
				t.Fatalf("first client got %v, want the only address %v", got.addr, pool.first)
			}

			second := newClient(t, kind, hosts[1])
			if second.tryOnce(5 * time.Second) {
				t.Fatalf("second client got a lease while the first holds the only address")
			}
			if len(srv.events("pool-exhausted", second.host.mac)) == 0 {
				t.Errorf("server log: no pool-exhausted for the second client %s", second.host.mac)
			}

			first.release()
			srv.waitRecord(t, 0, map[string]string{"msg": "lease", "event": "released",
				"client": first.host.mac, "addr": pool.first.String()})
			if l, ok := boundLease(listLeases(t, store), pool.first); ok {
				t.Errorf("leases list: %v still bound (to %s) after the release", pool.first, l.HWAddr)
			}

			second.start()
			got2 := second.waitLease(len(second.eventsSoFar()))
			if got2.addr.Addr() != pool.first {
				t.Errorf("second client got %v after the release, want %v", got2.addr, pool.first)
			}
			checkOnInterface(t, second, got2)
		})
	}
}

// TestExhaustedPool: with a pool of two addresses, two clients get them,
// a third gets nothing, and the server keeps serving: a bound client
// renews, and the third client gets the address the first one releases.
func TestExhaustedPool(t *testing.T) {
	requireClientCommands(t, dhclient, udhcpc)
	pool := mustRange("198.18.0.100", "198.18.0.101")
	_, srvHost, hosts := newServerLink(t, 3)
	srv := startServer(t, srvHost, newStore(t), quickArgs(pool, time.Hour)...)
	a := newClient(t, dhclient, hosts[0])
	b := newClient(t, udhcpc, hosts[1])
	a.start()
	b.start()
	la, lb := a.waitLease(0), b.waitLease(0)
	if !pool.contains(la.addr.Addr()) || !pool.contains(lb.addr.Addr()) || la.addr == lb.addr {
		t.Fatalf("two clients got %v and %v, want the two addresses of %v", la.addr, lb.addr, pool)
	}

	c := newClient(t, udhcpc, hosts[2])
	if c.tryOnce(5 * time.Second) {
		t.Fatalf("third client got a lease from an exhausted pool")
	}
	if len(srv.events("pool-exhausted", c.host.mac)) == 0 {
		t.Errorf("server log: no pool-exhausted for the third client %s", c.host.mac)
	}
	if srv.exited() {
		t.Fatalf("server exited: %v", srv.err)
	}

	// Still serving: a renewal...
	acks := len(srv.events("ack", b.host.mac))
	after := len(b.eventsSoFar())
	b.renewNow()
	e := b.waitEvent(leaseWait, after, "renew", "bound", "deconfig")
	if r, err := b.leaseOf(e); e.reason != "renew" || err != nil || r.addr != lb.addr {
		t.Errorf("forced renewal: event %q (%v), lease %v, want renew of %v", e.reason, err, r.addr, lb.addr)
	}
	srv.waitRecord(t, acks, map[string]string{"msg": "lease", "event": "ack", "client": b.host.mac})

	// ...and a new client, once an address is free.
	a.release()
	c.start()
	lc := c.waitLease(len(c.eventsSoFar()))
	if lc.addr != la.addr {
		t.Errorf("third client got %v after the first released %v", lc.addr, la.addr)
	}
}

// TestManyClientsAtOnce: 20 clients, half dhclient and half udhcpc,
// started together, get 20 distinct addresses from the pool, and the
// store holds the 20 leases.
func TestManyClientsAtOnce(t *testing.T) {
	requireClientCommands(t, dhclient, udhcpc)
	const n = 20
	pool := mustRange("198.18.0.100", "198.18.0.199")
	_, srvHost, hosts := newServerLink(t, n)
	store := newStore(t)
	startServer(t, srvHost, store, quickArgs(pool, time.Hour)...)
	clients := make([]*dhcpClient, n)
	for i, h := range hosts {
		clients[i] = newClient(t, clientKinds[i%len(clientKinds)], h)
	}
	for _, c := range clients {
		c.start()
	}
	owner := map[netip.Addr]string{}
	for _, c := range clients {
		l := c.waitLease(0)
		a := l.addr.Addr()
		if !pool.contains(a) {
			t.Errorf("%s (%s) got %v, outside the pool %v", c.host.name, c.kind, a, pool)
		}
		if prev, dup := owner[a]; dup {
			t.Errorf("%v given to both %s and %s", a, prev, c.host.mac)
		}
		owner[a] = c.host.mac
		checkOnInterface(t, c, l)
	}
	bound := 0
	for _, l := range listLeases(t, store) {
		if l.State != "bound" {
			continue
		}
		bound++
		if owner[l.Address] != l.HWAddr {
			t.Errorf("leases list: %v bound to %s, the client that has it is %q", l.Address, l.HWAddr, owner[l.Address])
		}
	}
	if bound != n {
		t.Errorf("leases list: %d bound leases, want %d", bound, n)
	}
}

//go:build linux

package integration

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"testing"
)

// TestPingCheckSkipsAnAddressInUse: a host on the link already uses the
// first address of the pool, set by hand. With ping-check on, the server
// pings it before offering it, gets an answer, sets it aside (logged and
// stored as declined) and gives the client the next address.
func TestPingCheckSkipsAnAddressInUse(t *testing.T) {
	requireClientCommands(t, udhcpc)
	l, srvHost, hosts := newServerLink(t, 1)
	squatted := netip.MustParseAddr("198.18.0.100")
	l.addHost("squatter", squatted.String()+"/24")
	pool := mustRange("198.18.0.100", "198.18.0.104")
	cfg := filepath.Join(t.TempDir(), "leased.yaml")
	writeFile(t, cfg, fmt.Sprintf(`interfaces: [eth0]
lease-time: 1h
subnets:
  - prefix: 198.18.0.0/24
    pools: [%s]
    ping-check: {wait: 500ms}
    options:
      routers: [%s]
`, pool, serverAddr), 0o644)
	store := newStore(t)
	srv := startServer(t, srvHost, store, "--config", cfg)

	c := newClient(t, udhcpc, hosts[0])
	c.start()
	got := c.waitLease(0)
	if a := got.addr.Addr(); a == squatted || !pool.contains(a) {
		t.Fatalf("client got %v, want an address of %v other than %v, which another host uses", a, pool, squatted)
	}
	if recs := srv.records(map[string]string{"event": "ping-in-use", "addr": squatted.String()}); len(recs) == 0 {
		t.Errorf("no ping-in-use line for %v in the server log:\n%s", squatted, tail(srv.output(), 20))
	}
	var declined bool
	for _, l := range listLeases(t, store) {
		if l.Address == squatted {
			declined = l.State == "declined"
		}
	}
	if !declined {
		t.Errorf("%v, in use by another host, is not stored as declined: %+v", squatted, listLeases(t, store))
	}
}

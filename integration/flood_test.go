//go:build linux

package integration

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// floodStatus is what the flood tests read of GET /v1/status.
type floodStatus struct {
	Outcomes map[string]uint64 `json:"outcomes"`
}

// startFlood runs "leased bench --flood" on h, relayed from h's address
// in the server's subnet, for at most d, at rate (0: the highest it
// sends), and waits until the server has answered some of it.
func startFlood(t *testing.T, h *host, sock string, d time.Duration, rate int) *proc {
	t.Helper()
	p := startProc(t, h, "leased bench --flood on "+h.name, filepath.Join(t.TempDir(), "flood.log"), nil,
		build.path, "bench", "--flood", "--server", serverAddr, "--local", "198.18.0.2:67",
		"--duration", d.String(), "--rate", fmt.Sprint(rate), "--progress", "0", "--json")
	err := waitFor(startWait, "the flood to reach the server", func() (bool, error) {
		var st floodStatus
		ctlGet(t, sock, "GET", "/v1/status", "", 200, &st)
		o := st.Outcomes
		return o["offer"]+o["offer-unheld"]+o["pool-exhausted"]+o["rate-limited"] > 1000, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestFloodOfRandomAddressesSparesRealClients floods the server with
// DHCPDISCOVERs from random hardware addresses, as fast as "leased bench
// --flood" sends them, from a relay agent on the clients' own link, while
// a real dhclient gets a lease and renews it. The offer limit keeps the
// flood from holding the pool; the relay agent's rate limit drops what it
// sends beyond its rate. With the offer limit off, the same flood holds
// the whole pool and the client gets nothing: the defence is what makes
// the difference.
func TestFloodOfRandomAddressesSparesRealClients(t *testing.T) {
	requireClientCommands(t, dhclient)
	const leaseTime = 20 * time.Second // renewal at 10 s
	run := func(t *testing.T, extra string, rate int) (*leasedServer, string, *dhcpClient) {
		l, srvHost, hosts := newServerLink(t, 1)
		benchHost := l.addHost("bench", "198.18.0.2/24")
		cfg := filepath.Join(t.TempDir(), "leased.yaml")
		writeFile(t, cfg, fmt.Sprintf("interfaces: [eth0]\nlease-time: %s\n%ssubnets:\n  - prefix: 198.18.0.0/24\n    pools: [198.18.0.10-198.18.0.250]\n",
			leaseTime, extra), 0o644)
		sock := ctlSocketPath(t)
		// Not at debug level: a line for each of the flood's offers
		// would fill the log.
		srv := startServer(t, srvHost, newStore(t), "--config", cfg, "--control", sock, "--log-level", "info")
		startFlood(t, benchHost, sock, 2*time.Minute, rate)
		return srv, sock, newClient(t, dhclient, hosts[0])
	}

	t.Run("with the default limits, dhclient gets its lease and renews it", func(t *testing.T) {
		srv, sock, c := run(t, "", 0)
		c.start()
		got := c.waitLease(0)
		if got.reason != "bound" {
			t.Fatalf("first lease event %q, want bound", got.reason)
		}
		after := len(c.eventsSoFar())
		e := c.waitEvent(renewWait, after, "renew", "rebind", "bound", "reboot", "expire", "fail")
		renewed, err := c.leaseOf(e)
		if err != nil {
			t.Fatal(err)
		}
		if e.reason != "renew" || renewed.addr != got.addr {
			t.Errorf("after the lease: %s of %v, want a renewal of %v", e.reason, renewed.addr, got.addr)
		}
		var st floodStatus
		ctlGet(t, sock, "GET", "/v1/status", "", 200, &st)
		t.Logf("outcomes during the flood: %v", st.Outcomes)
		if st.Outcomes["offer-unheld"] == 0 || st.Outcomes["pool-exhausted"] != 0 {
			t.Errorf("outcomes %v: want offers beyond the limit made unheld, and the pool never exhausted", st.Outcomes)
		}
		if acks := srv.events("ack", c.host.mac); len(acks) < 2 {
			t.Errorf("server log: %d acks to %s, want the lease and its renewal", len(acks), c.host.mac)
		}
	})

	t.Run("with the offer limit off, the flood holds the pool", func(t *testing.T) {
		// A pool held for 30 s needs no more than 8 DISCOVERs a second: a
		// slower flood does, and keeps the log (pool-exhausted is at
		// info) small.
		_, sock, c := run(t, "offer-limit: off\n", 2000)
		if c.tryOnce(15 * time.Second) {
			t.Error("dhclient got a lease from a pool the flood holds: the test shows nothing")
		}
		var st floodStatus
		ctlGet(t, sock, "GET", "/v1/status", "", 200, &st)
		if st.Outcomes["pool-exhausted"] == 0 {
			t.Errorf("outcomes %v: want the pool exhausted", st.Outcomes)
		}
	})
}

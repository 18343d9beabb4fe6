//go:build linux

package integration

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"leased/control"
)

// The network of the load tests: one link, 198.18.0.0/16, with the two
// servers (haAddrA, haAddrB), a leased relay forwarding to both, and
// "leased bench" as the relay agent of its simulated clients, with a pool
// of 65,279 addresses for them: more than the clients of a run, so that
// every exchange binds a new address.
const (
	haLoadPrefix = "/16"
	haRelayAddr  = "198.18.0.3"
	haBenchAddr  = "198.18.0.10"
	haLoadSubnet = "  - prefix: 198.18.0.0/16\n    pools: [198.18.1.0-198.18.255.254]\n"
	// haLoadExtra: a load generator is one relay agent sending thousands
	// of requests a second, which the default rate limits are there to
	// stop.
	haLoadExtra = "rate-limit: off\noffer-limit: off\n"
)

// haLoadNet is the network of a load test.
type haLoadNet struct {
	link              *link
	a, b, relay, bnch *host
	pair              *haPair
}

// newHALoadNet makes the link and its hosts, starts PostgreSQL, the two
// servers (starting in their pools at starts) and the relay.
func newHALoadNet(t *testing.T, starts [2]int) *haLoadNet {
	t.Helper()
	n := &haLoadNet{link: newLink(t)}
	n.a = n.link.addHost("serverA", haAddrA+haLoadPrefix)
	n.b = n.link.addHost("serverB", haAddrB+haLoadPrefix)
	n.relay = n.link.addHost("relay", haRelayAddr+haLoadPrefix)
	n.bnch = n.link.addHost("bench", haBenchAddr+haLoadPrefix)
	// Not at debug level: a line for each exchange would be most of the
	// work.
	n.pair = startHAPair(t, n.a, n.b, haLoadSubnet, time.Hour, starts, haLoadExtra, "--log-level", "info")
	r := startProc(t, n.relay, "leased relay", filepath.Join(t.TempDir(), "relay.log"), nil,
		build.path, "relay", "-i", "eth0", "--server", haAddrA, "--server", haAddrB)
	err := waitFor(startWait, "the relay to relay", func() (bool, error) {
		if r.exited() {
			return false, fmt.Errorf("it exited (%v):\n%s", r.err, tail(r.output(), 20))
		}
		return len(matchingRecords(r.output(), map[string]string{"msg": "relaying"})) > 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// benchResult is what the tests read of "leased bench --json".
type benchResult struct {
	Started   uint64  `json:"started"`
	Acks      uint64  `json:"acks"`
	Naks      uint64  `json:"naks"`
	Rate      float64 `json:"rate"`
	Loss      float64 `json:"loss"`
	Conflicts uint64  `json:"conflicts"`
}

// startBench runs "leased bench" on the bench host, through the relay,
// with args added.
func (n *haLoadNet) startBench(t *testing.T, args ...string) *proc {
	t.Helper()
	argv := append([]string{build.path, "bench", "--server", haRelayAddr, "--local", haBenchAddr + ":67",
		"--progress", "0", "--json"}, args...)
	return startProc(t, n.bnch, "leased bench", filepath.Join(t.TempDir(), "bench.log"), nil, argv...)
}

// benchDone waits for the bench to end and returns its summary.
func benchDone(t *testing.T, p *proc, timeout time.Duration) benchResult {
	t.Helper()
	if err := p.wait(timeout); err != nil {
		t.Fatalf("leased bench: %v:\n%s", err, tail(p.output(), 20))
	}
	var r benchResult
	out := p.output()
	line := out[strings.LastIndex(strings.TrimRight(out, "\n"), "\n")+1:]
	if err := json.Unmarshal([]byte(line), &r); err != nil {
		t.Fatalf("leased bench --json: %v in:\n%s", err, tail(out, 5))
	}
	return r
}

// outcomes returns the engine outcomes of both servers, added up, and
// of each.
func (p *haPair) outcomes(t *testing.T) (map[string]uint64, [2]map[string]uint64) {
	t.Helper()
	sum := map[string]uint64{}
	var each [2]map[string]uint64
	for i, sock := range p.sock {
		var st control.Status
		ctlGet(t, sock, "GET", "/v1/status", "", 200, &st)
		each[i] = st.Outcomes
		for k, v := range st.Outcomes {
			sum[k] += v
		}
	}
	return sum, each
}

// checkWireAgainstDB fails t unless the database binds the address of
// every DHCPACK in acks (in wire order) to the client of the last of
// them. The database may hold more: a commit that timed out in the server
// (commit-failed, no DHCPACK sent) may still have reached it, and binds
// its address to a client that was not told; there can be no more of
// those than failed commits.
func checkWireAgainstDB(t *testing.T, url string, acks []wireReply, failed uint64) {
	t.Helper()
	last := map[netip.Addr]string{}
	for _, a := range acks {
		last[a.yiaddr] = a.client
	}
	db := dbOwners(t, url)
	bad := 0
	for a, want := range last {
		if got := db[a]; got != want {
			if bad++; bad <= 10 {
				t.Errorf("%v: its last DHCPACK on the wire went to %s; the database binds it to %q", a, want, got)
			}
		}
	}
	extra := len(db) - (len(last) - bad)
	if uint64(extra) > failed {
		t.Errorf("the database has %d bound leases that no DHCPACK gave, more than the %d failed commits", extra, failed)
	} else if extra > 0 {
		t.Logf("the database has %d bound leases that no DHCPACK gave, of %d commits that failed in the servers (timed out, yet reached the database)", extra, failed)
	}
}

// TestHATwoServersUnderLoad: two leased servers share one PostgreSQL
// database and answer every DHCPDISCOVER of "leased bench" (through a
// relay forwarding to both) at once. No address is ever bound to two
// clients: not in the DHCPACKs captured on the wire (every DHCPACK of an
// address to a client comes after the end of the lease another client
// had of it), not in the database (which binds each address to the
// client its last DHCPACK went to). The collision rate (DHCPNAKs for a
// binding the database refused, nak-conflict, per DHCPACK) is logged,
// with the servers starting in their pools at 0 % and 50 %, and both at
// 0 %; the first must collide less.
func TestHATwoServersUnderLoad(t *testing.T) {
	requireCommands(t, "tcpdump")
	rates := map[string]float64{}
	for _, tc := range []struct {
		name   string
		starts [2]int
	}{
		{"pool-start-percent 0 and 50", [2]int{0, 50}},
		{"pool-start-percent 0 and 0", [2]int{0, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := newHALoadNet(t, tc.starts)
			capt := startCapture(t, n.link)
			// Each simulated client makes one exchange: every DHCPACK is
			// a new binding, which is where offers may collide.
			b := n.startBench(t, "--clients", "20000", "--count", "20000", "--duration", "0", "--outstanding", "64")
			res := benchDone(t, b, time.Minute)
			sum, each := n.pair.outcomes(t)
			wire := capt.stop(t, sum["ack"])
			if res.Acks == 0 || sum["ack"] == 0 {
				t.Fatalf("no DHCPACK: bench %+v, servers %v", res, sum)
			}
			if res.Conflicts != 0 {
				t.Errorf("leased bench saw %d addresses acknowledged to two clients at once", res.Conflicts)
			}
			wacks := acks(wire)
			if uint64(len(wacks)) < res.Acks {
				t.Errorf("%d DHCPACKs on the wire, fewer than the %d the bench received", len(wacks), res.Acks)
			}
			checkAcksUnique(t, wacks)
			checkWireAgainstDB(t, n.pair.url, wacks, sum["commit-failed"])
			rate := float64(sum["nak-conflict"]) / float64(sum["ack"])
			rates[tc.name] = rate
			t.Logf("bench: %d DHCPACKs, %d DHCPNAKs, %.0f exchanges/s, loss %.2f%%; %d DHCPACKs on the wire",
				res.Acks, res.Naks, res.Rate, 100*res.Loss, len(wacks))
			t.Logf("servers: ack %d+%d, nak-conflict %d+%d: collision rate %.2f%%",
				each[0]["ack"], each[1]["ack"], each[0]["nak-conflict"], each[1]["nak-conflict"], 100*rate)
		})
	}
	apart, same := rates["pool-start-percent 0 and 50"], rates["pool-start-percent 0 and 0"]
	if len(rates) == 2 && same > 0 && apart >= same {
		t.Errorf("collision rate %.2f%% with the servers starting apart, %.2f%% starting together: want fewer apart", 100*apart, 100*same)
	}
}

// waitOutcomes waits until cond holds of the two servers' outcomes added
// up, and returns them.
func (p *haPair) waitOutcomes(t *testing.T, what string, cond func(map[string]uint64) bool) map[string]uint64 {
	t.Helper()
	var sum map[string]uint64
	err := waitFor(leaseWait, what, func() (bool, error) {
		sum, _ = p.outcomes(t)
		return cond(sum), nil
	})
	if err != nil {
		t.Fatalf("%v; outcomes %v", err, sum)
	}
	return sum
}

// waitHealthy waits until both servers' status says the store is
// healthy, or both say it is not.
func (p *haPair) waitHealthy(t *testing.T, healthy bool) {
	t.Helper()
	err := waitFor(startWait, fmt.Sprintf("both servers to show the store healthy=%v", healthy), func() (bool, error) {
		for _, sock := range p.sock {
			if storeStatus(t, sock).Store.Healthy != healthy {
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestHADatabaseDownUnderLoad: PostgreSQL is stopped while two servers
// sharing it are under load, and started again. While it is down, no
// DHCPACK promises anything not committed before the stop (checked on
// the wire against the times of the stop and of the start again): with
// new clients only, no DHCPACK at all; with clients that come back for
// their lease, only DHCPACKs of the lease each already has, for no longer
// than it had left (ack-kept). The servers show the store unhealthy, and
// once it is back they serve again by themselves. Every lease
// acknowledged, before the stop or after, is in the database, bound to
// its client, and no address was acknowledged to two clients.
func TestHADatabaseDownUnderLoad(t *testing.T) {
	requireCommands(t, "tcpdump")
	for _, tc := range []struct {
		name    string
		clients string // of the bench, at 1000 exchanges a second
		renew   bool   // clients come back for their leases during the outage
		down    string // the outcome that counts requests during the outage
	}{
		// Every exchange a new client: each DHCPACK needs a new commitment.
		{"new clients get no DHCPACK", "60000", false, "store-not-writable"},
		// Each client comes back every 1.5 s for the lease it has.
		{"returning clients keep their leases for the time left", "1500", true, "ack-kept"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := newHALoadNet(t, [2]int{0, 50})
			capt := startCapture(t, n.link)
			b := n.startBench(t, "--clients", tc.clients, "--rate", "1000", "--duration", "15s")
			n.pair.waitOutcomes(t, "2000 DHCPACKs before the stop", func(o map[string]uint64) bool { return o["ack"] >= 2000 })
			stopped, restarting, back := n.pair.outage(t, tc.down)
			res := benchDone(t, b, time.Minute)
			sum, _ := n.pair.outcomes(t)
			wire := acks(capt.stop(t, sum["ack"]+sum["ack-kept"]))
			before, during, after := checkOutage(t, wire, stopped, restarting, tc.renew)
			if tc.renew && sum["ack-kept"] == 0 {
				t.Error("no ack-kept: no returning client was served during the outage")
			}
			checkAcksUnique(t, wire)
			checkWireAgainstDB(t, n.pair.url, wire, sum["commit-failed"])
			t.Logf("DHCPACKs on the wire: %d before the stop, %d while down (%v), %d after; the store writable again %v after the start",
				before, during, restarting.Sub(stopped).Round(time.Millisecond), after, back.Round(time.Millisecond))
			t.Logf("bench: %d DHCPACKs, loss %.1f%%; servers: ack %d, store-not-writable %d, ack-kept %d",
				res.Acks, 100*res.Loss, sum["ack"], sum["store-not-writable"], sum["ack-kept"])
		})
	}
}

// outage stops the database, waits until both servers see it and have
// counted 3000 outcomes of kind down, starts it again, and waits until they have
// acknowledged 1000 more. It returns the time the stop completed, the
// time the start began, and how long after the start the servers were
// writable again.
func (p *haPair) outage(t *testing.T, down string) (stopped, restarting time.Time, back time.Duration) {
	t.Helper()
	if err := p.pg.Stop(); err != nil {
		t.Fatal(err)
	}
	stopped = time.Now()
	p.waitHealthy(t, false)
	during := p.waitOutcomes(t, "3000 "+down+" while the database is down", func(o map[string]uint64) bool {
		return o[down] >= 3000
	})
	restarting = time.Now()
	if err := p.pg.Restart(); err != nil {
		t.Fatal(err)
	}
	p.waitHealthy(t, true)
	back = time.Since(restarting)
	p.waitOutcomes(t, "1000 DHCPACKs after the start again", func(o map[string]uint64) bool {
		return o["ack"] >= during["ack"]+1000
	})
	return stopped, restarting, back
}

// keptSlack is how much later than the lease it keeps an ack-kept
// DHCPACK may seem to end, seen on the wire: the server counts the time
// left from its clock when it decides, the wire sees the DHCPACK later
// (by more than a second on a busy machine). A lease extended by a
// commitment would end a lease time (an hour) later.
const keptSlack = 5 * time.Second

// checkOutage fails t for a DHCPACK of wire (in wire order) sent while
// the database was down, between stopped and restarting, unless kept
// allows DHCPACKs of a lease already acknowledged to the same client,
// ending no later than it did, give or take keptSlack. It fails t too if
// no DHCPACK came after the outage. It returns the DHCPACKs before, during and after.
func checkOutage(t *testing.T, wire []wireReply, stopped, restarting time.Time, kept bool) (before, during, after int) {
	t.Helper()
	type lease struct {
		client string
		end    time.Time
	}
	committed := map[string]lease{}
	bad := 0
	for _, a := range wire {
		switch {
		case a.at.Before(stopped):
			before++
			committed[a.yiaddr.String()] = lease{a.client, a.at.Add(a.leaseTime)}
			continue
		case !a.at.Before(restarting):
			after++
			continue
		}
		during++
		l, ok := committed[a.yiaddr.String()]
		end := a.at.Add(a.leaseTime)
		if kept && ok && l.client == a.client && !end.After(l.end.Add(keptSlack)) {
			continue
		}
		if bad++; bad <= 10 {
			t.Errorf("DHCPACK of %v to %s for %v from %v at %s, while the database was down (%s to %s); committed before: %+v",
				a.yiaddr, a.client, a.leaseTime, a.from, a.at.Format("15:04:05.000000"),
				stopped.Format("15:04:05.000000"), restarting.Format("15:04:05.000000"), l)
		}
	}
	if after == 0 {
		t.Error("no DHCPACK on the wire after the database was started again")
	}
	return before, during, after
}

// TestHAServerKilledUnderLoad: one of two servers sharing a database is
// killed (SIGKILL) while "leased bench" clients, each coming back every
// few seconds for its lease, keep both busy. The survivor carries on
// alone: it serves every client, those of the dead server too, with the
// address that client had (no client's address changes across the run,
// on the wire); every DHCPACK on the wire is in the database; no address
// is acknowledged to two clients.
func TestHAServerKilledUnderLoad(t *testing.T) {
	requireCommands(t, "tcpdump")
	n := newHALoadNet(t, [2]int{0, 50})
	capt := startCapture(t, n.link)
	b := n.startBench(t, "--clients", "3000", "--rate", "1000", "--duration", "12s")
	n.pair.waitOutcomes(t, "4000 DHCPACKs before the kill", func(o map[string]uint64) bool { return o["ack"] >= 4000 })
	_, before := n.pair.outcomes(t)
	n.pair.killA(t)
	killed := time.Now()
	err := waitFor(leaseWait, "the survivor to acknowledge 4000 more", func() (bool, error) {
		var st control.Status
		ctlGet(t, n.pair.sock[1], "GET", "/v1/status", "", 200, &st)
		return st.Outcomes["ack"] >= before[1]["ack"]+4000, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	res := benchDone(t, b, time.Minute)
	var st control.Status
	ctlGet(t, n.pair.sock[1], "GET", "/v1/status", "", 200, &st)
	sent := st.Outcomes
	// Server A sent at least what it had counted before the kill.
	wire := acks(capt.stop(t, before[0]["ack"]+sent["ack"]))

	addrOf := map[string]netip.Addr{}
	moved, afterKill := 0, 0
	for _, a := range wire {
		if a.at.After(killed) {
			afterKill++
			if a.from.String() != haAddrB {
				t.Errorf("DHCPACK from %v after it was killed", a.from)
			}
		}
		if prev, ok := addrOf[a.client]; ok && prev != a.yiaddr {
			if moved++; moved <= 10 {
				t.Errorf("%s got %v at %s, after %v", a.client, a.yiaddr, a.at.Format("15:04:05.000000"), prev)
			}
		}
		addrOf[a.client] = a.yiaddr
	}
	checkAcksUnique(t, wire)
	// The killed server's commits in flight may have reached the
	// database without their DHCPACKs: up to a batch of them.
	checkWireAgainstDB(t, n.pair.url, wire, sent["commit-failed"]+haMaxInFlight)
	t.Logf("bench: %d DHCPACKs, loss %.1f%%; DHCPACKs on the wire: %d, %d of them after the kill; %d clients",
		res.Acks, 100*res.Loss, len(wire), afterKill, len(addrOf))
}

// haMaxInFlight bounds the commits a killed server may have had in
// flight: the requests that may wait for the database at once.
const haMaxInFlight = 4096

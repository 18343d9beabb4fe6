//go:build linux

package integration

import (
	"fmt"
	"net/netip"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestReloadOnSIGHUP: SIGHUP makes the server read its configuration
// file again. New clients get addresses from the new pool, leases granted
// before are kept (renewed and stored), and a file that does not validate
// is refused with the file and line at fault while the running
// configuration goes on serving.
func TestReloadOnSIGHUP(t *testing.T) {
	requireClientCommands(t, udhcpc)
	_, srvHost, hosts := newServerLink(t, 5)
	poolA := mustRange("198.18.0.100", "198.18.0.104")
	poolB := mustRange("198.18.0.150", "198.18.0.154")
	cfg := filepath.Join(t.TempDir(), "leased.yaml")
	writeFile(t, cfg, oneSubnetConfig(poolA, serverAddr, 30*time.Second), 0o644)
	store := newStore(t)
	srv := startServer(t, srvHost, store, "--config", cfg)

	c1 := newClient(t, udhcpc, hosts[0])
	c1.start()
	l1 := c1.waitLease(0)
	if !poolA.contains(l1.addr.Addr()) {
		t.Fatalf("before the reload: %v, want an address of %v", l1.addr, poolA)
	}

	t.Run("SIGHUP new pool for new clients, old leases kept", func(t *testing.T) {
		writeFile(t, cfg, oneSubnetConfig(poolB, serverAddr, 30*time.Second), 0o644)
		reloaded := map[string]string{"msg": "configuration reloaded"}
		n := len(srv.records(reloaded))
		if err := srv.signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		srv.waitRecord(t, n, reloaded)

		c2 := newClient(t, udhcpc, hosts[1])
		c2.start()
		l2 := c2.waitLease(0)
		if !poolB.contains(l2.addr.Addr()) {
			t.Errorf("after the reload: new client got %v, want an address of the new pool %v", l2.addr, poolB)
		}

		acks := len(srv.events("ack", c1.host.mac))
		from := len(c1.eventsSoFar())
		c1.renewNow()
		e := c1.waitEvent(leaseWait, from, "renew", "bound", "deconfig", "nak")
		if r, err := c1.leaseOf(e); e.reason != "renew" || err != nil || r.addr != l1.addr {
			t.Errorf("renewal after the reload: event %q (%v) lease %v, want renew of %v", e.reason, err, r.addr, l1.addr)
		}
		srv.waitRecord(t, acks, map[string]string{"msg": "lease", "event": "ack", "client": c1.host.mac, "addr": l1.addr.Addr().String()})

		leases := listLeases(t, store)
		for _, a := range []clientLease{l1, l2} {
			if _, ok := boundLease(leases, a.addr.Addr()); !ok {
				t.Errorf("leases list after the reload: %v not bound", a.addr.Addr())
			}
		}
	})

	for i, tc := range []struct {
		name, file, err string
	}{
		{"SIGHUP invalid file refused/unknown key", oneSubnetConfig(poolA, serverAddr, time.Minute) + "pool: [198.18.0.200-198.18.0.210]\n", "leased.yaml:"},
		{"SIGHUP invalid file refused/reversed pool", oneSubnetConfig(addrRange{poolA.last, poolA.first}, serverAddr, time.Minute), "leased.yaml:"},
		{"SIGHUP invalid file refused/not YAML", "subnets: [\n", "leased.yaml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			writeFile(t, cfg, tc.file, 0o644)
			refused := map[string]string{"msg": "reload refused; the running configuration stays"}
			n := len(srv.records(refused))
			if err := srv.signal(syscall.SIGHUP); err != nil {
				t.Fatal(err)
			}
			r := srv.waitRecord(t, n, refused)
			t.Logf("refused: %s", r["err"])
			if !strings.Contains(r["err"], tc.err) {
				t.Errorf("refusal %q does not name %q", r["err"], tc.err)
			}
			// Still serving with the configuration of before: pool B.
			c := newClient(t, udhcpc, hosts[2+i])
			if !c.tryOnce(15 * time.Second) {
				t.Fatalf("no lease after the refused reload")
			}
			e := c.eventsSoFar()
			got, err := c.leaseOf(e[len(e)-1])
			if err != nil {
				t.Fatal(err)
			}
			if !poolB.contains(got.addr.Addr()) {
				t.Errorf("after the refused reload: %v, want an address of the running pool %v", got.addr, poolB)
			}
		})
	}
	if srv.exited() {
		t.Fatalf("server exited: %v", srv.err)
	}
}

// TestQuickModeSIGHUP: in quick mode there is no file to reload; SIGHUP
// is logged and the server goes on serving.
func TestQuickModeSIGHUP(t *testing.T) {
	requireClientCommands(t, udhcpc)
	_, srvHost, hosts := newServerLink(t, 1)
	srv := startServer(t, srvHost, newStore(t), quickArgs(mustRange("198.18.0.100", "198.18.0.199"), time.Hour)...)
	if err := srv.signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	srv.waitRecord(t, 0, map[string]string{"level": "WARN", "msg": "reload: no configuration file (quick mode); nothing to reload"})
	c := newClient(t, udhcpc, hosts[0])
	c.start()
	checkOnInterface(t, c, c.waitLease(0))
}

// TestStopSignals: SIGTERM and SIGINT, sent while clients are being
// served, stop the server with status 0 and "stopped"; every lease it
// acknowledged is in the store, which closed cleanly: the next start
// reads it without repairing anything.
func TestStopSignals(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(fmt.Sprintf("%v stops gracefully", sig), func(t *testing.T) {
			requireClientCommands(t, dhclient, udhcpc)
			const n = 6
			_, srvHost, hosts := newServerLink(t, n)
			store := newStore(t)
			args := quickArgs(mustRange("198.18.0.100", "198.18.0.199"), time.Hour)
			srv := startServer(t, srvHost, store, args...)
			for i, h := range hosts {
				newClient(t, clientKinds[i%len(clientKinds)], h).start()
			}
			srv.waitRecord(t, 0, map[string]string{"msg": "lease", "event": "ack"})

			if err := srv.stop(sig); err != nil {
				t.Fatalf("server after %v: %v, want exit status 0", sig, err)
			}
			if len(srv.records(map[string]string{"msg": "stopped"})) != 1 {
				t.Errorf("server log: no \"stopped\" line:\n%s", tail(srv.output(), 10))
			}

			// A client may be acknowledged twice (a retransmitted
			// DHCPREQUEST): count addresses.
			acked := map[string]bool{}
			leases := listLeases(t, store)
			for _, a := range srv.events("ack", "") {
				acked[a["addr"]] = true
				l, ok := boundLease(leases, mustAddr(t, a["addr"]))
				if !ok || !strings.HasPrefix(a["client"], l.HWAddr) {
					t.Errorf("acknowledged %s to %s, but the store has %+v", a["addr"], a["client"], l)
				}
			}
			t.Logf("%d of %d clients acknowledged before %v", len(acked), n, sig)

			again := startServer(t, srvHost, store, args...)
			opened := again.records(map[string]string{"msg": "lease journal: opened"})
			if len(opened) != 1 {
				t.Fatalf("restarted server: no \"lease journal: opened\" line")
			}
			if recs, _ := strconv.Atoi(opened[0]["records"]); recs < len(acked) {
				t.Errorf("restarted server: store opened with %d records, want at least the %d acknowledged", recs, len(acked))
			}
			for _, lvl := range []string{"WARN", "ERROR"} {
				if rs := again.records(map[string]string{"level": lvl}); len(rs) > 0 {
					t.Errorf("restarted server logged at %s: %v", lvl, rs)
				}
			}
		})
	}
}

// mustAddr parses an address from the server's log.
func mustAddr(t *testing.T, s string) netip.Addr {
	t.Helper()
	a, err := netip.ParseAddr(s)
	if err != nil {
		t.Fatalf("address %q in the server log: %v", s, err)
	}
	return a
}

// TestDropPrivileges: with --user, the server opens its sockets as root,
// then runs as that user, with no capabilities left, and still serves:
// it answers clients and writes the lease store it owns.
func TestDropPrivileges(t *testing.T) {
	requireClientCommands(t, udhcpc)
	u, err := user.Lookup("nobody")
	if err != nil {
		t.Skipf("no user nobody to run as: %v", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)

	// The store's directory, and the way to it, must be open to nobody.
	dir, err := os.MkdirTemp("", "leased-it-user-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	store := filepath.Join(dir, "store")
	if err := os.Mkdir(store, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(store, uid, gid); err != nil {
		t.Fatal(err)
	}

	_, srvHost, hosts := newServerLink(t, 1)
	srv := startServer(t, srvHost, store, append(quickArgs(mustRange("198.18.0.100", "198.18.0.199"), time.Hour), "--user", "nobody")...)
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", srv.cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	fields := map[string][]string{}
	for _, line := range strings.Split(string(status), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			fields[k] = strings.Fields(v)
		}
	}
	if name := strings.Join(fields["Name"], " "); name != "leased" {
		t.Fatalf("process %d is %q, want leased", srv.cmd.Process.Pid, name)
	}
	for _, f := range []struct {
		key  string
		want int
	}{{"Uid", uid}, {"Gid", gid}} {
		if len(fields[f.key]) != 4 {
			t.Fatalf("/proc/PID/status %s: %v", f.key, fields[f.key])
		}
		for _, v := range fields[f.key] {
			if v != strconv.Itoa(f.want) {
				t.Errorf("%s (real, effective, saved, filesystem) %v, want all %d", f.key, fields[f.key], f.want)
				break
			}
		}
	}
	if capEff := strings.Join(fields["CapEff"], ""); strings.Trim(capEff, "0") != "" {
		t.Errorf("effective capabilities %s, want none", capEff)
	}
	if groups := fields["Groups"]; len(groups) != 0 {
		t.Errorf("supplementary groups %v, want none", groups)
	}

	c := newClient(t, udhcpc, hosts[0])
	c.start()
	got := c.waitLease(0)
	checkOnInterface(t, c, got)
	if _, ok := boundLease(listLeases(t, store), got.addr.Addr()); !ok {
		t.Errorf("leases list: %v not bound", got.addr.Addr())
	}
}

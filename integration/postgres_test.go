//go:build linux

package integration

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"leased/internal/pgtest"
)

// listDBLeases runs "leased leases list --db URL --json".
func listDBLeases(t *testing.T, url string) []storedLease {
	t.Helper()
	cmd := exec.Command(build.path, "leases", "list", "--db", url, "--json")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("leased leases list --db: %v: %s", err, stderr.Bytes())
	}
	var leases []storedLease
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var l storedLease
		if err := dec.Decode(&l); err != nil {
			t.Fatalf("leased leases list --json: %v in:\n%s", err, out)
		}
		leases = append(leases, l)
	}
	return leases
}

// TestPostgresStore: a server whose leases are in PostgreSQL (started by
// the test) acknowledges a real client's lease once it is in the
// database; while the database is stopped it acknowledges no new lease
// and says so in its status; started again, the database is back in use
// within seconds without a restart of the server, and nothing committed
// before the stop is lost.
func TestPostgresStore(t *testing.T) {
	requireClientCommands(t, udhcpc)
	pg := pgtest.Start(t)
	url := pg.NewDB(t)
	if out, err := exec.Command(build.path, "db", "init", "--url", url).CombinedOutput(); err != nil {
		t.Fatalf("leased db init: %v: %s", err, out)
	}
	_, srvHost, hosts := newServerLink(t, 3)
	pool := mustRange("198.18.0.100", "198.18.0.149")
	cfg := filepath.Join(t.TempDir(), "leased.yaml")
	writeFile(t, cfg, oneSubnetConfig(pool, serverAddr, 30*time.Second)+"store:\n  type: postgres\n  url: \""+url+"\"\n", 0o644)
	sock := ctlSocketPath(t)
	srv := startServer(t, srvHost, newStore(t), "--config", cfg, "--control", sock)
	if st := storeStatus(t, sock); !st.Store.Healthy || !strings.HasPrefix(st.Store.Dir, "postgres://") {
		t.Fatalf("store status %+v", *st.Store)
	}

	holder := newClient(t, udhcpc, hosts[0])
	holder.start()
	got := holder.waitLease(0)
	if l, ok := boundLease(listDBLeases(t, url), got.addr.Addr()); !ok || l.HWAddr != holder.host.mac {
		t.Fatalf("the database has no bound lease of %v for %s", got.addr.Addr(), holder.host.mac)
	}

	if err := pg.Stop(); err != nil {
		t.Fatal(err)
	}
	err := waitFor(startWait, "the status to show the database down", func() (bool, error) {
		return !storeStatus(t, sock).Store.Healthy, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	newcomer := newClient(t, udhcpc, hosts[1])
	if newcomer.tryOnce(3 * time.Second) {
		t.Fatal("a new client got a lease while the database was down")
	}
	if acks := srv.events("ack", newcomer.host.mac); len(acks) != 0 {
		t.Errorf("acknowledged while the database was down: %v", acks)
	}
	if refused := srv.events("store-not-writable", newcomer.host.mac); len(refused) == 0 {
		t.Error("no store-not-writable in the log for the new client")
	}

	if err := pg.Restart(); err != nil {
		t.Fatal(err)
	}
	restarted := time.Now()
	err = waitFor(startWait, "the store to be writable again", func() (bool, error) {
		return storeStatus(t, sock).Store.Healthy, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	back := time.Since(restarted)
	if back > 5*time.Second {
		t.Errorf("writable %v after the database started, want within about a second", back)
	}
	late := newClient(t, udhcpc, hosts[2])
	late.start()
	lateLease := late.waitLease(0)
	leases := listDBLeases(t, url)
	for c, a := range map[*dhcpClient]clientLease{holder: got, late: lateLease} {
		if l, ok := boundLease(leases, a.addr.Addr()); !ok || l.HWAddr != c.host.mac {
			t.Errorf("after the outage, the database has no bound lease of %v for %s", a.addr.Addr(), c.host.mac)
		}
	}
	t.Logf("writable again %v after the database started", back)
}

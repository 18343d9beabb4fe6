//go:build linux

package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHookScriptSeesEveryLeaseEvent: a real client gets a lease, renews
// it at T1 and releases it, and another client's lease runs out; the
// configured hook script, which records its environment and standard
// input, sees commit, renew and release of the first address in that
// order, and the expiry of the second, each with the client's hardware
// address and the lease as JSON.
func TestHookScriptSeesEveryLeaseEvent(t *testing.T) {
	requireClientCommands(t, udhcpc)
	_, srvHost, hosts := newServerLink(t, 2)
	dir := t.TempDir()
	record := filepath.Join(dir, "events")
	script := filepath.Join(dir, "on-lease")
	writeFile(t, script, `#!/bin/sh
json=$(cat)
printf '%s %s %s %s\n' "$LEASED_EVENT" "$LEASED_ADDRESS" "$LEASED_HW_ADDRESS" "$json" >>`+shellQuote(record)+"\n", 0o755)
	cfg := filepath.Join(dir, "leased.yaml")
	pool := mustRange("198.18.0.100", "198.18.0.109")
	writeFile(t, cfg, fmt.Sprintf(`interfaces: [eth0]
lease-time: %s
subnets:
  - prefix: 198.18.0.0/24
    pools: [%s]
hooks:
  script:
    path: %s
    timeout: 5s
`, shortLease, pool, script), 0o644)
	srv := startServer(t, srvHost, newStore(t), "--config", cfg)

	c := newClient(t, udhcpc, hosts[0])
	c.start()
	first := c.waitLease(0)
	addr := first.addr.Addr().String()
	if e := c.waitEvent(renewWait, len(c.eventsSoFar()), "renew", "rebind", "bound", "deconfig", "fail"); e.reason != "renew" {
		t.Fatalf("the client's next event is %q, want renew", e.reason)
	}
	c.release()

	gone := newClient(t, udhcpc, hosts[1])
	gone.start()
	goneAddr := gone.waitLease(0).addr.Addr().String()
	gone.kill() // no release: the lease runs out

	want := []string{
		"commit " + addr + " " + c.host.mac,
		"renew " + addr + " " + c.host.mac,
		"release " + addr + " " + c.host.mac,
	}
	var lines []string
	err := waitFor(shortLease+renewWait, "the hook to see every event", func() (bool, error) {
		b, err := os.ReadFile(record)
		if err != nil && !os.IsNotExist(err) {
			return false, err
		}
		lines = strings.Split(strings.TrimSpace(string(b)), "\n")
		return strings.Contains(string(b), "expire "+goneAddr+" "+gone.host.mac), nil
	})
	if err != nil {
		t.Fatalf("%v; the hook saw:\n%s\nserver log:\n%s", err, strings.Join(lines, "\n"), tail(srv.output(), 20))
	}
	var mine []string
	for _, l := range lines {
		if f := strings.Fields(l); len(f) >= 3 && f[1] == addr {
			mine = append(mine, strings.Join(f[:3], " "))
			if !strings.Contains(l, `"address":"`+addr+`"`) || !strings.Contains(l, `"subnet":"198.18.0.0/24"`) {
				t.Errorf("standard input lacks the lease: %s", l)
			}
		}
	}
	// udhcpc may renew more than once before the release.
	var compact []string
	for _, m := range mine {
		if len(compact) == 0 || compact[len(compact)-1] != m || !strings.HasPrefix(m, "renew ") {
			compact = append(compact, m)
		}
	}
	if strings.Join(compact, "\n") != strings.Join(want, "\n") {
		t.Errorf("events of %s:\n%s\nwant:\n%s", addr, strings.Join(mine, "\n"), strings.Join(want, "\n"))
	}
	if recs := srv.records(map[string]string{"msg": "hook script failed"}); len(recs) > 0 {
		t.Errorf("hook failures logged: %v", recs)
	}
}

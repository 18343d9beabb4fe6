//go:build linux

package integration

import (
	"strings"
	"syscall"
	"testing"
)

// TestServerRestart: the server is killed (SIGKILL, no chance to tidy up)
// and started again on the same store. Every lease it acknowledged is
// still there: bound clients renew with the new process and keep their
// addresses, and a client restarted with its remembered lease
// (INIT-REBOOT: a broadcast DHCPREQUEST with the requested address and no
// server identifier) gets it back without a DHCPDISCOVER.
func TestServerRestart(t *testing.T) {
	requireClientCommands(t, dhclient, udhcpc)
	pool := mustRange("198.18.0.100", "198.18.0.199")
	_, srvHost, hosts := newServerLink(t, 3)
	store := newStore(t)
	args := quickArgs(pool, shortLease)
	first := startServer(t, srvHost, store, args...)

	staying := []*dhcpClient{newClient(t, dhclient, hosts[0]), newClient(t, udhcpc, hosts[1])}
	rebooting := newClient(t, dhclient, hosts[2])
	clients := append(staying[:len(staying):len(staying)], rebooting)
	leases := map[*dhcpClient]clientLease{}
	for _, c := range clients {
		c.start()
	}
	for _, c := range clients {
		leases[c] = c.waitLease(0)
	}

	if err := first.stop(syscall.SIGKILL); err == nil || first.exitCode() != -1 {
		t.Fatalf("server after SIGKILL: %v, want killed", err)
	}
	// The rebooting client goes down too, keeping its lease file.
	rebooting.kill()
	rebooting.host.flushAddrs()

	second := startServer(t, srvHost, store, args...)
	renewedFrom := map[*dhcpClient]int{}
	for _, c := range staying {
		renewedFrom[c] = len(c.eventsSoFar())
	}

	t.Run("RFC2131 3.2 INIT-REBOOT gets the remembered lease back", func(t *testing.T) {
		want := leases[rebooting]
		from := len(rebooting.eventsSoFar())
		rebooting.start()
		e := rebooting.waitEvent(leaseWait, from, "reboot", "bound", "fail", "expire")
		if e.reason != "reboot" {
			t.Fatalf("restarted dhclient: event %q, want reboot (INIT-REBOOT acknowledged)", e.reason)
		}
		got, err := rebooting.leaseOf(e)
		if err != nil {
			t.Fatal(err)
		}
		if got.addr != want.addr {
			t.Errorf("INIT-REBOOT got %v, want the remembered %v", got.addr, want.addr)
		}
		checkOnInterface(t, rebooting, got)

		addr := want.addr.Addr().String()
		log := rebooting.runLog()
		if strings.Contains(log, "DHCPDISCOVER") {
			t.Errorf("restarted dhclient sent a DHCPDISCOVER, want INIT-REBOOT only:\n%s", log)
		}
		req := strings.Index(log, "DHCPREQUEST for "+addr)
		ack := strings.Index(log, "DHCPACK of "+addr)
		if req < 0 || ack < req {
			t.Errorf("restarted dhclient: want \"DHCPREQUEST for %s\" then \"DHCPACK of %s\" in:\n%s", addr, addr, log)
		}
		// The server saw the INIT-REBOOT form of DHCPREQUEST.
		var initReboot bool
		for _, r := range second.records(map[string]string{"msg": "received"}) {
			p := r["packet"]
			if strings.HasPrefix(p, "DHCPREQUEST ") && strings.Contains(p, "chaddr="+rebooting.host.mac) &&
				strings.Contains(p, "requested-address="+addr) &&
				!strings.Contains(p, "server-id=") && !strings.Contains(p, "ciaddr=") {
				initReboot = true
			}
		}
		if !initReboot {
			t.Errorf("restarted server: no DHCPREQUEST from %s with requested-address=%s, no server-id, no ciaddr", rebooting.host.mac, addr)
		}
		if acks := second.events("ack", rebooting.host.mac); len(acks) == 0 || acks[0]["addr"] != addr {
			t.Errorf("restarted server: acks to %s %v, want %s", rebooting.host.mac, acks, addr)
		}
	})

	for _, c := range staying {
		t.Run("RFC2131 4.4.5 bound client renews with the restarted server/"+string(c.kind), func(t *testing.T) {
			e := c.waitEvent(renewWait, renewedFrom[c], "renew", "rebind", "bound", "reboot", "deconfig", "expire", "fail")
			if e.reason != "renew" && e.reason != "rebind" {
				t.Fatalf("after the restart: event %q, want renew", e.reason)
			}
			got, err := c.leaseOf(e)
			if err != nil {
				t.Fatal(err)
			}
			if got.addr != leases[c].addr {
				t.Errorf("after the restart: %s %v, want the same address %v", e.reason, got.addr, leases[c].addr)
			}
			if acks := second.events("ack", c.host.mac); len(acks) == 0 || acks[0]["addr"] != got.addr.Addr().String() {
				t.Errorf("restarted server: acks to %s %v, want %v", c.host.mac, acks, got.addr.Addr())
			}
		})
	}
}

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
	"leased/dhcpv4"
)

// whyOf runs "leased why --json id" and returns its answer; ok is false
// while the server has nothing on id.
func whyOf(t *testing.T, sock, id string) (control.Why, bool) {
	t.Helper()
	code, out, stderr := ctlCLI(t, "why", "--json", id, "--control", sock)
	var w control.Why
	if code != 0 {
		if !strings.Contains(stderr, "has not heard from it") {
			t.Fatalf("leased why %s: exit %d: %s", id, code, stderr)
		}
		return w, false
	}
	if err := json.Unmarshal([]byte(out), &w); err != nil {
		t.Fatalf("leased why --json %s: %v\n%s", id, err, out)
	}
	return w, len(w.Clients) > 0
}

// waitWhy waits until the latest decision about the client named id has
// the reason want, and returns the client's history and diagnosis.
func waitWhy(t *testing.T, sock, id, want string) control.WhyClient {
	t.Helper()
	var last control.Why
	err := waitFor(10*time.Second, fmt.Sprintf("the latest decision about %s to be %s", id, want), func() (bool, error) {
		w, ok := whyOf(t, sock, id)
		last = w
		return ok && w.Clients[0].Diagnosis.Reason == want, nil
	})
	if err != nil {
		t.Fatalf("%v; last answer %+v", err, last)
	}
	return last.Clients[0]
}

// TestWhyExplainsEverySilence runs a server whose pool has one address
// and asks "leased why" about clients it stayed silent for, one for each
// reason: the pool is full, no subnet for the relay agent, a REQUEST for
// another server, the client's rate limit, a giaddr that would reflect, a
// client unknown to a server that is not authoritative, and a request on
// an interface not served; and a real dhclient kept out by the full
// pool. Each diagnosis names the reason and its
// details, and the CLI prints them for people too.
func TestWhyExplainsEverySilence(t *testing.T) {
	requireClientCommands(t, dhclient)
	l, srvHost, hosts := newServerLink(t, 1)
	pr := newProbe(t, l.addHost("probe", "198.18.0.250/24"))
	other := newLink(t) // a network on the server's eth1, not served
	addLeg(other, srvHost, "eth1", "198.18.9.1/24")
	pr2 := newProbe(t, other.addHost("probe2", "198.18.9.250/24"))

	cfg := filepath.Join(t.TempDir(), "leased.yaml")
	writeFile(t, cfg, `interfaces: [eth0]
lease-time: 1h
rate-limit: {client: {rate: 0.001, burst: 3}}
subnets:
  - prefix: 198.18.0.0/24
    pools: [198.18.0.100-198.18.0.100]
`, 0o644)
	sock := ctlSocketPath(t)
	startServer(t, srvHost, newStore(t), "--config", cfg, "--control", sock)

	// Client 1 takes the only address.
	offer := ctlReplyOnce(t, pr, broadcastOnce(pr, discover(t, 1, nil)), leaseWait)
	if ack := ctlReplyOnce(t, pr, broadcastOnce(pr, ctlRequest(t, 1, offer)), leaseWait); ack.MessageType() != dhcpv4.Ack {
		t.Fatalf("client 1: %v", ack.MessageType())
	}
	mac := func(i int) string { return dhcpv4.FormatHex(probeMAC(i)) }

	tests := []struct {
		name   string
		client int
		send   func(i int)
		reason string
		says   []string // in the diagnosis, then its advice
	}{
		{"the pool is full", 2, func(i int) { pr.broadcast(discover(t, i, nil)) }, "pool-exhausted",
			[]string{"the pool 198.18.0.100-198.18.0.100 is full: 1 bound; the first lease ends at", "enlarge the pool or shorten lease-time"}},
		{"no subnet for the relay agent", 3, func(i int) {
			pr.broadcast(discover(t, i, func(p *dhcpv4.Packet) { p.GIAddr = netip.MustParseAddr("198.18.7.1") }))
		}, "no-subnet", []string{"no subnet for giaddr 198.18.7.1", "add a subnet that contains 198.18.7.1"}},
		{"a REQUEST for another server", 4, func(i int) {
			pr.broadcast(discover(t, i, func(p *dhcpv4.Packet) {
				p.Options.SetMessageType(dhcpv4.Request)
				p.Options.SetAddr(dhcpv4.OptServerID, netip.MustParseAddr("198.18.0.9"))
				p.Options.SetAddr(dhcpv4.OptRequestedIP, netip.MustParseAddr("198.18.0.100"))
			}))
		}, "not-for-us", []string{"names server 198.18.0.9, not us", "find and stop the server at 198.18.0.9"}},
		{"over the client's rate limit", 5, func(i int) {
			// Past its burst of 3; the last is sent once the others are
			// noted, so that its drop is the latest decision.
			for range 5 {
				pr.broadcast(discover(t, i, nil))
			}
			err := waitFor(10*time.Second, "5 decisions", func() (bool, error) {
				w, ok := whyOf(t, sock, mac(i))
				return ok && len(w.Clients[0].History) == 5, nil
			})
			if err != nil {
				t.Fatal(err)
			}
			pr.broadcast(discover(t, i, nil))
		}, "rate-limited", []string{"the client (on interface eth0) sent too many requests", "rate-limit"}},
		{"a giaddr that would reflect", 6, func(i int) {
			pr.broadcast(discover(t, i, func(p *dhcpv4.Packet) { p.GIAddr = netip.MustParseAddr(serverAddr) }))
		}, "bad-giaddr", []string{"giaddr 198.18.0.1 is no unicast relay address", "fix the relay agent's address"}},
		{"RFC2131 4.3.2 INIT-REBOOT of a client unknown, not authoritative", 7, func(i int) {
			pr.broadcast(discover(t, i, func(p *dhcpv4.Packet) {
				p.Options.SetMessageType(dhcpv4.Request)
				p.Options.SetAddr(dhcpv4.OptRequestedIP, netip.MustParseAddr("198.18.0.77"))
			}))
		}, "unknown-client", []string{"not authoritative", "authoritative: true"}},
		{"an interface not served", 8, func(i int) { pr2.broadcast(discover(t, i, nil)) }, "foreign-interface",
			[]string{"interface eth1, which the server does not serve", "add eth1 to interfaces"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.send(tt.client)
			c := waitWhy(t, sock, mac(tt.client), tt.reason)
			d := c.Diagnosis
			if d.Verdict != "silence" || !strings.Contains(d.Summary, tt.says[0]) || !strings.Contains(d.Advice, tt.says[1]) {
				t.Errorf("diagnosis %+v, want silence saying %q and %q", d, tt.says[0], tt.says[1])
			}
			last := c.History[len(c.History)-1]
			if last.XID != fmt.Sprintf("%08x", 0xc6120000|tt.client) || last.Verdict != "silence" || last.Detail == "" {
				t.Errorf("last decision %+v", last)
			}
			code, out, stderr := ctlCLI(t, "why", mac(tt.client), "--control", sock)
			if code != 0 || !strings.Contains(out, "diagnosis: silence ("+tt.reason+"): ") || !strings.Contains(out, tt.says[0]) ||
				!strings.Contains(out, "what to do: "+c.Diagnosis.Advice) {
				t.Errorf("leased why %s: exit %d\n%s%s", mac(tt.client), code, out, stderr)
			}
		})
	}

	t.Run("a real dhclient kept out by the full pool", func(t *testing.T) {
		newClient(t, dhclient, hosts[0]).start()
		c := waitWhy(t, sock, hosts[0].mac, "pool-exhausted")
		if c.HWAddr != hosts[0].mac || !strings.Contains(c.Diagnosis.Summary, "is full: 1 bound") {
			t.Errorf("dhclient on %s: %+v", hosts[0].mac, c)
		}
	})

	t.Run("by address: the client that holds it comes first", func(t *testing.T) {
		c := waitWhy(t, sock, "198.18.0.100", "ack")
		if c.Lease == nil || c.Lease.Address != netip.MustParseAddr("198.18.0.100") || c.HWAddr != mac(1) {
			t.Errorf("client of 198.18.0.100: %+v", c)
		}
		if len(c.History) != 2 || c.History[0].Verdict != "OFFER" || c.History[1].Verdict != "ACK" {
			t.Errorf("history %+v, want OFFER then ACK", c.History)
		}
	})
}

// broadcastOnce sends p once from the probe and returns it.
func broadcastOnce(pr *probe, p *dhcpv4.Packet) *dhcpv4.Packet {
	pr.broadcast(p)
	return p
}

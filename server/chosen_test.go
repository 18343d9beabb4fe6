package server

import (
	"testing"
	"time"

	"leased/config"
	"leased/dhcpv4"
)

func TestRequestForAnotherServerOvertakesItsDiscover(t *testing.T) {
	other := optAddr(dhcpv4.OptServerID, "198.18.0.2") // the server the client chose
	tests := []struct {
		name string
		// between the DHCPREQUEST naming the other server and the
		// DHCPDISCOVER: time passed, and the DISCOVER's xid change.
		after  time.Duration
		newXID bool
		want   Reason
	}{
		{"RFC2131 3.1 DISCOVER of the exchange after its REQUEST for another server gets no offer", time.Millisecond, false, ReasonChoseOther},
		{"DISCOVER of the exchange seconds later gets no offer", chosenMemory - time.Second, false, ReasonChoseOther},
		{"DISCOVER of a new exchange gets an offer", time.Millisecond, true, ReasonOffer},
		{"DISCOVER of the exchange once the memory lapsed gets an offer", chosenMemory, false, ReasonOffer},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(c *config.Config) {
				c.Subnets[0].Pools[0].Last = c.Subnets[0].Pools[0].First // a pool of one
			})
			c := newClient(1)
			out, _ := e.handle(c.packet(dhcpv4.Request, other, optAddr(dhcpv4.OptRequestedIP, "198.18.0.150")), direct())
			if out.Reason != ReasonNotForUs {
				t.Fatalf("REQUEST for another server: got %v, want not-for-us (no offer to withdraw)", out.Reason)
			}
			e.now = e.now.Add(tc.after)
			if tc.newXID {
				c.xid++
			}
			out, offer := e.handle(c.packet(dhcpv4.Discover), direct())
			if out.Reason != tc.want {
				t.Fatalf("DISCOVER: got %v, want %v", out.Reason, tc.want)
			}
			if tc.want != ReasonChoseOther {
				return
			}
			if offer != nil {
				t.Fatal("an offer was made")
			}
			// Nothing was set aside: another client gets the one address.
			if got := e.dora(newClient(2), direct()); got != e.cfg.Subnets[0].Pools[0].First {
				t.Errorf("another client got %v", got)
			}
		})
	}
}

func TestChoicesMemoryIsBounded(t *testing.T) {
	var c choices
	now := t0
	for h := uint64(0); h < 3*chosenCap; h++ {
		c.note(h, 7, now)
	}
	if len(c.by) != chosenCap || len(c.ring) != chosenCap {
		t.Fatalf("%d remembered in a ring of %d, want %d", len(c.by), len(c.ring), chosenCap)
	}
	if c.chose(0, 7, now) {
		t.Error("the oldest choice was not forgotten first")
	}
	if !c.chose(3*chosenCap-1, 7, now) {
		t.Error("the newest choice was forgotten")
	}
	// A client noted again keeps one entry.
	c.note(3*chosenCap-1, 8, now)
	if len(c.by) != chosenCap || !c.chose(3*chosenCap-1, 8, now) {
		t.Errorf("noting a client again: %d remembered", len(c.by))
	}
}

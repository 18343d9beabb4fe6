package server

import (
	"context"
	"net"
	"testing"
	"time"

	"leased/config"
	"leased/dhcpv4"
	"leased/lease"
)

func TestPingCheckProbe(t *testing.T) {
	const wait = 300 * time.Millisecond
	tests := []struct {
		name    string
		enabled bool
		setup   func(e *env, c *client)
		want    time.Duration
	}{
		{"new address offered for the first time -> probe", true, nil, wait},
		{"ping-check off -> no probe", false, nil, 0},
		{"client's own outstanding offer -> no probe", true, func(e *env, c *client) { e.offer(c, direct()) }, 0},
		{"client's own bound lease -> no probe", true, func(e *env, c *client) { e.dora(c, direct()) }, 0},
		{"client's lease ended within a lease time -> no probe", true, func(e *env, c *client) {
			e.dora(c, direct())
			e.now = e.now.Add(time.Hour + time.Minute)
			e.eng.Sweep()
		}, 0},
		{"client's lease ended long ago -> probe", true, func(e *env, c *client) {
			e.dora(c, direct())
			e.now = e.now.Add(3 * time.Hour)
			e.eng.Sweep()
		}, wait},
		{"reserved address -> no probe", true, func(_ *env, c *client) { c.mac = net.HardwareAddr{2, 0, 0, 0, 0, 0x50} }, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(c *config.Config) {
				if tc.enabled {
					c.Subnets[0].PingCheck = wait
				}
			})
			c := newClient(1)
			if tc.setup != nil {
				tc.setup(e, c)
			}
			out, _ := e.handle(c.packet(dhcpv4.Discover), direct())
			if out.Reason != ReasonOffer {
				t.Fatalf("got %v, want offer", out.Reason)
			}
			if out.Probe != tc.want {
				t.Fatalf("Probe = %v, want %v", out.Probe, tc.want)
			}
		})
	}
}

func TestMarkInUseSetsTheAddressAside(t *testing.T) {
	e := newEnv(t, func(c *config.Config) { c.Subnets[0].PingCheck = 100 * time.Millisecond })
	c := newClient(1)
	out, first := e.handle(c.packet(dhcpv4.Discover), direct())
	if out.Probe == 0 {
		t.Fatal("no probe asked for a new address")
	}
	held, err := e.eng.MarkInUse(context.Background(), first.YIAddr)
	if !held || err != nil {
		t.Fatalf("MarkInUse = %v, %v; want true, nil", held, err)
	}
	if l, ok := e.stored(first.YIAddr); !ok || l.State != lease.Declined {
		t.Errorf("address in use stored as %+v, want declined", l)
	}
	out, second := e.handle(c.packet(dhcpv4.Discover), direct())
	if out.Reason != ReasonOffer || second.YIAddr == first.YIAddr {
		t.Fatalf("after the address answered: %v %v, want an offer of another address", out.Reason, second.YIAddr)
	}
	if out.Probe == 0 {
		t.Error("the next candidate is not probed")
	}
	if held, _ := e.eng.MarkInUse(context.Background(), first.YIAddr); held {
		t.Error("MarkInUse of an address no offer holds reported true")
	}
	// After the probation, the address is offered again.
	e.now = e.now.Add(11 * time.Minute)
	e.eng.Sweep()
	other := newClient(9)
	other.opts = []option{optAddr(dhcpv4.OptRequestedIP, first.YIAddr.String())}
	if a := e.offer(other, direct()); a != first.YIAddr {
		t.Errorf("after probation offered %v, want %v", a, first.YIAddr)
	}
}

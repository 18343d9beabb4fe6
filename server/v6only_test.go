package server

import (
	"testing"
	"time"

	"leased/config"
	"leased/dhcpv4"
)

func TestIPv6OnlyPreferred(t *testing.T) {
	const wait = 1800 * time.Second
	withPRL := []byte{1, 3, 6, 108, 51}
	tests := []struct {
		name    string
		enabled bool
		prl     []byte
		typ     dhcpv4.MessageType
		want    Reason
		v6only  bool
	}{
		{"RFC8925 3.3 DISCOVER listing 108 -> OFFER with 108 and yiaddr 0.0.0.0", true, withPRL, dhcpv4.Discover, ReasonIPv6Only, true},
		{"RFC8925 3.3 REQUEST listing 108 -> ACK with 108 and yiaddr 0.0.0.0", true, withPRL, dhcpv4.Request, ReasonIPv6Only, true},
		{"RFC8925 3.3 client not listing 108 gets an address", true, []byte{1, 3, 6, 51}, dhcpv4.Discover, ReasonOffer, false},
		{"RFC8925 3.3 subnet without ipv6-only-preferred: address, no option 108", false, withPRL, dhcpv4.Discover, ReasonOffer, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(c *config.Config) {
				if tc.enabled {
					c.Subnets[0].IPv6OnlyWait = wait
				}
			})
			c := newClient(1)
			c.prl = tc.prl
			var p *dhcpv4.Packet
			if tc.typ == dhcpv4.Request {
				p = c.packet(dhcpv4.Request, optAddr(dhcpv4.OptRequestedIP, "198.18.0.12"))
			} else {
				p = c.packet(dhcpv4.Discover)
			}
			out, reply := e.handle(p, direct())
			if out.Reason != tc.want || reply == nil {
				t.Fatalf("got %v, want %v", out.Reason, tc.want)
			}
			v, has := reply.Options.Uint32(config.OptIPv6OnlyPreferred)
			if !tc.v6only {
				if has {
					t.Errorf("option 108 sent to %s", tc.name)
				}
				if !reply.YIAddr.IsValid() || reply.YIAddr.IsUnspecified() {
					t.Errorf("no address offered")
				}
				return
			}
			if !has || v != uint32(wait/time.Second) {
				t.Errorf("option 108 = %d (present %v), want %d", v, has, uint32(wait/time.Second))
			}
			if !reply.YIAddr.IsUnspecified() {
				t.Errorf("yiaddr %v, want 0.0.0.0", reply.YIAddr)
			}
			if reply.Options.Has(dhcpv4.OptLeaseTime) {
				t.Errorf("lease time sent with no address")
			}
			wantType := dhcpv4.Offer
			if tc.typ == dhcpv4.Request {
				wantType = dhcpv4.Ack
			}
			if reply.MessageType() != wantType {
				t.Errorf("reply %v, want %v", reply.MessageType(), wantType)
			}
			if r, _ := reply.Options.Addr(dhcpv4.OptRouter); r != mustAddr("198.18.0.1") {
				t.Errorf("requested options missing: router %v", r)
			}
			// Nothing was bound or held: the store is empty, and the
			// next client gets the pool's first address.
			if n := e.store.Len(); n != 0 {
				t.Errorf("store holds %d leases, want none", n)
			}
			if a := e.offer(newClient(2), direct()); a != mustAddr("198.18.0.10") {
				t.Errorf("next client offered %v, want the first address 198.18.0.10", a)
			}
		})
	}
}

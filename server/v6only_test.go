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

// TestIPv6OnlyPreferredByClass checks a class's ipv6-only-preferred: a
// wait of its own over the subnet's (or where the subnet has none), off
// for the class, the later class winning, and a reservation's class
// counting (RFC 8925 §3.3, the wait per client class).
func TestIPv6OnlyPreferredByClass(t *testing.T) {
	e := yamlEnv(t,
		"client-classes:",
		"  - {name: nat64, match: {vendor-class: nat64}, ipv6-only-preferred: 1h}",
		"  - {name: legacy, match: {vendor-class-prefix: legacy}, ipv6-only-preferred: off}",
		"  - {name: short, match: {vendor-class: legacy-short}, ipv6-only-preferred: 10m}",
		"  - {name: tagged, ipv6-only-preferred: off}",
		"subnets:",
		"  - prefix: 198.18.0.0/24",
		"    pools: [198.18.0.10-198.18.0.19]",
		"    ipv6-only-preferred: 30m",
		"    reservations: [{hw-address: 02:00:00:00:00:09, address: 198.18.0.50, classes: [tagged]}]",
		"  - {prefix: 198.19.0.0/24, pools: [198.19.0.10-198.19.0.19]}",
	)
	tests := []struct {
		name   string
		client byte
		vendor string
		sel    string // option 118, to be served from the subnet without a wait
		want   time.Duration
	}{
		{"RFC8925 3.3 no class: the subnet's wait", 1, "", "", 30 * time.Minute},
		{"RFC8925 3.3 a class's wait wins over the subnet's", 2, "nat64", "", time.Hour},
		{"RFC8925 3.3 a class turns it off: an address", 3, "legacy", "", 0},
		{"RFC8925 3.3 of two classes the later wins", 4, "legacy-short", "", 10 * time.Minute},
		{"RFC8925 3.3 a reservation's class turns it off", 9, "", "", 0},
		{"RFC8925 3.3 a class's wait where the subnet has none", 5, "nat64", "198.19.0.0", time.Hour},
		{"RFC8925 3.3 no class and no subnet wait: an address", 6, "", "198.19.0.0", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(tc.client)
			c.prl = []byte{1, 3, 108}
			if tc.vendor != "" {
				c.opts = append(c.opts, option{dhcpv4.OptVendorClass, []byte(tc.vendor)})
			}
			if tc.sel != "" {
				c.opts = append(c.opts, subnetSel(tc.sel))
			}
			for _, typ := range []dhcpv4.MessageType{dhcpv4.Discover, dhcpv4.Request} {
				var extra []option
				if typ == dhcpv4.Request {
					extra = []option{optAddr(dhcpv4.OptRequestedIP, "198.18.0.12")}
				}
				out, reply := e.handle(c.packet(typ, extra...), direct())
				v, has := uint32(0), false
				if reply != nil {
					v, has = reply.Options.Uint32(config.OptIPv6OnlyPreferred)
				}
				if tc.want == 0 {
					if out.Reason == ReasonIPv6Only || has {
						t.Errorf("%v: got %v with option 108 %d, want an address", typ, out.Reason, v)
					}
					continue
				}
				if out.Reason != ReasonIPv6Only || v != uint32(tc.want/time.Second) {
					t.Errorf("%v: got %v with option 108 %d (%v), want %v", typ, out.Reason, v, has, tc.want)
				}
			}
		})
	}
}

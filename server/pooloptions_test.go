package server

import (
	"bytes"
	"testing"

	"leased/dhcpv4"
)

// TestPoolOptionsPrecedence checks a pool's options: sent in replies that
// give an address of the pool, over the subnet's and under a class's and
// a reservation's (global < shared network < subnet < pool < class <
// reservation).
func TestPoolOptionsPrecedence(t *testing.T) {
	e := yamlEnv(t,
		"client-classes:",
		"  - {name: vip, match: {vendor-class: vip}, options: {dns-servers: [198.18.0.8]}}",
		"options: {domain-search: [global.example]}",
		"subnets:",
		"  - prefix: 198.18.0.0/24",
		"    options: {domain-name: subnet.example, dns-servers: [198.18.0.53]}",
		"    reservations-in-pool: true",
		"    pools:",
		"      - range: 198.18.0.10-198.18.0.14",
		"        options: {domain-name: pool.example, dns-servers: [198.18.0.9], domain-search: [pool.example]}",
		"      - 198.18.0.15-198.18.0.19",
		"    reservations: [{hw-address: 02:00:00:00:00:09, address: 198.18.0.12, options: {domain-name: reserved.example}}]",
	)
	prl := []byte{byte(dhcpv4.OptDomainName), byte(dhcpv4.OptDNSServers), byte(dhcpv4.OptDomainSearch)}
	tests := []struct {
		name         string
		client       byte
		vendor       string
		want         string // requested address, and the one expected
		noPRL        bool
		domain, dns  string
		searchInPool bool
	}{
		{"pool options win over the subnet's and the global ones", 1, "", "198.18.0.11", false, "pool.example", "198.18.0.9", true},
		{"an address of a pool without options gets the subnet's", 2, "", "198.18.0.16", false, "subnet.example", "198.18.0.53", false},
		{"a class's options win over the pool's", 3, "vip", "198.18.0.13", false, "pool.example", "198.18.0.8", true},
		{"a reservation's options win over the pool's", 9, "", "198.18.0.12", false, "reserved.example", "198.18.0.9", true},
		{"without a parameter request list the pool's options are sent", 4, "", "198.18.0.14", true, "pool.example", "198.18.0.9", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(tc.client)
			c.prl = prl
			if tc.noPRL {
				c.prl = nil
			}
			if tc.vendor != "" {
				c.opts = append(c.opts, option{dhcpv4.OptVendorClass, []byte(tc.vendor)})
			}
			want := mustAddr(tc.want)
			out, offer := e.handle(c.packet(dhcpv4.Discover, option{dhcpv4.OptRequestedIP, want.AsSlice()}), direct())
			if out.Reason != ReasonOffer || offer.YIAddr != want {
				t.Fatalf("DISCOVER: got %v %v, want an offer of %v", out.Reason, offer, want)
			}
			sid, _ := offer.Options.Addr(dhcpv4.OptServerID)
			_, ack := e.handle(c.packet(dhcpv4.Request, option{dhcpv4.OptServerID, sid.AsSlice()}, option{dhcpv4.OptRequestedIP, want.AsSlice()}), direct())
			if ack == nil || ack.MessageType() != dhcpv4.Ack {
				t.Fatalf("REQUEST: no ACK")
			}
			for _, r := range []*dhcpv4.Packet{offer, ack} {
				if v, _ := r.Options.Get(dhcpv4.OptDomainName); string(v) != tc.domain {
					t.Errorf("%v: domain-name %q, want %q", r.MessageType(), v, tc.domain)
				}
				if v, _ := r.Options.Get(dhcpv4.OptDNSServers); !bytes.Equal(v, addrs(tc.dns)) {
					t.Errorf("%v: dns-servers %x, want %s", r.MessageType(), v, tc.dns)
				}
				v, _ := r.Options.Get(dhcpv4.OptDomainSearch)
				if inPool := bytes.Contains(v, []byte("pool")); inPool != tc.searchInPool || len(v) == 0 {
					t.Errorf("%v: domain-search %q, want the pool's: %v", r.MessageType(), v, tc.searchInPool)
				}
			}
		})
	}
}

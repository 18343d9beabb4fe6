package server

import (
	"bytes"
	"testing"

	"leased/config"
	"leased/dhcpv4"
	"leased/lease"
)

// TestUniFiExampleOption43 serves from examples/unifi.yaml: a client
// whose vendor class is "ubnt" gets option 43 with the controller's
// address in sub-option 1 (RFC 2132 §8.4, encapsulated vendor
// information); any other client does not.
func TestUniFiExampleOption43(t *testing.T) {
	cfg, err := config.Load("../examples/unifi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, now: t0, store: &lease.Memory{}, cfg: cfg}
	e.restart()
	want := dhcpv4.AppendSubOption(nil, 1, addrs("198.18.5.2"))
	for _, tc := range []struct {
		name   string
		vendor string
		want   bool
	}{
		{"RFC2132 8.4 vendor class ubnt gets option 43", "ubnt", true},
		{"RFC2132 8.4 another vendor class gets no option 43", "MSFT 5.0", false},
		{"RFC2132 8.4 no vendor class gets no option 43", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(byte(len(tc.vendor) + 1))
			c.prl = []byte{1, 3, 6, byte(dhcpv4.OptVendorSpecific)}
			if tc.vendor != "" {
				c.opts = []option{{dhcpv4.OptVendorClass, []byte(tc.vendor)}}
			}
			out, offer := e.handle(c.packet(dhcpv4.Discover), direct())
			if out.Reason != ReasonOffer {
				t.Fatalf("got %v, want an offer", out.Reason)
			}
			v, ok := offer.Options.Get(dhcpv4.OptVendorSpecific)
			if ok != tc.want || ok && !bytes.Equal(v, want) {
				t.Errorf("option 43 = %x (%v), want it: %v (%x)", v, ok, tc.want, want)
			}
		})
	}
}

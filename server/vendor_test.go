package server

import (
	"bytes"
	"testing"

	"leased/config"
	"leased/dhcpv4"
)

// TestLongVendorOptionReachesTheClientWhole: option 43 built from
// sub-options may pass 255 bytes; the reply splits it (RFC 3396) and the
// client, joining the parts, reads the sub-options as configured.
func TestLongVendorOptionReachesTheClientWhole(t *testing.T) {
	var v43, v125 []byte
	for code := byte(1); code <= 3; code++ {
		v43 = append(v43, code, 120)
		v43 = append(v43, bytes.Repeat([]byte{code}, 120)...)
	}
	for ent := byte(1); ent <= 2; ent++ {
		v125 = append(v125, 0, 0, 0, ent, 200, 1, 198)
		v125 = append(v125, bytes.Repeat([]byte{ent}, 198)...)
	}
	e := newEnv(t, func(c *config.Config) {
		c.Subnets[0].Options = config.MergeOptions(c.Subnets[0].Options, []config.Option{
			{Code: dhcpv4.OptVendorSpecific, Value: v43},
			{Code: config.OptVIVendorSpecific, Value: v125},
		})
	})
	c := newClient(1)
	c.prl = []byte{1, 3, 43, 125}
	c.opts = []option{{dhcpv4.OptMaxMessageSize, []byte{0x05, 0xdc}}} // 1500
	out, offer := e.handle(c.packet(dhcpv4.Discover), direct())
	if out.Reason != ReasonOffer {
		t.Fatalf("got %v", out.Reason)
	}
	for _, w := range []struct {
		code dhcpv4.OptionCode
		want []byte
	}{{dhcpv4.OptVendorSpecific, v43}, {config.OptVIVendorSpecific, v125}} {
		if got, _ := offer.Options.Get(w.code); !bytes.Equal(got, w.want) {
			t.Errorf("RFC3396 option %d of %d bytes arrived as %d bytes", w.code, len(w.want), len(got))
		}
	}
}

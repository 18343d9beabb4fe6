package server

import (
	"bytes"
	"net/netip"
	"testing"
	"time"

	"leased/config"
	"leased/dhcpv4"
)

func subnetSel(a string) option { return optAddr(config.OptSubnetSelection, a) }

// TestRFC3011SubnetSelection checks that option 118 chooses the subnet,
// over the arrival interface and giaddr, under RFC 3527's link selection,
// and that every reply carries an identical copy of it (RFC 3011 §3).
func TestRFC3011SubnetSelection(t *testing.T) {
	second := netip.MustParsePrefix("198.19.0.0/24")
	first := netip.MustParsePrefix("198.18.0.0/24")
	tests := []struct {
		name      string
		sel       string // option 118, if any
		link      string // RFC 3527 link selection, if any
		giaddr    string
		in        Arrival
		want      netip.Prefix
		wantDrop  bool
		wantEchoe bool
	}{
		{"RFC3011 3 option 118 wins over the arrival interface", "198.19.0.7", "", "", direct(), second, false, true},
		{"RFC3011 3 option 118 wins over giaddr", "198.19.0.0", "", "198.18.0.254", relayed(), second, false, true},
		{"RFC3527 3 link selection wins over option 118", "198.18.0.0", "198.19.0.0", "198.18.0.254", relayed(), second, false, true},
		{"RFC3011 3 option 118 for no configured subnet is not served", "203.0.113.0", "", "", direct(), netip.Prefix{}, true, false},
		{"without option 118 the arrival interface decides", "", "", "", direct(), first, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			c := newClient(1)
			var extra []option
			if tt.sel != "" {
				extra = append(extra, subnetSel(tt.sel))
			}
			if tt.link != "" {
				extra = append(extra, option{dhcpv4.OptRelayAgentInfo, dhcpv4.AppendSubOption(nil, dhcpv4.RelayLinkSelection, addrs(tt.link))})
			}
			p := c.packet(dhcpv4.Discover, extra...)
			if tt.giaddr != "" {
				p.GIAddr = mustAddr(tt.giaddr)
			}
			out, offer := e.handle(p, tt.in)
			if tt.wantDrop {
				if out.Reason != ReasonNoSubnet || offer != nil {
					t.Fatalf("got %v %v, want no-subnet and no reply", out.Reason, offer)
				}
				return
			}
			if offer == nil || !tt.want.Contains(offer.YIAddr) {
				t.Fatalf("got %v, want an address in %v", offer, tt.want)
			}
			v, ok := offer.Options.Get(config.OptSubnetSelection)
			if ok != tt.wantEchoe || ok && !bytes.Equal(v, addrs(tt.sel)) {
				t.Errorf("option 118 echoed as %x (%v), want %q", v, ok, tt.sel)
			}
		})
	}
}

// TestRFC3011SubnetSelectionRenewal checks that a client served from the
// subnet its option 118 named keeps it through REQUEST, RENEWING and
// REBINDING, and that a NAK echoes the option too.
func TestRFC3011SubnetSelectionRenewal(t *testing.T) {
	e := newEnv(t, nil)
	c := newClient(1)
	c.opts = []option{subnetSel("198.19.0.0")}
	a := e.dora(c, direct())
	if !netip.MustParsePrefix("198.19.0.0/24").Contains(a) {
		t.Fatalf("bound %v, want the selected subnet", a)
	}

	e.now = e.now.Add(5 * time.Minute)
	p := c.packet(dhcpv4.Request)
	p.CIAddr = a
	if out, ack := e.handle(p, unicastTo(a)); out.Reason != ReasonAck || ack.YIAddr != a {
		t.Fatalf("RFC3011 3 RENEWING: got %v", out.Reason)
	}
	// REBINDING, broadcast on an interface of another subnet: option 118
	// still names the client's subnet, so this is no wrong network.
	out, ack := e.handle(p, direct())
	if out.Reason != ReasonAck || ack.YIAddr != a {
		t.Fatalf("RFC3011 3 REBINDING: got %v, want ack", out.Reason)
	}
	if v, _ := ack.Options.Get(config.OptSubnetSelection); !bytes.Equal(v, addrs("198.19.0.0")) {
		t.Errorf("RFC3011 3 ACK echoes option 118 as %x", v)
	}

	// INIT-REBOOT for an address outside the selected subnet: NAK, with
	// the option echoed.
	q := c.packet(dhcpv4.Request, option{dhcpv4.OptRequestedIP, addrs("198.18.0.10")})
	out, nak := e.handle(q, direct())
	if out.Reason != ReasonNakNetwork || nak.MessageType() != dhcpv4.Nak {
		t.Fatalf("RFC2131 4.3.2 wrong network under option 118: got %v", out.Reason)
	}
	if v, _ := nak.Options.Get(config.OptSubnetSelection); !bytes.Equal(v, addrs("198.19.0.0")) {
		t.Errorf("RFC3011 3 NAK echoes option 118 as %x", v)
	}
}

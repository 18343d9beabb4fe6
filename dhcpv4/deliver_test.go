package dhcpv4

import (
	"net/netip"
	"testing"
)

func TestReplyDelivery(t *testing.T) {
	var (
		none   = netip.Addr{}
		zero   = netip.IPv4Unspecified()
		relay  = netip.MustParseAddr("198.19.0.1")
		ciaddr = netip.MustParseAddr("198.18.0.5")
		yiaddr = netip.MustParseAddr("198.18.0.10")
		all    = netip.MustParseAddr("255.255.255.255")
	)
	for _, tc := range []struct {
		name                   string
		giaddr, ciaddr, yiaddr netip.Addr
		broadcast              bool
		t                      MessageType
		want                   Delivery
		to                     netip.Addr
	}{
		{"RFC2131 4.1 giaddr set -> relay", relay, zero, yiaddr, false, Offer, ToRelay, relay},
		{"RFC2131 4.1 NAK via relay -> relay", relay, zero, zero, true, Nak, ToRelay, relay},
		{"RFC2131 4.1 NAK direct -> broadcast", zero, ciaddr, zero, false, Nak, ToBroadcast, all},
		{"RFC2131 4.1 ciaddr set -> unicast ciaddr", zero, ciaddr, yiaddr, true, Ack, ToClientAddr, ciaddr},
		{"RFC2131 4.1 broadcast bit -> broadcast", zero, zero, yiaddr, true, Offer, ToBroadcast, all},
		{"RFC2131 4.1 no yiaddr -> broadcast", zero, zero, zero, false, Ack, ToBroadcast, all},
		{"RFC2131 4.1 otherwise -> yiaddr at chaddr", zero, zero, yiaddr, false, Offer, ToHardware, yiaddr},
		{"unset addresses are the zero Addr too", none, none, yiaddr, false, Ack, ToHardware, yiaddr},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, to := ReplyDelivery(tc.giaddr, tc.ciaddr, tc.yiaddr, tc.broadcast, tc.t)
			if d != tc.want || to != tc.to {
				t.Errorf("got %v to %v, want %v to %v", d, to, tc.want, tc.to)
			}
		})
	}
}

func TestDeliveryString(t *testing.T) {
	for d, want := range map[Delivery]string{
		ToRelay: "relay", ToClientAddr: "unicast-ciaddr", ToBroadcast: "broadcast",
		ToHardware: "unicast-hardware", 0: "delivery(0)", 9: "delivery(9)",
	} {
		if got := d.String(); got != want {
			t.Errorf("Delivery(%d).String() = %q, want %q", d, got, want)
		}
	}
}

package dhcpv4

import (
	"fmt"
	"net/netip"
)

// Delivery says how a reply reaches the client: the destination rule of
// RFC 2131 §4.1, which servers and relay agents both follow.
type Delivery uint8

// Deliveries.
const (
	// ToRelay: unicast to the relay agent (giaddr), at the server port.
	ToRelay Delivery = iota + 1
	// ToClientAddr: unicast to the client's configured address (ciaddr),
	// at the client port.
	ToClientAddr
	// ToBroadcast: to the limited broadcast address 255.255.255.255, at
	// the client port, out of the client's interface.
	ToBroadcast
	// ToHardware: unicast to yiaddr, at the client port, in a frame
	// addressed to the client's hardware address (chaddr), which the
	// sender builds itself: the client has no address yet, and cannot
	// answer ARP for yiaddr. Where it cannot, the sender broadcasts.
	ToHardware
)

var deliveryNames = [...]string{
	ToRelay:      "relay",
	ToClientAddr: "unicast-ciaddr",
	ToBroadcast:  "broadcast",
	ToHardware:   "unicast-hardware",
}

// String returns "relay", "unicast-ciaddr", "broadcast" or
// "unicast-hardware".
func (d Delivery) String() string {
	if int(d) < len(deliveryNames) && deliveryNames[d] != "" {
		return deliveryNames[d]
	}
	return fmt.Sprintf("delivery(%d)", d)
}

// ReplyDelivery returns how a reply reaches the client and the address it
// goes to (RFC 2131 §4.1), from the fields that decide it: the reply's
// giaddr, ciaddr and yiaddr, its broadcast flag and its message type.
//
//   - giaddr set: to the relay agent at giaddr (ToRelay);
//   - else a DHCPNAK: broadcast (ToBroadcast);
//   - else ciaddr set: unicast to ciaddr (ToClientAddr);
//   - else the broadcast flag set, or no yiaddr: broadcast (ToBroadcast);
//   - else unicast to yiaddr at the client's hardware address
//     (ToHardware).
//
// A broadcast goes to 255.255.255.255. A relay agent delivering a reply on
// the client's network passes an unset giaddr: the reply has reached the
// relay. ReplyDelivery does not choose the port, which is the server port
// (67) for a relay agent and the client port (68) otherwise.
func ReplyDelivery(giaddr, ciaddr, yiaddr netip.Addr, broadcast bool, t MessageType) (Delivery, netip.Addr) {
	set := func(a netip.Addr) bool { return a.IsValid() && !a.IsUnspecified() }
	all := netip.AddrFrom4([4]byte{255, 255, 255, 255})
	switch {
	case set(giaddr):
		return ToRelay, giaddr
	case t == Nak:
		return ToBroadcast, all
	case set(ciaddr):
		return ToClientAddr, ciaddr
	case broadcast || !set(yiaddr):
		return ToBroadcast, all
	default:
		return ToHardware, yiaddr
	}
}

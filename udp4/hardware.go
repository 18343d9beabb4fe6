package udp4

import "net/netip"

// Hardware names a host on a link by its hardware address: where a frame
// built by hand goes. For a DHCP client, these are its message's htype,
// chaddr and the interface it was heard on.
type Hardware struct {
	// IfIndex is the index of the interface the host is on.
	IfIndex int
	// Type is the hardware type (ARP, RFC 826; a DHCP message's htype):
	// 1 for Ethernet.
	Type uint8
	// Addr is the hardware address.
	Addr []byte
}

// ethernet is the hardware type of Ethernet (RFC 1700, ARP hardware types).
const ethernet = 1

// SendToHardware sends payload as a UDP datagram from src to dst in a
// frame addressed to h, built by hand in frame: how a DHCP reply reaches a
// client that has no address yet and did not ask for broadcast (RFC 2131
// §4.1), since the kernel cannot ARP for dst. It returns frame, grown as
// needed, for reuse.
//
// Where that is impossible (l is nil, for want of a packet socket; h is not
// Ethernet or names no interface) or the frame fails to send, it returns
// broadcast, the destination to send payload to instead, out of h's
// interface: the limited broadcast address 255.255.255.255 at dst's port;
// and err, when a frame failed to send, why (for a log). When the frame
// left, broadcast is the zero AddrPort.
func (l *LinkSender) SendToHardware(frame []byte, h Hardware, src, dst netip.AddrPort, payload []byte) (_ []byte, broadcast netip.AddrPort, err error) {
	if l != nil && h.Type == ethernet && len(h.Addr) == 6 && h.IfIndex > 0 {
		frame = AppendUDP4(frame[:0], src, dst, payload)
		if err = l.Send(h.IfIndex, h.Addr, frame); err == nil {
			return frame, netip.AddrPort{}, nil
		}
	}
	return frame, netip.AddrPortFrom(netip.AddrFrom4([4]byte{255, 255, 255, 255}), dst.Port()), err
}

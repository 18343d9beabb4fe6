package udp4

import "net/netip"

// Datagram is one datagram a Reader read: its bytes, which alias the
// reader's buffer and are valid until its next Read, where it came from,
// and where it arrived.
type Datagram struct {
	Data []byte
	// Src is the sender's address and port.
	Src netip.AddrPort
	// IfIndex is the index of the interface it arrived on, and Dst the
	// destination address of its IPv4 header (IP_PKTINFO); zero when the
	// system did not report them.
	IfIndex int
	Dst     netip.Addr
}

package netio

import (
	"fmt"
	"net/netip"

	"golang.org/x/sys/unix"
)

// rawSender sends IPv4 datagrams as link-layer unicast on a packet socket.
// The socket is opened with protocol 0, so it receives nothing.
type rawSender struct {
	fd int
}

func openRaw() (*rawSender, error) {
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("netio: packet socket for unicast to clients without an address: %w", err)
	}
	return &rawSender{fd: fd}, nil
}

// send sends datagram (an IPv4 packet) on interface ifindex to the Ethernet
// address mac.
func (r *rawSender) send(ifindex int, mac []byte, datagram []byte) error {
	sa := unix.SockaddrLinklayer{
		Protocol: htons(unix.ETH_P_IP),
		Ifindex:  ifindex,
		Halen:    uint8(len(mac)),
	}
	copy(sa.Addr[:], mac)
	return unix.Sendto(r.fd, datagram, 0, &sa)
}

func (r *rawSender) close() error { return unix.Close(r.fd) }

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// ifaceAddr4 returns the first IPv4 address in prefixes, or the zero Addr.
func ifaceAddr4(prefixes []netip.Prefix) netip.Addr {
	for _, p := range prefixes {
		if p.Addr().Is4() {
			return p.Addr()
		}
	}
	return netip.Addr{}
}

package udp4

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// Listen opens the UDP socket a DHCP server or relay agent listens on:
// bound to addr with SO_REUSEADDR and SO_BROADCAST, and with IP_PKTINFO
// enabled, so that a Reader reports the arrival interface and the
// destination address of every datagram.
func Listen(addr netip.AddrPort) (*net.UDPConn, error) {
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			if serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); serr != nil {
				return
			}
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_BROADCAST, 1)
		})
		if err != nil {
			return err
		}
		return serr
	}}
	pconn, err := lc.ListenPacket(context.Background(), "udp4", addr.String())
	if err != nil {
		err = fmt.Errorf("listen on %v: %w", addr, err)
		if addr.Port() < 1024 {
			err = NeedsPrivilege(err, NeedBindPort)
		}
		return nil, err
	}
	conn := pconn.(*net.UDPConn)
	if err := setsockopt(conn, unix.IPPROTO_IP, unix.IP_PKTINFO, 1); err != nil {
		conn.Close()
		return nil, fmt.Errorf("IP_PKTINFO on %v: %w", addr, err)
	}
	return conn, nil
}

// setsockopt sets an integer socket option of conn.
func setsockopt(conn *net.UDPConn, level, opt, v int) error {
	rc, err := conn.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) { serr = unix.SetsockoptInt(int(fd), level, opt, v) }); err != nil {
		return err
	}
	return serr
}

// SetReceiveBuffer asks for a socket receive buffer of n bytes: beyond the
// system's limit with SO_RCVBUFFORCE when privileged, else up to it.
func SetReceiveBuffer(conn *net.UDPConn, n int) error {
	if setsockopt(conn, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, n) == nil {
		return nil
	}
	return setsockopt(conn, unix.SOL_SOCKET, unix.SO_RCVBUF, n)
}

// SetSendBuffer asks for a socket send buffer of n bytes: beyond the
// system's limit with SO_SNDBUFFORCE when privileged, else up to it.
func SetSendBuffer(conn *net.UDPConn, n int) error {
	if setsockopt(conn, unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, n) == nil {
		return nil
	}
	return setsockopt(conn, unix.SOL_SOCKET, unix.SO_SNDBUF, n)
}

// LinkSender sends IPv4 datagrams as link-layer unicast frames on a packet
// socket (AF_PACKET), for replies to clients that have no address yet: the
// kernel cannot ARP for an address nobody holds. The socket is opened with
// protocol 0, so it receives nothing. It needs CAP_NET_RAW. It is safe for
// concurrent use.
type LinkSender struct {
	fd int
}

// OpenLinkSender opens the packet socket.
func OpenLinkSender() (*LinkSender, error) {
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, NeedsPrivilege(fmt.Errorf("packet socket for unicast to clients without an address: %w", os.NewSyscallError("socket", err)), NeedRaw)
	}
	return &LinkSender{fd: fd}, nil
}

// Send sends datagram, an IPv4 packet such as AppendUDP4 builds, out of
// interface ifIndex to the link-layer address hw.
func (l *LinkSender) Send(ifIndex int, hw []byte, datagram []byte) error {
	sa := unix.SockaddrLinklayer{
		Protocol: htons(unix.ETH_P_IP),
		Ifindex:  ifIndex,
		Halen:    uint8(min(len(hw), 8)),
	}
	copy(sa.Addr[:], hw)
	return unix.Sendto(l.fd, datagram, 0, &sa)
}

// Close closes the socket.
func (l *LinkSender) Close() error { return unix.Close(l.fd) }

func htons(v uint16) uint16 { return v<<8 | v>>8 }

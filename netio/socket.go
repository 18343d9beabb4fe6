package netio

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"syscall"

	"golang.org/x/net/ipv4"
	"golang.org/x/sys/unix"
)

// ListenUDP4 opens the UDP socket a DHCP server or relay listens on: bound
// to addr with SO_REUSEADDR and SO_BROADCAST, and with the control messages
// in flags (ipv4.FlagInterface for the arrival interface, ipv4.FlagDst for
// the destination address; IP_PKTINFO) reported with every datagram read
// through the returned PacketConn. Both values share one socket: close
// the UDPConn.
func ListenUDP4(addr netip.AddrPort, flags ipv4.ControlFlags) (*net.UDPConn, *ipv4.PacketConn, error) {
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
		return nil, nil, fmt.Errorf("listen on %v: %w", addr, err)
	}
	conn := pconn.(*net.UDPConn)
	pc := ipv4.NewPacketConn(conn)
	if err := pc.SetControlMessage(flags, true); err != nil {
		conn.Close()
		return nil, nil, fmt.Errorf("IP_PKTINFO on %v: %w", addr, err)
	}
	return conn, pc, nil
}

// setReceiveBuffer asks for a receive buffer of n bytes: beyond the
// system's limit with SO_RCVBUFFORCE when privileged, else up to it.
func setReceiveBuffer(conn *net.UDPConn, n int) error {
	rc, err := conn.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	err = rc.Control(func(fd uintptr) {
		if unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, n) == nil {
			return
		}
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, n)
	})
	if err != nil {
		return err
	}
	return serr
}

// LinkSender sends IPv4 datagrams as link-layer unicast frames on a packet
// socket (AF_PACKET), for replies to clients that have no address yet: the
// kernel cannot ARP for an address nobody holds. The socket is opened with
// protocol 0, so it receives nothing. It needs CAP_NET_RAW.
type LinkSender struct {
	fd int
}

// OpenLinkSender opens the packet socket.
func OpenLinkSender() (*LinkSender, error) {
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("packet socket for unicast to clients without an address: %w", err)
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

// WriteOnInterface sends b to a broadcast destination out of interface
// ifIndex (IP_PKTINFO), not wherever the routing table points. oob is
// scratch space for the control message, returned for reuse.
func WriteOnInterface(conn *net.UDPConn, b []byte, ifIndex int, to netip.AddrPort, oob []byte) ([]byte, error) {
	oob = oob[:0]
	if ifIndex > 0 {
		cm := ipv4.ControlMessage{IfIndex: ifIndex}
		oob = append(oob, cm.Marshal()...)
	}
	_, _, err := conn.WriteMsgUDPAddrPort(b, oob, to)
	return oob, err
}

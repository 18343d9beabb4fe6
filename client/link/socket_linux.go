package link

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"time"

	"github.com/mdlayher/packet"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"leased/dhcpv4"
	"leased/udp4"
)

// sizeofTpacketAuxdata is the size of struct tpacket_auxdata, the
// PACKET_AUXDATA control message: three 32-bit and four 16-bit fields.
const sizeofTpacketAuxdata = 20

// ethernetBroadcast is the Ethernet broadcast address.
var ethernetBroadcast = net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

// Socket sends and receives DHCP messages on one interface (see the package
// comment). Send may be called from one goroutine while Receive runs in
// another; neither method is safe to call from two goroutines at once.
type Socket struct {
	ifi  *net.Interface
	conn *packet.Conn
	raw  syscall.RawConn

	rbuf, oob []byte // Receive's buffers
	sbuf      []byte // Send's buffers
	frame     []byte

	mu      sync.Mutex
	macs    map[netip.Addr]net.HardwareAddr // server address -> hardware address its replies came from
	udp     *net.UDPConn                    // unicast socket, bound to udpAddr:68
	udpAddr netip.Addr
	closed  bool
}

// OpenSocket opens the DHCP packet socket on ifi, with Filter attached
// before it is bound. It needs CAP_NET_RAW.
func OpenSocket(ifi *net.Interface) (*Socket, error) {
	prog, err := bpf.Assemble(Filter())
	if err != nil {
		return nil, fmt.Errorf("link %s: assembling the socket filter: %w", ifi.Name, err)
	}
	conn, err := packet.Listen(ifi, packet.Datagram, unix.ETH_P_IP, &packet.Config{Filter: prog})
	if err != nil {
		return nil, udp4.NeedsPrivilege(fmt.Errorf("link %s: packet socket: %w", ifi.Name, err), udp4.NeedRaw)
	}
	raw, err := conn.SyscallConn()
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("link %s: packet socket: %w", ifi.Name, err)
	}
	var serr error
	err = raw.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_PACKET, unix.PACKET_AUXDATA, 1)
		// Our own transmissions are of no interest; kernels before 4.20
		// lack the option, and Receive drops them anyway.
		_ = unix.SetsockoptInt(int(fd), unix.SOL_PACKET, unix.PACKET_IGNORE_OUTGOING, 1)
	})
	if err == nil {
		err = serr
	}
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("link %s: PACKET_AUXDATA: %w", ifi.Name, err)
	}
	return &Socket{
		ifi:  ifi,
		conn: conn,
		raw:  raw,
		rbuf: make([]byte, max(ifi.MTU, 1500)+64),
		oob:  make([]byte, unix.CmsgSpace(sizeofTpacketAuxdata)),
		macs: make(map[netip.Addr]net.HardwareAddr),
	}, nil
}

// Close closes the sockets; a Receive in progress returns net.ErrClosed.
func (s *Socket) Close() error {
	s.mu.Lock()
	s.closed = true
	if s.udp != nil {
		s.udp.Close()
		s.udp = nil
	}
	s.mu.Unlock()
	return s.conn.Close()
}

// Receive waits for the next DHCP reply (BOOTREPLY) sent to port 68 on the
// interface and parses it into msg. Datagrams that are malformed, fail a
// checksum, or hold no DHCP reply are skipped. It returns ctx's error when
// ctx ends first, and an error wrapping net.ErrClosed after Close.
func (s *Socket) Receive(ctx context.Context, msg *dhcpv4.Packet) error {
	if err := s.conn.SetReadDeadline(time.Time{}); err != nil {
		return s.recvError(ctx, err)
	}
	stop := context.AfterFunc(ctx, func() { s.conn.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	for {
		n, from, csumUnverified, err := s.recvmsg()
		if err != nil {
			return s.recvError(ctx, err)
		}
		if from != nil && from.Pkttype == unix.PACKET_OUTGOING {
			continue
		}
		payload, src, dst, err := udp4.ParseUDP4(s.rbuf[:n], !csumUnverified)
		if err != nil || dst.Port() != udp4.ClientPort {
			continue
		}
		if dhcpv4.Parse(payload, msg) != nil || msg.Op != dhcpv4.BootReply {
			continue
		}
		if from != nil && from.Halen == 6 {
			mac := net.HardwareAddr(append([]byte(nil), from.Addr[:6]...))
			s.mu.Lock()
			s.macs[src.Addr()] = mac
			if sid, ok := msg.Options.Addr(dhcpv4.OptServerID); ok {
				s.macs[sid] = mac
			}
			s.mu.Unlock()
		}
		return nil
	}
}

func (s *Socket) recvError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if errors.Is(err, net.ErrClosed) || errors.Is(err, unix.EBADF) {
		return fmt.Errorf("link %s: %w", s.ifi.Name, net.ErrClosed)
	}
	return fmt.Errorf("link %s: receiving: %w", s.ifi.Name, err)
}

// recvmsg reads one datagram into s.rbuf with its link-layer source and
// whether the kernel says its checksum is not filled in yet.
func (s *Socket) recvmsg() (n int, from *unix.SockaddrLinklayer, csumUnverified bool, err error) {
	var oobn int
	var sa unix.Sockaddr
	var rerr error
	err = s.raw.Read(func(fd uintptr) bool {
		n, oobn, _, sa, rerr = unix.Recvmsg(int(fd), s.rbuf, s.oob, unix.MSG_DONTWAIT)
		return rerr != unix.EAGAIN && rerr != unix.EWOULDBLOCK
	})
	if err == nil {
		err = rerr
	}
	if err != nil {
		return 0, nil, false, err
	}
	from, _ = sa.(*unix.SockaddrLinklayer)
	if cmsgs, perr := unix.ParseSocketControlMessage(s.oob[:oobn]); perr == nil {
		for _, c := range cmsgs {
			if c.Header.Level == unix.SOL_PACKET && c.Header.Type == unix.PACKET_AUXDATA && len(c.Data) >= 4 {
				status := binary.NativeEndian.Uint32(c.Data[0:4])
				csumUnverified = status&unix.TP_STATUS_CSUMNOTREADY != 0
			}
		}
	}
	return n, from, csumUnverified, nil
}

// Send transmits msg from port 68: broadcast to 255.255.255.255:67 from
// msg.CIAddr (or 0.0.0.0) when to is the zero Addr or the broadcast
// address, else unicast to to:67 from msg.CIAddr (see the package comment).
func (s *Socket) Send(msg *dhcpv4.Packet, to netip.Addr) error {
	payload, err := msg.Append(s.sbuf[:0], 0)
	if err != nil {
		return fmt.Errorf("link %s: encoding %v: %w", s.ifi.Name, msg.MessageType(), err)
	}
	s.sbuf = payload
	src := msg.CIAddr
	if !src.Is4() {
		src = netip.IPv4Unspecified()
	}
	bcast := netip.AddrFrom4([4]byte{255, 255, 255, 255})
	if !to.IsValid() || to == bcast {
		return s.sendFrame(src, bcast, ethernetBroadcast, payload)
	}
	if !src.IsUnspecified() {
		err := s.sendUDP(src, to, payload)
		if err == nil || !errors.Is(err, errNotLocal) {
			return err
		}
	}
	// The address is not on the interface: straight to the server's
	// hardware address, or to everyone when it is not known.
	s.mu.Lock()
	mac := s.macs[to]
	s.mu.Unlock()
	if mac == nil {
		mac = ethernetBroadcast
	}
	return s.sendFrame(src, to, mac, payload)
}

func (s *Socket) sendFrame(src, dst netip.Addr, mac net.HardwareAddr, payload []byte) error {
	s.frame = udp4.AppendUDP4(s.frame[:0], netip.AddrPortFrom(src, udp4.ClientPort), netip.AddrPortFrom(dst, udp4.ServerPort), payload)
	if _, err := s.conn.WriteTo(s.frame, &packet.Addr{HardwareAddr: mac}); err != nil {
		return fmt.Errorf("link %s: sending to %v (%v): %w", s.ifi.Name, dst, mac, err)
	}
	return nil
}

// errNotLocal says the source address of a unicast is not configured.
var errNotLocal = errors.New("address not configured on the interface")

// sendUDP sends payload to dst:67 from src:68 through the kernel, on a UDP
// socket bound to src:68 and to the interface, kept open while src stays
// the same.
func (s *Socket) sendUDP(src, dst netip.Addr, payload []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("link %s: %w", s.ifi.Name, net.ErrClosed)
	}
	if s.udp == nil || s.udpAddr != src {
		if s.udp != nil {
			s.udp.Close()
			s.udp = nil
		}
		c, err := listenUDP(s.ifi.Name, src)
		if err != nil {
			return err
		}
		s.udp, s.udpAddr = c, src
		// The replies also reach the packet socket, which is where they
		// are read; drain this one so that its buffer never fills.
		go func() {
			buf := make([]byte, 1500)
			for {
				if _, _, err := c.ReadFromUDPAddrPort(buf); err != nil && errors.Is(err, net.ErrClosed) {
					return
				}
			}
		}()
	}
	if _, err := s.udp.WriteToUDPAddrPort(payload, netip.AddrPortFrom(dst, udp4.ServerPort)); err != nil {
		return fmt.Errorf("link %s: sending to %v: %w", s.ifi.Name, dst, err)
	}
	return nil
}

// listenUDP opens a UDP socket bound to src:68 on interface iface. An
// address not configured on the host is an error wrapping errNotLocal.
func listenUDP(iface string, src netip.Addr) (*net.UDPConn, error) {
	lc := net.ListenConfig{Control: func(network, address string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			if serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); serr != nil {
				return
			}
			serr = unix.SetsockoptString(int(fd), unix.SOL_SOCKET, unix.SO_BINDTODEVICE, iface)
		})
		if err != nil {
			return err
		}
		return serr
	}}
	pc, err := lc.ListenPacket(context.Background(), "udp4", netip.AddrPortFrom(src, udp4.ClientPort).String())
	if err != nil {
		if errors.Is(err, unix.EADDRNOTAVAIL) {
			return nil, fmt.Errorf("link %s: binding %v:%d: %w", iface, src, udp4.ClientPort, errNotLocal)
		}
		// Port 68 is privileged, and SO_BINDTODEVICE needed CAP_NET_RAW
		// before Linux 5.7.
		return nil, udp4.NeedsPrivilege(fmt.Errorf("link %s: binding %v:%d: %w", iface, src, udp4.ClientPort, err), udp4.NeedBindPort+", and CAP_NET_RAW before Linux 5.7")
	}
	return pc.(*net.UDPConn), nil
}

// closeUnicast closes the unicast socket, as when its address goes away.
func (s *Socket) closeUnicast() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.udp != nil {
		s.udp.Close()
		s.udp = nil
	}
}

package udp4

import (
	"errors"
	"net"
	"net/netip"
	"sync"
)

// Endpoint is what a DHCP server or relay agent sends and receives
// through on its port: the UDP socket (Listen), a Writer for batches on
// it, and a packet socket for frames to clients that have no address yet
// (LinkSender; see SendToHardware).
type Endpoint struct {
	// Conn is the UDP socket, with IP_PKTINFO on.
	Conn *net.UDPConn
	// Writer sends batches on Conn.
	Writer *Writer
	// Link sends frames to hardware addresses. It is nil when the packet
	// socket could not be opened (without CAP_NET_RAW): LinkErr says why,
	// and SendToHardware then falls back to broadcast.
	Link    *LinkSender
	LinkErr error

	closeOnce sync.Once
	closeErr  error
}

// OpenEndpoint opens an Endpoint listening on addr. Only the UDP socket
// and its writer are required; a packet socket that cannot be opened
// leaves Link nil, for the caller to log.
func OpenEndpoint(addr netip.AddrPort) (*Endpoint, error) {
	conn, err := Listen(addr)
	if err != nil {
		return nil, err
	}
	w, err := NewWriter(conn)
	if err != nil {
		conn.Close()
		return nil, err
	}
	e := &Endpoint{Conn: conn, Writer: w}
	e.Link, e.LinkErr = OpenLinkSender()
	if e.LinkErr != nil {
		e.Link = nil
	}
	return e, nil
}

// LocalAddr returns the address the endpoint listens on.
func (e *Endpoint) LocalAddr() netip.AddrPort {
	return e.Conn.LocalAddr().(*net.UDPAddr).AddrPort()
}

// Close closes the sockets. Reads and writes in progress on them return
// net.ErrClosed. Closing again returns the first result.
func (e *Endpoint) Close() error {
	e.closeOnce.Do(func() {
		e.closeErr = e.Conn.Close()
		if e.Link != nil {
			e.closeErr = errors.Join(e.closeErr, e.Link.Close())
		}
	})
	return e.closeErr
}

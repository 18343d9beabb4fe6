//go:build !linux

package udp4

import (
	"errors"
	"net"
	"net/netip"
	"runtime"
	"time"
)

// errUnsupported is what the constructors that need Linux return.
var errUnsupported = errors.New("udp4: batched UDP sockets, IP_PKTINFO and packet sockets are not supported on " + runtime.GOOS)

// batchSys is empty: there are no system message headers to keep.
type batchSys struct{}

func (s *batchSys) init(*Batch, int) {}

// Reader reads datagrams in batches; on this system NewReader returns an
// error.
type Reader struct{}

// NewReader returns an error: batched reads are not supported on this
// system.
func NewReader(conn *net.UDPConn, n, size int) (*Reader, error) { return nil, errUnsupported }

// Read returns an error: batched reads are not supported on this system.
func (r *Reader) Read() ([]Datagram, error) { return nil, errUnsupported }

// Writer sends batches of datagrams; on this system NewWriter returns an
// error.
type Writer struct{}

// NewWriter returns an error: batched writes are not supported on this
// system.
func NewWriter(conn *net.UDPConn) (*Writer, error) { return nil, errUnsupported }

// Write returns an error: batched writes are not supported on this system.
func (w *Writer) Write(b *Batch, from, to int) (int, error) { return 0, errUnsupported }

// Listen returns an error: IP_PKTINFO is not supported on this system.
func Listen(addr netip.AddrPort) (*net.UDPConn, error) { return nil, errUnsupported }

// SetReceiveBuffer asks for a socket receive buffer of n bytes, up to the
// system's limit.
func SetReceiveBuffer(conn *net.UDPConn, n int) error { return conn.SetReadBuffer(n) }

// SetSendBuffer asks for a socket send buffer of n bytes, up to the
// system's limit.
func SetSendBuffer(conn *net.UDPConn, n int) error { return conn.SetWriteBuffer(n) }

// LinkSender sends frames on a packet socket; on this system
// OpenLinkSender returns an error.
type LinkSender struct{}

// OpenLinkSender returns an error: packet sockets are not supported on
// this system.
func OpenLinkSender() (*LinkSender, error) { return nil, errUnsupported }

// Send returns an error: packet sockets are not supported on this system.
func (l *LinkSender) Send(ifIndex int, hw []byte, datagram []byte) error { return errUnsupported }

// Close does nothing.
func (l *LinkSender) Close() error { return nil }

// Pause sleeps for d.
func Pause(d time.Duration) { time.Sleep(d) }

// PortHolder is a UDP socket bound to a port and a process that holds it.
type PortHolder struct {
	Addr    netip.AddrPort
	Inode   uint64
	PID     int
	Command string
}

// String describes h for messages.
func (h PortHolder) String() string { return "another process" }

// PortHolders returns nothing but errUnsupported outside Linux.
func PortHolders(netip.AddrPort, *net.UDPConn) ([]PortHolder, error) { return nil, errUnsupported }

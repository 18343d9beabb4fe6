package udp4

import (
	"net"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Reader reads datagrams in batches with recvmmsg(2) into buffers it
// owns and reports, for each, the sender, the arrival interface and the
// destination address (IP_PKTINFO, which Listen enables), without
// allocating. A Reader belongs to one goroutine; several may read one
// socket.
type Reader struct {
	rc    syscall.RawConn
	hdrs  []mmsghdr
	iovs  []unix.Iovec
	names []unix.RawSockaddrInet4
	bufs  [][]byte
	oobs  [][]byte
	got   []Datagram

	// The outcome of the last recvmmsg; see recv.
	n      int
	errno  syscall.Errno
	readFn func(fd uintptr) bool
}

// oobSize holds an IP_PKTINFO control message and then some.
const oobSize = 128

// NewReader returns a reader of conn that reads up to n datagrams at a
// time into buffers of size bytes; longer datagrams are cut.
func NewReader(conn *net.UDPConn, n, size int) (*Reader, error) {
	rc, err := conn.SyscallConn()
	if err != nil {
		return nil, err
	}
	r := &Reader{
		rc:    rc,
		hdrs:  make([]mmsghdr, n),
		iovs:  make([]unix.Iovec, n),
		names: make([]unix.RawSockaddrInet4, n),
		bufs:  make([][]byte, n),
		oobs:  make([][]byte, n),
		got:   make([]Datagram, n),
	}
	for i := range n {
		r.bufs[i] = make([]byte, size)
		r.oobs[i] = make([]byte, oobSize)
		r.iovs[i].Base = &r.bufs[i][0]
		r.iovs[i].SetLen(size)
	}
	r.readFn = r.recv // made once: a method value passed on allocates
	return r, nil
}

// Read waits for datagrams and returns those read, at most the batch
// size. The datagrams and their bytes are valid until the next Read. It
// returns an error matching net.ErrClosed once the socket is closed.
func (r *Reader) Read() ([]Datagram, error) {
	for i := range r.hdrs {
		h := &r.hdrs[i].hdr
		h.Name = (*byte)(unsafe.Pointer(&r.names[i]))
		h.Namelen = unix.SizeofSockaddrInet4
		h.Iov = &r.iovs[i]
		h.SetIovlen(1)
		h.Control = &r.oobs[i][0]
		h.SetControllen(oobSize)
		h.Flags = 0
		r.hdrs[i].n = 0
	}
	if err := r.rc.Read(r.readFn); err != nil {
		return nil, err
	}
	if r.errno != 0 {
		return nil, r.errno
	}
	for i := range r.n {
		m := &r.hdrs[i]
		d := &r.got[i]
		d.Data = r.bufs[i][:min(int(m.n), len(r.bufs[i]))]
		d.Src = sockaddrAddrPort(&r.names[i])
		d.IfIndex, d.Dst = parsePktinfo(r.oobs[i][:min(int(m.hdr.Controllen), oobSize)])
	}
	return r.got[:r.n], nil
}

// recv is the reader's recvmmsg(2), called by RawConn.Read; it records in
// r.n and r.errno what happened, and reports false to wait for the socket
// to be readable. The call never blocks (MSG_DONTWAIT), so it is made raw,
// without the runtime's bookkeeping for system calls that may block.
func (r *Reader) recv(fd uintptr) bool {
	r1, _, e := unix.RawSyscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&r.hdrs[0])),
		uintptr(len(r.hdrs)), unix.MSG_DONTWAIT, 0, 0)
	if e == unix.EAGAIN || e == unix.EWOULDBLOCK {
		return false
	}
	r.n, r.errno = int(r1), e
	return true
}

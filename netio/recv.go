package netio

import (
	"encoding/binary"
	"net"
	"net/netip"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// batchReader reads datagrams in batches with recvmmsg(2) into buffers it
// owns and reports, for each, the sender, the arrival interface and the
// destination address (IP_PKTINFO, which the socket must have enabled),
// without allocating: the batch reads of golang.org/x/net/ipv4 allocate the
// sender's address and the destination of every datagram.
type batchReader struct {
	rc    syscall.RawConn
	hdrs  []mmsghdr
	iovs  []unix.Iovec
	names []unix.RawSockaddrInet4
	bufs  [][]byte
	oobs  [][]byte
	got   []datagram

	// The outcome of the last recvmmsg; see recv.
	n      int
	errno  syscall.Errno
	readFn func(fd uintptr) bool
}

// mmsghdr is struct mmsghdr of <sys/socket.h>.
type mmsghdr struct {
	hdr unix.Msghdr
	n   uint32
	_   [4]byte
}

// datagram is one datagram read: its bytes (aliasing the reader's buffer,
// valid until the next read) and where it came from and arrived.
type datagram struct {
	b       []byte
	src     netip.AddrPort
	ifIndex int
	dst     netip.Addr
}

// oobSize holds an IP_PKTINFO control message and then some.
const oobSize = 128

func newBatchReader(conn *net.UDPConn, batch, size int) (*batchReader, error) {
	rc, err := conn.SyscallConn()
	if err != nil {
		return nil, err
	}
	r := &batchReader{
		rc:    rc,
		hdrs:  make([]mmsghdr, batch),
		iovs:  make([]unix.Iovec, batch),
		names: make([]unix.RawSockaddrInet4, batch),
		bufs:  make([][]byte, batch),
		oobs:  make([][]byte, batch),
		got:   make([]datagram, batch),
	}
	for i := range batch {
		r.bufs[i] = make([]byte, size)
		r.oobs[i] = make([]byte, oobSize)
		r.iovs[i].Base = &r.bufs[i][0]
		r.iovs[i].SetLen(size)
	}
	r.readFn = r.recv // made once: a method value passed on allocates
	return r, nil
}

// read waits for datagrams and returns those read, at most the batch size.
// It returns net.ErrClosed once the socket is closed.
func (r *batchReader) read() ([]datagram, error) {
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
		d.b = r.bufs[i][:min(int(m.n), len(r.bufs[i]))]
		sa := &r.names[i]
		d.src = netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), binary.BigEndian.Uint16((*[2]byte)(unsafe.Pointer(&sa.Port))[:]))
		d.ifIndex, d.dst = parsePktinfo(r.oobs[i][:min(int(m.hdr.Controllen), oobSize)])
	}
	return r.got[:r.n], nil
}

// recv is the reader's recvmmsg(2), called by RawConn.Read; it records in
// r.n and r.errno what happened, and reports false to wait for the socket
// to be readable. The call never blocks (MSG_DONTWAIT), so it is made raw,
// without the runtime's bookkeeping for system calls that may block.
func (r *batchReader) recv(fd uintptr) bool {
	r1, _, e := unix.RawSyscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&r.hdrs[0])),
		uintptr(len(r.hdrs)), unix.MSG_DONTWAIT, 0, 0)
	if e == unix.EAGAIN || e == unix.EWOULDBLOCK {
		return false
	}
	r.n, r.errno = int(r1), e
	return true
}

// parsePktinfo returns the interface index and the header destination
// address of an IP_PKTINFO control message in oob, or zeros.
func parsePktinfo(oob []byte) (ifIndex int, dst netip.Addr) {
	const hdr = unix.SizeofCmsghdr
	for len(oob) >= hdr {
		l := int(binary.NativeEndian.Uint64(oob[0:8]))
		level := int32(binary.NativeEndian.Uint32(oob[8:12]))
		typ := int32(binary.NativeEndian.Uint32(oob[12:16]))
		if l < hdr || l > len(oob) {
			break
		}
		if level == unix.IPPROTO_IP && typ == unix.IP_PKTINFO && l >= hdr+unix.SizeofInet4Pktinfo {
			// struct in_pktinfo: ifindex, spec_dst, addr.
			d := oob[hdr:]
			ifIndex = int(int32(binary.NativeEndian.Uint32(d[0:4])))
			dst = netip.AddrFrom4([4]byte(d[8:12]))
		}
		oob = oob[min(unix.CmsgSpace(l-hdr), len(oob)):]
	}
	return ifIndex, dst
}

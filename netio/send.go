package netio

import (
	"encoding/binary"
	"net/netip"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"leased/dhcpv4"
)

// sendBatch holds replies waiting to be sent together with sendmmsg(2), in
// buffers it owns: building a batch and sending it allocate nothing (the
// batch writes of golang.org/x/net/ipv4 allocate per call).
type sendBatch struct {
	hdrs  []mmsghdr
	iovs  []unix.Iovec
	names []unix.RawSockaddrInet4
	bufs  [][]byte
	oobs  [][pktinfoSpace]byte
	types []dhcpv4.MessageType
	n     int // replies queued

	// The state of a send in progress; see write.
	off     int
	end     int
	sent    int
	errno   syscall.Errno
	writeFn func(fd uintptr) bool
}

// pktinfoSpace is the size of an IP_PKTINFO control message, as
// CMSG_SPACE(sizeof(struct in_pktinfo)): header and data, each rounded up
// to the alignment of a long.
const (
	cmsgAlign    = int(unsafe.Sizeof(uintptr(0)))
	pktinfoSpace = (unix.SizeofCmsghdr+cmsgAlign-1)&^(cmsgAlign-1) + (unix.SizeofInet4Pktinfo+cmsgAlign-1)&^(cmsgAlign-1)
)

func newSendBatch(size int) *sendBatch {
	b := &sendBatch{
		hdrs:  make([]mmsghdr, size),
		iovs:  make([]unix.Iovec, size),
		names: make([]unix.RawSockaddrInet4, size),
		bufs:  make([][]byte, size),
		oobs:  make([][pktinfoSpace]byte, size),
		types: make([]dhcpv4.MessageType, size),
	}
	for i := range size {
		b.bufs[i] = make([]byte, 0, maxReply)
	}
	b.writeFn = b.write // made once: a method value passed on allocates
	return b
}

// full reports whether the batch has no free slot.
func (b *sendBatch) full() bool { return b.n == len(b.hdrs) }

// buf returns the free slot's buffer, empty, for a reply to be appended to.
// The batch must not be full.
func (b *sendBatch) buf() []byte { return b.bufs[b.n][:0] }

// push queues reply, which is the free slot's buffer from buf or any other
// bytes (copied in), to go to `to`, out of interface ifIndex when it is
// positive (IP_PKTINFO) or as routed when it is 0. The batch must not be
// full.
func (b *sendBatch) push(reply []byte, to netip.AddrPort, ifIndex int, t dhcpv4.MessageType) {
	i := b.n
	if unsafe.SliceData(reply) != unsafe.SliceData(b.bufs[i]) {
		reply = append(b.bufs[i][:0], reply...)
	}
	b.bufs[i] = reply
	sa := &b.names[i]
	*sa = unix.RawSockaddrInet4{Family: unix.AF_INET, Addr: to.Addr().As4()}
	binary.BigEndian.PutUint16((*[2]byte)(unsafe.Pointer(&sa.Port))[:], to.Port())
	iov := &b.iovs[i]
	iov.Base = unsafe.SliceData(reply)
	iov.SetLen(len(reply))
	h := &b.hdrs[i]
	h.hdr = unix.Msghdr{Name: (*byte)(unsafe.Pointer(sa)), Namelen: unix.SizeofSockaddrInet4, Iov: iov}
	h.hdr.SetIovlen(1)
	if ifIndex > 0 {
		putPktinfo(b.oobs[i][:], ifIndex)
		h.hdr.Control = &b.oobs[i][0]
		h.hdr.SetControllen(pktinfoSpace)
	}
	h.n = 0
	b.types[i] = t
	b.n++
}

// moveFrom queues all the replies of src, copied, and empties src. It
// reports false, and moves nothing, when they do not all fit.
func (b *sendBatch) moveFrom(src *sendBatch) bool {
	if len(b.hdrs)-b.n < src.n {
		return false
	}
	for i := range src.n {
		b.push(src.bufs[i], src.dest(i), src.ifIndex(i), src.types[i])
	}
	src.n = 0
	return true
}

// dest returns the destination of the i'th reply.
func (b *sendBatch) dest(i int) netip.AddrPort {
	sa := &b.names[i]
	return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), binary.BigEndian.Uint16((*[2]byte)(unsafe.Pointer(&sa.Port))[:]))
}

// ifIndex returns the interface the i'th reply is to leave by, or 0.
func (b *sendBatch) ifIndex(i int) int {
	if b.hdrs[i].hdr.Control == nil {
		return 0
	}
	return int(int32(binary.NativeEndian.Uint32(b.oobs[i][unix.SizeofCmsghdr:])))
}

// putPktinfo writes an IP_PKTINFO control message naming interface ifIndex
// into oob, which holds pktinfoSpace bytes.
func putPktinfo(oob []byte, ifIndex int) {
	clear(oob[:pktinfoSpace])
	binary.NativeEndian.PutUint64(oob[0:8], uint64(unix.CmsgLen(unix.SizeofInet4Pktinfo)))
	binary.NativeEndian.PutUint32(oob[8:12], uint32(unix.IPPROTO_IP))
	binary.NativeEndian.PutUint32(oob[12:16], uint32(unix.IP_PKTINFO))
	binary.NativeEndian.PutUint32(oob[unix.SizeofCmsghdr:], uint32(int32(ifIndex)))
}

// write is the batch's sendmmsg(2), called by RawConn.Write: it sends the
// replies from b.off to b.end and records in b.sent and b.errno what happened.
// It reports false to wait when the socket cannot take more.
//
// The call never blocks (MSG_DONTWAIT) and is made raw: delivering a burst
// of 64 replies can take the kernel a few hundred microseconds, and the
// runtime, seeing a system call that long, would hand the scheduler's P
// to another thread, waking it for nothing (the CPU is busy sending) and
// keeping its monitor thread polling every 20 µs.
func (b *sendBatch) write(fd uintptr) bool {
	r1, _, e := unix.RawSyscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&b.hdrs[b.off])),
		uintptr(b.end-b.off), unix.MSG_DONTWAIT, 0, 0)
	if e == unix.EAGAIN || e == unix.EWOULDBLOCK {
		return false
	}
	b.sent, b.errno = int(r1), e
	return true
}

// outbox gathers the replies of many goroutines for one sender goroutine:
// the committers woken by one group commit post their DHCPACKs here and
// they leave in one sendmmsg rather than one system call each.
type outbox struct {
	mu     sync.Mutex
	cur    *sendBatch
	closed bool
	kick   chan struct{}
}

func newOutbox(size int) *outbox {
	return &outbox{cur: newSendBatch(size), kick: make(chan struct{}, 1)}
}

// post moves the replies of b into the outbox and wakes the sender. It
// reports false, leaving b as it was for the caller to send itself, when
// they do not fit or the outbox is closed.
func (o *outbox) post(b *sendBatch) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed || !o.cur.moveFrom(b) {
		return false
	}
	select {
	case o.kick <- struct{}{}:
	default:
	}
	return true
}

// take swaps the outbox's batch with spare, which must be empty, and
// returns the batch taken.
func (o *outbox) take(spare *sendBatch) *sendBatch {
	o.mu.Lock()
	b := o.cur
	o.cur = spare
	o.mu.Unlock()
	return b
}

// close refuses later posts and wakes the sender for the last time.
func (o *outbox) close() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.closed = true
	close(o.kick)
}

package udp4

import (
	"net"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// batchSys holds the sendmmsg(2) message headers of a Batch and the
// state of a write in progress.
type batchSys struct {
	hdrs  []mmsghdr
	iovs  []unix.Iovec
	names []unix.RawSockaddrInet4
	oobs  [][pktinfoSpace]byte

	// The state of a write in progress; see write.
	off, end, sent int
	errno          syscall.Errno
	writeFn        func(fd uintptr) bool
}

func (s *batchSys) init(_ *Batch, n int) {
	s.hdrs = make([]mmsghdr, n)
	s.iovs = make([]unix.Iovec, n)
	s.names = make([]unix.RawSockaddrInet4, n)
	s.oobs = make([][pktinfoSpace]byte, n)
	s.writeFn = s.write // made once: a method value passed on allocates
}

// Writer sends the datagrams of Batches with sendmmsg(2) on one socket.
// It is safe for concurrent use with different batches.
type Writer struct {
	rc syscall.RawConn
}

// NewWriter returns a writer to conn.
func NewWriter(conn *net.UDPConn) (*Writer, error) {
	rc, err := conn.SyscallConn()
	if err != nil {
		return nil, err
	}
	return &Writer{rc: rc}, nil
}

// Write sends the datagrams of b from index from up to index to with one
// sendmmsg(2), waiting while the socket cannot take any, and returns how
// many were sent, the first ones of the range. When the datagram at from
// cannot be sent, Write returns 0 and its error, a syscall.Errno: the
// caller skips it and writes the rest. Any other error is the socket's
// (one matching net.ErrClosed once it is closed): nothing more can be
// sent. Write does not empty b.
func (w *Writer) Write(b *Batch, from, to int) (int, error) {
	if from >= to {
		return 0, nil
	}
	s := &b.sys
	for i := from; i < to; i++ {
		putSockaddr(&s.names[i], b.dsts[i])
		iov := &s.iovs[i]
		iov.Base = unsafe.SliceData(b.bufs[i])
		iov.SetLen(len(b.bufs[i]))
		h := &s.hdrs[i]
		h.hdr = unix.Msghdr{Name: (*byte)(unsafe.Pointer(&s.names[i])), Namelen: unix.SizeofSockaddrInet4, Iov: iov}
		h.hdr.SetIovlen(1)
		if b.ifIndex[i] > 0 {
			putPktinfo(s.oobs[i][:], b.ifIndex[i])
			h.hdr.Control = &s.oobs[i][0]
			h.hdr.SetControllen(pktinfoSpace)
		}
		h.n = 0
	}
	s.off, s.end = from, to
	if err := w.rc.Write(s.writeFn); err != nil {
		return 0, err
	}
	if s.errno != 0 {
		return 0, s.errno
	}
	return s.sent, nil
}

// write is the batch's sendmmsg(2), called by RawConn.Write: it sends the
// datagrams from s.off to s.end and records in s.sent and s.errno what
// happened. It reports false to wait when the socket cannot take more.
//
// The call never blocks (MSG_DONTWAIT) and is made raw: delivering a burst
// of 64 datagrams can take the kernel a few hundred microseconds, and the
// runtime, seeing a system call that long, would hand the scheduler's P
// to another thread, waking it for nothing (the CPU is busy sending) and
// keeping its monitor thread polling every 20 µs.
func (s *batchSys) write(fd uintptr) bool {
	r1, _, e := unix.RawSyscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&s.hdrs[s.off])),
		uintptr(s.end-s.off), unix.MSG_DONTWAIT, 0, 0)
	if e == unix.EAGAIN || e == unix.EWOULDBLOCK {
		return false
	}
	s.sent, s.errno = int(r1), e
	return true
}

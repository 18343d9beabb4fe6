package udp4

import (
	"net/netip"
	"unsafe"
)

// Batch holds datagrams waiting to be sent together by a Writer, in
// buffers it owns, with the destination and the interface of each: filling
// a batch and sending it allocate nothing once its buffers have grown to
// the size of the datagrams. A Batch is not safe for concurrent use.
type Batch struct {
	bufs    [][]byte
	dsts    []netip.AddrPort
	ifIndex []int
	n       int // datagrams queued

	sys batchSys // the system's message headers and the state of a write
}

// NewBatch returns an empty batch of n slots whose buffers have room for
// size bytes each.
func NewBatch(n, size int) *Batch {
	b := &Batch{
		bufs:    make([][]byte, n),
		dsts:    make([]netip.AddrPort, n),
		ifIndex: make([]int, n),
	}
	for i := range n {
		b.bufs[i] = make([]byte, 0, size)
	}
	b.sys.init(b, n)
	return b
}

// Len returns the number of datagrams queued.
func (b *Batch) Len() int { return b.n }

// Cap returns the number of slots.
func (b *Batch) Cap() int { return len(b.bufs) }

// Full reports whether the batch has no free slot.
func (b *Batch) Full() bool { return b.n == len(b.bufs) }

// Buf returns the free slot's buffer, empty, for a datagram to be appended
// to and then pushed. The batch must not be full.
func (b *Batch) Buf() []byte { return b.bufs[b.n][:0] }

// Push queues p to be sent to `to`, out of interface ifIndex when it is
// positive (IP_PKTINFO) or as routed when it is 0. p is the free slot's
// buffer from Buf, appended to, or any other bytes, which are copied. The
// batch must not be full.
func (b *Batch) Push(p []byte, to netip.AddrPort, ifIndex int) {
	i := b.n
	if unsafe.SliceData(p) != unsafe.SliceData(b.bufs[i]) {
		p = append(b.bufs[i][:0], p...)
	}
	b.bufs[i] = p
	b.dsts[i] = to
	b.ifIndex[i] = max(ifIndex, 0)
	b.n++
}

// Bytes returns the i'th datagram queued.
func (b *Batch) Bytes(i int) []byte { return b.bufs[i] }

// Dest returns the destination of the i'th datagram.
func (b *Batch) Dest(i int) netip.AddrPort { return b.dsts[i] }

// IfIndex returns the interface the i'th datagram is to leave by, or 0
// when it goes as routed.
func (b *Batch) IfIndex(i int) int { return b.ifIndex[i] }

// MoveFrom queues all the datagrams of src, copied, and empties src. It
// reports false, and moves nothing, when they do not all fit.
func (b *Batch) MoveFrom(src *Batch) bool {
	if len(b.bufs)-b.n < src.n {
		return false
	}
	for i := range src.n {
		b.Push(src.bufs[i], src.dsts[i], src.ifIndex[i])
	}
	src.n = 0
	return true
}

// Reset empties the batch.
func (b *Batch) Reset() { b.n = 0 }

package netio

import (
	"net/netip"
	"sync"

	"leased/dhcpv4"
	"leased/udp4"
)

// sendBatch holds replies waiting to be sent together with sendmmsg(2)
// (a udp4.Batch), and the message type of each, for the counters.
type sendBatch struct {
	*udp4.Batch
	types []dhcpv4.MessageType
}

func newSendBatch(size int) *sendBatch {
	return &sendBatch{Batch: udp4.NewBatch(size, maxReply), types: make([]dhcpv4.MessageType, size)}
}

// push queues reply, which is the free slot's buffer from Buf or any other
// bytes (copied in), of type t, to go to `to`, out of interface ifIndex
// when it is positive (IP_PKTINFO) or as routed when it is 0. The batch
// must not be full.
func (b *sendBatch) push(reply []byte, to netip.AddrPort, ifIndex int, t dhcpv4.MessageType) {
	b.types[b.Len()] = t
	b.Push(reply, to, ifIndex)
}

// moveFrom queues all the replies of src, copied, and empties src. It
// reports false, and moves nothing, when they do not all fit.
func (b *sendBatch) moveFrom(src *sendBatch) bool {
	if b.Cap()-b.Len() < src.Len() {
		return false
	}
	copy(b.types[b.Len():], src.types[:src.Len()])
	return b.MoveFrom(src.Batch)
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

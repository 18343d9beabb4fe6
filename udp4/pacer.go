package udp4

import "time"

// Pacer decides, after a reader has handled the datagrams of one read,
// whether it pauses (see Pause) before reading again: the receive delay.
//
// Under load, without a pause, a reader wakes for nearly every datagram:
// it reads one, answers it, finds the socket empty and sleeps until the
// next, and each of these wake-ups (epoll, the Go scheduler, a switch of
// threads) costs more CPU than answering. Pausing for a moment while the
// datagrams come faster than one per pause lets the next read take
// several at once, as network cards coalesce interrupts.
//
// It follows the mean time between the datagrams its reader reads, and
// asks for a pause only while that is shorter than the delay: a datagram
// that comes alone, at a low rate, is read as soon as it arrives. A Pacer
// belongs to one reader; it is not safe for concurrent use.
type Pacer struct {
	delay time.Duration
	batch int // datagrams one read can take
	last  time.Time
	gap   time.Duration // mean time between datagrams
}

// pacerMaxGap caps one gap's weight, so that the first datagrams after a
// quiet spell do not keep the mean high for long.
const pacerMaxGap = 10 * time.Millisecond

// NewPacer returns the pacer of a reader that reads up to batch datagrams
// at a time and pauses for delay; a delay of 0 or less never pauses.
func NewPacer(delay time.Duration, batch int) Pacer {
	return Pacer{delay: delay, batch: batch, gap: pacerMaxGap}
}

// Read records that a read at now returned n datagrams and reports whether
// the reader should pause before the next one. It does not pause after a
// full read: more datagrams are likely waiting.
func (p *Pacer) Read(now time.Time, n int) bool {
	if p.delay <= 0 || n <= 0 {
		return false
	}
	if !p.last.IsZero() {
		g := min(max(now.Sub(p.last), 0)/time.Duration(n), pacerMaxGap)
		p.gap += (g - p.gap) / 8
	}
	p.last = now
	return n < p.batch && p.gap < p.delay
}

package netio

import (
	"runtime"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// receivePacer decides, after a reader has handled the datagrams of one
// read, whether it pauses before reading again (Options.ReceiveDelay).
//
// Under load, without a pause, a reader wakes for nearly every datagram:
// it reads one, answers it, finds the socket empty and sleeps until the
// next, and each of these wake-ups (epoll, the Go scheduler, a switch of
// threads) costs more CPU than answering. Pausing for a moment while the
// datagrams come faster than one per pause lets the next read take
// several at once, as network cards coalesce interrupts.
//
// It follows the mean time between the datagrams this reader reads, and
// pauses only while that is shorter than the delay: a datagram that comes
// alone, at a low rate, is read as soon as it arrives.
type receivePacer struct {
	delay time.Duration
	batch int // datagrams one read can take
	last  time.Time
	gap   time.Duration // mean time between datagrams
}

// pacerMaxGap caps one gap's weight, so that the first datagrams after a
// quiet spell do not keep the mean high for long.
const pacerMaxGap = 10 * time.Millisecond

func newReceivePacer(delay time.Duration, batch int) receivePacer {
	return receivePacer{delay: delay, batch: batch, gap: pacerMaxGap}
}

// read records that a read at now returned n datagrams and reports whether
// the reader should pause before the next one. It does not pause after a
// full read: more datagrams are likely waiting.
func (p *receivePacer) read(now time.Time, n int) bool {
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

// pause lets the goroutines that are ready run (committers, the sender),
// then sleeps for d keeping its thread and the scheduler's P.
//
// The sleep is a raw nanosleep(2) on purpose: a time.Sleep or a system
// call the runtime knows of would hand the P to another thread, which
// would wait for the network in epoll and wake for the next datagram, the
// very wake-up the pause is to save; the runtime's timers also round
// sleeps under a millisecond up to one when nothing else runs. d is kept
// short (at most MaxReceiveDelay), so holding the P delays other work by
// no more than that.
func pause(d time.Duration) {
	runtime.Gosched()
	ts := unix.NsecToTimespec(int64(d))
	for {
		_, _, e := unix.RawSyscall(unix.SYS_NANOSLEEP, uintptr(unsafe.Pointer(&ts)), uintptr(unsafe.Pointer(&ts)), 0)
		if e != unix.EINTR {
			return
		}
	}
}

package udp4

import (
	"runtime"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Pause lets the goroutines that are ready run, then sleeps for d keeping
// its thread and the scheduler's P: the pause a Pacer asks for.
//
// The sleep is a raw nanosleep(2) on purpose: a time.Sleep or a system
// call the runtime knows of would hand the P to another thread, which
// would wait for the network in epoll and wake for the next datagram, the
// very wake-up the pause is to save; the runtime's timers also round
// sleeps under a millisecond up to one when nothing else runs. d must be
// short (the server allows at most a millisecond): holding the P delays
// other work by as much.
func Pause(d time.Duration) {
	runtime.Gosched()
	ts := unix.NsecToTimespec(int64(d))
	for {
		_, _, e := unix.RawSyscall(unix.SYS_NANOSLEEP, uintptr(unsafe.Pointer(&ts)), uintptr(unsafe.Pointer(&ts)), 0)
		if e != unix.EINTR {
			return
		}
	}
}

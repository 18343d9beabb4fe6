package journal

import (
	"os"
	"syscall"
)

// datasync flushes f's data and size, but not its other metadata, with
// fdatasync(2).
func datasync(f *os.File) error {
	return fdatasync(f, syscall.Fdatasync)
}

// datasyncHeld is datasync through a raw system call: the runtime is not
// told of it, so the calling thread keeps the scheduler's P (and runs no
// other goroutine) until the sync returns. See Store.syncLog.
func datasyncHeld(f *os.File) error {
	return fdatasync(f, func(fd int) error {
		if _, _, e := syscall.RawSyscall(syscall.SYS_FDATASYNC, uintptr(fd), 0, 0); e != 0 {
			return e
		}
		return nil
	})
}

// fdatasync runs sync on f's descriptor, again while it is interrupted.
func fdatasync(f *os.File, sync func(fd int) error) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		for {
			serr = sync(int(fd))
			if serr != syscall.EINTR {
				return
			}
		}
	}); err != nil {
		return err
	}
	if serr != nil {
		return &os.PathError{Op: "fdatasync", Path: f.Name(), Err: serr}
	}
	return nil
}

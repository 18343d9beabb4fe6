package journal

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// datasync flushes f's data and size, but not its other metadata, with
// fdatasync(2).
func datasync(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		for {
			serr = syscall.Fdatasync(int(fd))
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

// dropCache drops f's clean pages from the page cache with
// posix_fadvise(2) POSIX_FADV_DONTNEED. Pages whose writeback failed are
// clean too: after this, reads return what the disk holds, not what a
// failed fdatasync left in memory.
func dropCache(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) {
		ferr = unix.Fadvise(int(fd), 0, 0, unix.FADV_DONTNEED)
	}); err != nil {
		return err
	}
	if ferr != nil {
		return &os.PathError{Op: "fadvise", Path: f.Name(), Err: ferr}
	}
	return nil
}

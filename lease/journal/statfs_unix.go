//go:build linux || darwin || freebsd

package journal

import (
	"os"
	"syscall"
)

// freeBytes returns the bytes an unprivileged writer may still use on the
// file system holding name, with statfs(2).
func freeBytes(name string) (int64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(name, &st); err != nil {
		return 0, &os.PathError{Op: "statfs", Path: name, Err: err}
	}
	return int64(st.Bavail) * int64(st.Bsize), nil
}

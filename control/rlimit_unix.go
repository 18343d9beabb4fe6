//go:build unix

package control

import (
	"fmt"
	"syscall"
)

// DescriptorLimit returns the process's limit on open descriptors
// (RLIMIT_NOFILE, the soft limit). The Go runtime raises the soft limit
// to the hard one when the program starts (since Go 1.19), so this is
// the hard limit unless something lowered it since.
func DescriptorLimit() (uint64, error) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0, fmt.Errorf("control: descriptor limit: %w", err)
	}
	return uint64(rl.Cur), nil
}

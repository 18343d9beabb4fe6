//go:build unix

package control

import (
	"syscall"
	"testing"
)

func TestDescriptorLimit(t *testing.T) {
	n, err := DescriptorLimit()
	if err != nil {
		t.Skip(err)
	}
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil || n != uint64(rl.Cur) || n == 0 {
		t.Errorf("DescriptorLimit() = %d, want %d (%v)", n, rl.Cur, err)
	}
}

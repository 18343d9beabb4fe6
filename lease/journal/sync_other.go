//go:build !linux

package journal

import "os"

// datasync flushes f with fsync(2): this system has no fdatasync(2).
func datasync(f *os.File) error { return f.Sync() }

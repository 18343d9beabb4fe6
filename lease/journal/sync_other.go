//go:build !linux

package journal

import "os"

// datasync flushes f with fsync(2): this system has no fdatasync(2).
func datasync(f *os.File) error { return f.Sync() }

// datasyncHeld is datasync: this system syncs the usual way.
func datasyncHeld(f *os.File) error { return datasync(f) }

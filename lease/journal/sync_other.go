//go:build !linux

package journal

import "os"

// datasync flushes f with fsync(2): this system has no fdatasync(2).
func datasync(f *os.File) error { return f.Sync() }

// dropCache does nothing: this system offers no way to drop a file's
// cached pages that this package uses. See "Write errors" in the package
// documentation for what that means after a failed sync.
func dropCache(*os.File) error { return nil }

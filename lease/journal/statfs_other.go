//go:build !(linux || darwin || freebsd)

package journal

import "errors"

// freeBytes is not available on this system.
func freeBytes(string) (int64, error) { return 0, errors.ErrUnsupported }

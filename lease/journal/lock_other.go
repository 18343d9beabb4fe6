//go:build !unix

package journal

import (
	"errors"
	"os"
)

// flock is not available on this system.
func flock(f *os.File) (busy bool, err error) {
	return false, errors.New("journal: file locking is not supported on this system")
}

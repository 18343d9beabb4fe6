//go:build !unix

package control

import "errors"

// DescriptorLimit returns the process's limit on open descriptors; off
// Unix there is none to read, and it returns an error.
func DescriptorLimit() (uint64, error) {
	return 0, errors.New("control: no descriptor limit on this system")
}

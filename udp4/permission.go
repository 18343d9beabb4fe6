package udp4

import (
	"errors"
	"syscall"
)

// Privileges that the sockets of a DHCP server, relay agent or client
// need, as NeedsPrivilege names them.
const (
	// NeedBindPort is what binding a UDP port below 1024 (67, 68) needs.
	NeedBindPort = "root or CAP_NET_BIND_SERVICE"
	// NeedRaw is what a packet socket (AF_PACKET) needs.
	NeedRaw = "root or CAP_NET_RAW"
	// NeedAdmin is what configuring an interface (addresses, routes,
	// MTU, link state) needs.
	NeedAdmin = "root or CAP_NET_ADMIN"
)

// PermissionError is an error of an operation refused for want of a
// privilege (EACCES or EPERM), with what would grant it. It wraps the
// original error: errors.Is(err, syscall.EACCES) still holds.
type PermissionError struct {
	// Err is the original error.
	Err error
	// Need says what grants the privilege, e.g. "root or CAP_NET_RAW".
	Need string
}

// Error returns the original message followed by what is needed.
func (e *PermissionError) Error() string {
	return e.Err.Error() + " (this needs " + e.Need + ")"
}

// Unwrap returns the original error.
func (e *PermissionError) Unwrap() error { return e.Err }

// NeedsPrivilege returns err as a *PermissionError that names need, when
// err is a refusal for want of privilege (it wraps EACCES or EPERM);
// otherwise, or when err is nil or already says what it needs, it
// returns err unchanged.
func NeedsPrivilege(err error, need string) error {
	if err == nil || !(errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EPERM)) {
		return err
	}
	var pe *PermissionError
	if errors.As(err, &pe) {
		return err
	}
	return &PermissionError{Err: err, Need: need}
}

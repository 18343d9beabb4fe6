package udp4

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"syscall"
	"testing"
)

func TestNeedsPrivilege(t *testing.T) {
	bind := &os.SyscallError{Syscall: "bind", Err: syscall.EACCES}
	socket := &os.SyscallError{Syscall: "socket", Err: syscall.EPERM}
	tests := []struct {
		name    string
		err     error
		need    string
		want    string
		errno   error
		wrapped bool
	}{
		{"EACCES from bind", fmt.Errorf("listen on 0.0.0.0:67: %w", bind), NeedBindPort,
			"listen on 0.0.0.0:67: bind: permission denied (this needs root or CAP_NET_BIND_SERVICE)", syscall.EACCES, true},
		{"EPERM from socket", socket, NeedRaw,
			"socket: operation not permitted (this needs root or CAP_NET_RAW)", syscall.EPERM, true},
		{"bare EPERM", syscall.EPERM, NeedAdmin,
			"operation not permitted (this needs root or CAP_NET_ADMIN)", syscall.EPERM, true},
		{"other errno", &os.SyscallError{Syscall: "bind", Err: syscall.EADDRINUSE}, NeedBindPort,
			"bind: address already in use", syscall.EADDRINUSE, false},
		{"said once", NeedsPrivilege(bind, NeedRaw), NeedBindPort,
			"bind: permission denied (this needs root or CAP_NET_RAW)", syscall.EACCES, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := NeedsPrivilege(tt.err, tt.need)
			if err.Error() != tt.want {
				t.Errorf("message %q, want %q", err, tt.want)
			}
			if !errors.Is(err, tt.errno) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.errno)
			}
			var pe *PermissionError
			if errors.As(err, &pe) != tt.wrapped {
				t.Errorf("errors.As PermissionError = %v, want %v", !tt.wrapped, tt.wrapped)
			}
		})
	}
	if NeedsPrivilege(nil, NeedRaw) != nil {
		t.Error("NeedsPrivilege(nil) is not nil")
	}
}

// Without the privileges, the server's sockets say what they need.
func TestSocketsNamePrivilege(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("packet sockets are Linux's")
	}
	if os.Geteuid() == 0 {
		t.Skip("run as root: the sockets open; see the tests as nobody in cmd/leased")
	}
	_, err := OpenLinkSender()
	if err == nil || !strings.Contains(err.Error(), "CAP_NET_RAW") || !errors.Is(err, syscall.EPERM) {
		t.Errorf("OpenLinkSender without CAP_NET_RAW: %v", err)
	}
}

//go:build linux

package control

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The child processes the tests below start run this test binary again,
// as the user nobody, with childEnv naming what to do.
const childEnv = "LEASED_CONTROL_TEST_CHILD"

// nobody is the user the children run as.
const nobody = 65534

// TestChildProcess is not a test: it is the body of the child processes
// (see childEnv), and returns at once in a normal run.
func TestChildProcess(t *testing.T) {
	switch os.Getenv(childEnv) {
	case "probe":
		os.Exit(probeSocket(os.Getenv("LEASED_CONTROL_TEST_SOCKET")))
	case "status":
		_, err := NewUnixClient(os.Getenv("LEASED_CONTROL_TEST_SOCKET")).Status(context.Background())
		fmt.Println(err)
		os.Exit(0)
	}
}

// probeSocket connects to the socket at path, again and again as fast as
// it can, until its standard input closes; then it prints how many
// connections were accepted and how many were refused for want of
// permission, and returns the exit code.
func probeSocket(path string) int {
	var stop atomic.Bool
	go func() { io.Copy(io.Discard, os.Stdin); stop.Store(true) }()
	fmt.Println("ready")
	sa := &unix.SockaddrUnix{Name: path}
	var connected, denied int
	for !stop.Load() {
		fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			fmt.Println("socket:", err)
			return 1
		}
		switch err := unix.Connect(fd, sa); {
		case err == nil:
			connected++
		case errors.Is(err, unix.EACCES):
			denied++
		}
		unix.Close(fd)
	}
	fmt.Println(connected, denied)
	return 0
}

// asNobody returns the command that runs this test binary as the user
// nobody, in the child mode what, on the socket path. The binary is
// copied to a directory nobody can read, since go test builds it in one
// only its owner can.
func asNobody(t *testing.T, what, path string) *exec.Cmd {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root, to run a child process as the user nobody")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := openDir(t)
	bin := filepath.Join(dir, "control.test")
	b, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^TestChildProcess$")
	cmd.Env = append(os.Environ(), childEnv+"="+what, "LEASED_CONTROL_TEST_SOCKET="+path)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	cmd.Stderr = os.Stderr
	return cmd
}

// openDir returns a new directory that every user may enter and read,
// removed at the end of the test.
func openDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "leased-ctl-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// withUmask sets the process's umask to mask for the rest of the test.
func withUmask(t *testing.T, mask int) {
	old := syscall.Umask(mask)
	t.Cleanup(func() { syscall.Umask(old) })
}

// Under umask 000, in a directory open to all, the socket is 0600 as soon
// as it exists; another user trying to connect all along, as fast as it
// can, is never let in, over many starts.
func TestListenUnixNeverOpenToOthers(t *testing.T) {
	withUmask(t, 0)
	dir := openDir(t)
	path := filepath.Join(dir, "control.sock")
	probe := asNobody(t, "probe", path)
	stdin, err := probe.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := probe.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := probe.Start(); err != nil {
		t.Fatal(err)
	}
	out := bufio.NewScanner(stdout)
	if !out.Scan() || out.Text() != "ready" {
		t.Fatalf("probe: %q %v", out.Text(), out.Err())
	}
	const starts = 300
	for i := range starts {
		ln, err := ListenUnix(path)
		if err != nil {
			t.Fatalf("start %d: %v", i, err)
		}
		fi, err := os.Lstat(path)
		if err != nil || fi.Mode().Perm() != 0o600 || fi.Mode().Type() != os.ModeSocket {
			t.Errorf("start %d: socket %v (%v), want a socket of mode 0600", i, fi.Mode(), err)
		}
		time.Sleep(100 * time.Microsecond) // let the probe meet the socket
		ln.Close()
	}
	stdin.Close()
	var connected, denied int
	if !out.Scan() {
		t.Fatalf("probe said nothing: %v", out.Err())
	}
	if _, err := fmt.Sscan(out.Text(), &connected, &denied); err != nil {
		t.Fatalf("probe: %q: %v", out.Text(), err)
	}
	if err := probe.Wait(); err != nil {
		t.Fatalf("probe: %v", err)
	}
	if connected != 0 {
		t.Errorf("the user nobody connected %d times to the socket over %d starts", connected, starts)
	}
	if denied == 0 {
		t.Errorf("the probe never met the socket (connected %d, denied 0): the test proves nothing", connected)
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 0 {
		t.Errorf("left in the socket's directory: %v %v", entries, err)
	}
}

// A user the socket's mode keeps out is told the mode, owner and group of
// the socket, and what to do.
func TestClientNamesSocketModeAndGroup(t *testing.T) {
	dir := openDir(t)
	path := filepath.Join(dir, "control.sock")
	cmd := asNobody(t, "status", path)
	ln, err := ListenUnix(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child: %v", err)
	}
	msg := strings.TrimSpace(string(out))
	for _, want := range []string{path, "permission denied", "mode 0600", "owner root", "group root", "run the command as root (sudo)"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
}

//go:build linux

package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// argsEnv, in the environment of a child process that runs this test
// binary, holds the arguments of run, separated by newlines.
const argsEnv = "LEASED_CMD_TEST_ARGS"

// TestChildRun is not a test: it is the body of the child processes that
// runAsNobody starts, and returns at once in a normal run.
func TestChildRun(t *testing.T) {
	args, ok := os.LookupEnv(argsEnv)
	if !ok {
		return
	}
	os.Exit(run(context.Background(), strings.Split(args, "\n"), os.Stdout, os.Stderr))
}

// runAsNobody runs "leased ARGS..." in a child process as the user nobody
// and returns its exit code and standard error. The test binary is copied
// to a directory nobody may read, since go test builds it in one only its
// owner can.
func runAsNobody(t *testing.T, args ...string) (int, string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root, to run a child process as the user nobody")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "leased-cmd-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	b, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "leased.test")
	if err := os.WriteFile(bin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^TestChildRun$")
	cmd.Env = append(os.Environ(), argsEnv+"="+strings.Join(args, "\n"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err = cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), stderr.String()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, stderr.String()
}

// Without root, the load generator's refusal to bind port 67 says what
// it needs. Nothing is sent: the socket is not opened.
func TestBenchWithoutPrivilegeSaysWhatItNeeds(t *testing.T) {
	skipIfPort67Open(t)
	code, stderr := runAsNobody(t, "bench", "--server", "198.18.0.1", "--local", "127.0.0.1:67", "--count", "1")
	if code != 1 || !strings.Contains(stderr, "bind: permission denied (this needs root or CAP_NET_BIND_SERVICE)") {
		t.Errorf("exit %d, stderr:\n%s\nwant 1 and the capability named", code, stderr)
	}
}

// skipIfPort67Open skips the test where every user may bind port 67.
func skipIfPort67Open(t *testing.T) {
	t.Helper()
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_unprivileged_port_start"); err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && n <= 67 {
			t.Skipf("every user may bind port 67 here (ip_unprivileged_port_start %d)", n)
		}
	}
}

// Without root, the relay's refusal to bind port 67 says what it needs.
// "lo" is the downstream interface: it exists everywhere, and nothing is
// sent.
func TestRelayWithoutPrivilegeSaysWhatItNeeds(t *testing.T) {
	skipIfPort67Open(t)
	code, stderr := runAsNobody(t, "relay", "-i", "lo", "--server", "198.18.0.1", "--listen", "127.0.0.1:67")
	if code != 1 || !strings.Contains(stderr, "bind: permission denied (this needs root or CAP_NET_BIND_SERVICE)") {
		t.Errorf("exit %d, stderr:\n%s\nwant 1 and the capability named", code, stderr)
	}
}

// Without root, the server's refusal to bind port 67 says what it needs.
// Its store is in a directory nobody may write, and nothing is sent: the
// socket is not opened.
func TestServerWithoutPrivilegeSaysWhatItNeeds(t *testing.T) {
	skipIfPort67Open(t)
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Dir(dir), 0o755); err != nil {
		t.Fatal(err)
	}
	code, stderr := runAsNobody(t, "server", "-i", "lo", "--range", "127.0.0.10-127.0.0.20",
		"--store", filepath.Join(dir, "store"), "--control", "", "--listen", "127.0.0.1:67")
	if code != 1 || !strings.Contains(stderr, "bind: permission denied (this needs root or CAP_NET_BIND_SERVICE)") {
		t.Errorf("exit %d, stderr:\n%s\nwant 1 and the capability named", code, stderr)
	}
}

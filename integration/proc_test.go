//go:build linux

package integration

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// proc is a process a test started in a namespace, with its output in a
// file. The process is the command itself: "ip netns exec" enters the
// namespace and then executes it in place, keeping the process ID.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  string // stdout and stderr
	done chan struct{}
	err  error // Wait's result, set before done closes
}

// startProc starts argv in h's namespace with the given environment (nil:
// a bare PATH), output to logPath. Cleanup stops it, by its process ID,
// if it is still running, and on a failed test prints the end of its
// output.
func startProc(t *testing.T, h *host, name, logPath string, env []string, argv ...string) *proc {
	t.Helper()
	out, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	p := &proc{name: name, cmd: h.command(argv...), log: logPath, done: make(chan struct{})}
	if env == nil {
		env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	}
	p.cmd.Env = env
	p.cmd.Stdout, p.cmd.Stderr = out, out
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		if !p.exited() {
			p.cmd.Process.Signal(syscall.SIGKILL)
			<-p.done
		}
		if t.Failed() {
			t.Logf("--- output of %s (%s), last lines:\n%s", name, strings.Join(argv, " "), tail(p.output(), 40))
		}
	})
	return p
}

// exited reports whether the process has ended.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// signal sends sig to the process unless it has ended.
func (p *proc) signal(sig syscall.Signal) error {
	if p.exited() {
		return fmt.Errorf("%s: signal %v: the process has ended (%v)", p.name, sig, p.err)
	}
	return p.cmd.Process.Signal(sig)
}

// wait waits up to timeout for the process to end and returns its exit
// error (nil for status 0).
func (p *proc) wait(timeout time.Duration) error {
	select {
	case <-p.done:
		return p.err
	case <-time.After(timeout):
		return fmt.Errorf("%s: still running after %v: %w", p.name, timeout, errTimeout)
	}
}

// stop sends sig and waits for the process to end; it returns the exit
// error. A process that outlives stopWait is killed.
func (p *proc) stop(sig syscall.Signal) error {
	if p.exited() {
		return p.err
	}
	p.cmd.Process.Signal(sig)
	err := p.wait(stopWait)
	if errors.Is(err, errTimeout) {
		p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.done
	}
	return err
}

// exitCode returns the process's exit status, or -1 if it has not
// ended or was killed by a signal.
func (p *proc) exitCode() int {
	if !p.exited() {
		return -1
	}
	return p.cmd.ProcessState.ExitCode()
}

// output returns what the process has written so far.
func (p *proc) output() string {
	b, _ := os.ReadFile(p.log)
	return string(b)
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

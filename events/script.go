package events

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os/exec"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"leased/escape"
)

// MaxOutput is how much of a hook's output is kept for the log; the rest
// is counted and left out.
const MaxOutput = 4096

// scriptPath is the PATH a script runs with: it inherits nothing else of
// the server's environment.
const scriptPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Script runs an executable per event, with the event in its environment
// (Record.Env) and as one JSON object on its standard input.
type Script struct {
	// Path is the executable.
	Path string
	// Timeout bounds a run: at it the script's process group is killed.
	Timeout time.Duration
	// Logger receives a line per failure and the script's output.
	Logger *slog.Logger

	failed, timedOut atomic.Uint64
}

// Failed counts the runs that failed (exited non-zero, could not start,
// or timed out); TimedOut those killed at the timeout.
func (s *Script) Failed() uint64   { return s.failed.Load() }
func (s *Script) TimedOut() uint64 { return s.timedOut.Load() }

// Handle runs the script for r and waits for it, at most Timeout.
func (s *Script) Handle(ctx context.Context, r *Record) {
	ctx, cancel := context.WithTimeout(ctx, s.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.Path)
	cmd.Env = append(r.Env(), scriptPath)
	cmd.Stdin = bytes.NewReader(append(r.AppendJSON(nil), '\n'))
	var out boundedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		// The whole group: a shell's children go with it.
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	// Children that keep the output open do not hold Wait past this.
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	log := s.Logger
	attrs := []any{"event", r.Type.String(), "addr", addrString(r.Addr), "script", s.Path}
	if text := out.String(); text != "" {
		attrs = append(attrs, "output", escape.Text(text))
		if n := out.lost; n > 0 {
			attrs = append(attrs, "output_dropped_bytes", n)
		}
	}
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		s.failed.Add(1)
		s.timedOut.Add(1)
		log.Warn("hook script killed at its timeout", append(attrs, "timeout", s.Timeout)...)
	case err != nil:
		s.failed.Add(1)
		log.Warn("hook script failed", append(attrs, "err", err)...)
	default:
		log.Debug("hook script ran", attrs...)
	}
}

// boundedBuffer keeps the first MaxOutput bytes written to it and counts
// the rest. It is safe for the two writers of a command's output.
type boundedBuffer struct {
	mu   sync.Mutex
	b    []byte
	lost int
}

func (w *boundedBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := min(len(p), MaxOutput-len(w.b))
	w.b = append(w.b, p[:n]...)
	w.lost += len(p) - n
	return len(p), nil
}

func (w *boundedBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return string(bytes.TrimSpace(w.b))
}

package events

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// writeScript writes an executable shell script into a test directory.
func writeScript(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "hook")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestScriptGetsEveryEventInOrder: a script that records its environment
// and standard input sees every event of a sequence, in order.
func TestScriptGetsEveryEventInOrder(t *testing.T) {
	out := filepath.Join(t.TempDir(), "events")
	path := writeScript(t, `printf '%s %s ' "$LEASED_EVENT" "$LEASED_ADDRESS" >>`+out+`; cat >>`+out+"\n")
	s := &Script{Path: path, Timeout: 10 * time.Second, Logger: slog.New(slog.DiscardHandler)}
	h := New(s, 4, nil, 64)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { h.Run(ctx); close(done) }()
	seq := []Type{Commit, Renew, Renew, Release, Commit, Expire, Commit, Decline}
	for _, typ := range seq {
		h.Publish(record(typ, "198.18.0.7"))
	}
	waitFor(t, func() bool { return h.Stats().Script.Done == uint64(len(seq)) })
	cancel()
	<-done
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != len(seq) {
		t.Fatalf("script ran %d times, want %d:\n%s", len(lines), len(seq), b)
	}
	for i, line := range lines {
		env, js, _ := strings.Cut(line, " {")
		if env != seq[i].String()+" 198.18.0.7" {
			t.Errorf("run %d: environment says %q, want %s 198.18.0.7", i, env, seq[i])
		}
		var m map[string]string
		if err := json.Unmarshal([]byte("{"+js), &m); err != nil || m["event"] != seq[i].String() {
			t.Errorf("run %d: stdin %q (%v), want the %s event", i, js, err, seq[i])
		}
	}
	if st := h.Stats().Script; st.Failed != 0 || st.TimedOut != 0 {
		t.Errorf("stats %+v, want no failure", st)
	}
}

// TestScriptKilledAtItsTimeout: a script that never ends, and its child,
// are killed at the timeout; the run is counted as timed out and logged.
func TestScriptKilledAtItsTimeout(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	path := writeScript(t, "sleep 1000 &\necho $! >"+pidFile+"\necho started\nwait\n")
	var logBuf syncBuffer
	s := &Script{Path: path, Timeout: 200 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(&logBuf, nil))}
	start := time.Now()
	s.Handle(context.Background(), record(Commit, "198.18.0.8"))
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("Handle took %v with a timeout of 200ms", took)
	}
	if s.TimedOut() != 1 || s.Failed() != 1 {
		t.Fatalf("timed out %d, failed %d; want 1, 1", s.TimedOut(), s.Failed())
	}
	if log := logBuf.String(); !strings.Contains(log, "killed at its timeout") || !strings.Contains(log, "started") {
		t.Errorf("log %q lacks the timeout or the output", log)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid := strings.TrimSpace(string(b))
	waitFor(t, func() bool {
		st, err := os.ReadFile("/proc/" + pid + "/stat")
		// Gone, or a zombie waiting for its reaper.
		return err != nil || strings.Contains(string(st), ") Z ")
	})
}

// TestScriptFailureIsCounted: a script that exits non-zero is counted
// and its output logged, bounded.
func TestScriptFailureIsCounted(t *testing.T) {
	path := writeScript(t, "head -c 100000 /dev/zero | tr '\\0' x\nexit 3\n")
	var logBuf syncBuffer
	s := &Script{Path: path, Timeout: 10 * time.Second, Logger: slog.New(slog.NewTextHandler(&logBuf, nil))}
	s.Handle(context.Background(), record(Release, "198.18.0.9"))
	if s.Failed() != 1 || s.TimedOut() != 0 {
		t.Fatalf("failed %d, timed out %d; want 1, 0", s.Failed(), s.TimedOut())
	}
	log := logBuf.String()
	if !strings.Contains(log, "exit status 3") || !strings.Contains(log, "output_dropped_bytes") || len(log) > 2*MaxOutput {
		t.Errorf("log of %d bytes: %.300q", len(log), log)
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

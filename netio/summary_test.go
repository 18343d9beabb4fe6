package netio

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"leased/dhcpv4"
	"leased/server"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func TestLogSummary(t *testing.T) {
	l := logSummary{every: time.Second}
	errA, errB := errors.New("a"), errors.New("b")
	if n, ok := l.note(t0, errA); !ok || n != 1 {
		t.Fatalf("first event: %d %v, want a line of 1", n, ok)
	}
	for i := range 9 {
		if _, ok := l.note(t0.Add(time.Duration(i+1)*50*time.Millisecond), errB); ok {
			t.Fatalf("event %d within the second got a line", i+2)
		}
	}
	if n, _ := l.flush(t0.Add(999 * time.Millisecond)); n != 0 {
		t.Errorf("flush before the second: %d", n)
	}
	if n, err := l.flush(t0.Add(time.Second)); n != 9 || err != errB {
		t.Errorf("flush after the second: %d %v, want 9 b", n, err)
	}
	if n, _ := l.flush(t0.Add(5 * time.Second)); n != 0 {
		t.Errorf("flush with nothing pending: %d", n)
	}
	if n, ok := l.note(t0.Add(5*time.Second), errA); !ok || n != 1 {
		t.Errorf("an event after a quiet second: %d %v, want a line of 1", n, ok)
	}
	l.note(t0.Add(5*time.Second+time.Millisecond), errB)
	if n, err := l.drain(); n != 1 || err != errB {
		t.Errorf("drain: %d %v, want 1 b", n, err)
	}
	if n, _ := l.drain(); n != 0 {
		t.Errorf("drain again: %d", n)
	}
}

// syncBuffer is a log destination safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// failingHandler refuses every request as a store that cannot commit.
type failingHandler struct{}

func (failingHandler) Handle(ctx context.Context, req *dhcpv4.Packet, in server.Arrival, reply *dhcpv4.Packet) server.Outcome {
	return server.Outcome{Reason: server.ReasonCommitFailed, Type: dhcpv4.Request, Err: errors.New("journal: store is not writable: no space left on device")}
}

// Defect 6 of issue 23: 2,560 refused requests in 20 s wrote 2,560 ERROR
// lines. Now at most one a second, whose counts add up to every refusal,
// and the counters stay exact.
func TestCommitFailuresLoggedOncePerSecond(t *testing.T) {
	var buf syncBuffer
	now := t0
	s := &Server{
		opts:           Options{Clock: func() time.Time { return now }},
		log:            slog.New(slog.NewTextHandler(&buf, nil)), // info and up
		commitFailures: logSummary{every: time.Second},
	}
	w := newWorker(4)
	w.req.Op = dhcpv4.BootRequest
	w.req.SetHardwareAddr(1, []byte{2, 0, 0, 0, 0, 1})
	in := server.Arrival{IfName: "eth0"}
	const total = 2560
	for i := range total {
		now = t0.Add(time.Duration(i) * 20 * time.Second / total)
		s.handle(context.Background(), failingHandler{}, w, &in)
		if i%100 == 0 {
			s.flushCommitFailures(context.Background()) // the ticker
		}
	}
	now = now.Add(2 * time.Second)
	s.flushCommitFailures(context.Background())
	if got := s.Stats().Outcomes["commit-failed"]; got != total {
		t.Errorf("commit-failed counted %d, want %d", got, total)
	}
	lines := regexp.MustCompile(`level=ERROR msg="lease store commits failed; requests not acknowledged" event=commit-failed count=(\d+) err=`).FindAllStringSubmatch(buf.String(), -1)
	if len(lines) == 0 || len(lines) > 21 {
		t.Fatalf("%d error lines for 20 s, want 1 to 21:\n%s", len(lines), buf.String())
	}
	sum := 0
	for _, m := range lines {
		n, _ := strconv.Atoi(m[1])
		sum += n
	}
	if sum != total {
		t.Errorf("the error lines count %d refusals, want %d", sum, total)
	}
	if got := regexp.MustCompile(`(?m)^.*level=ERROR`).FindAllString(buf.String(), -1); len(got) != len(lines) {
		t.Errorf("%d ERROR lines, %d of them summaries:\n%s", len(got), len(lines), buf.String())
	}
}

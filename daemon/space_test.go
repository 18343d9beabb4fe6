package daemon

import (
	"context"
	"strings"
	"testing"
	"time"

	"leased/lease"
)

func TestSpaceWarnerWarnsBeforeFullAndRateLimits(t *testing.T) {
	log, buf := newLog()
	w := NewSpaceWarner(log, 5*time.Minute)
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	room := lease.StoreStats{Writable: true, FreeBytes: 64 << 20, SnapshotBytes: 2 << 20}
	low := lease.StoreStats{Writable: true, FreeBytes: 3 << 20, SnapshotBytes: 2 << 20}
	unknown := lease.StoreStats{Writable: true, FreeBytes: -1, SnapshotBytes: 2 << 20}
	steps := []struct {
		at   time.Duration
		st   lease.StoreStats
		logs bool
	}{
		{0, room, false},
		{10 * time.Second, unknown, false},
		{20 * time.Second, low, true},                 // becomes low: warn at once, while still writable
		{30 * time.Second, low, false},                // stays low: quiet
		{5*time.Minute + 10*time.Second, low, false},  // not yet the repeat interval
		{5*time.Minute + 20*time.Second, low, true},   // the repeat interval: warn again
		{5*time.Minute + 30*time.Second, room, true},  // room again: say so
		{5*time.Minute + 40*time.Second, room, false}, // and only once
		{5*time.Minute + 50*time.Second, low, true},   // low again: warn at once
	}
	for i, s := range steps {
		if got := w.Check(t0.Add(s.at), s.st); got != s.logs {
			t.Errorf("step %d (%v): logged %v, want %v\n%s", i, s.at, got, s.logs, buf)
		}
	}
	out := buf.String()
	if n := strings.Count(out, "level=WARN msg=\"lease store: the disk is about to fill"); n != 3 {
		t.Errorf("%d warnings, want 3:\n%s", n, out)
	}
	if !strings.Contains(out, "free_bytes=3145728 snapshot_bytes=2097152") {
		t.Errorf("the warning does not say the free space and the snapshot size:\n%s", out)
	}
	if n := strings.Count(out, "free space is back"); n != 1 {
		t.Errorf("%d lines of space back, want 1:\n%s", n, out)
	}
}

func TestWatchSpaceChecksAtEveryTick(t *testing.T) {
	log, buf := newLog()
	w := NewSpaceWarner(log, time.Hour)
	ticks := make(chan time.Time)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	calls := 0
	stats := func() lease.StoreStats {
		calls++
		return lease.StoreStats{FreeBytes: 1, SnapshotBytes: 100}
	}
	go func() {
		WatchSpace(ctx, ticks, time.Now, stats, w)
		close(done)
	}()
	ticks <- time.Time{}
	ticks <- time.Time{}
	cancel()
	<-done
	if calls != 2 {
		t.Errorf("stats read %d times, want 2", calls)
	}
	if n := strings.Count(buf.String(), "about to fill"); n != 1 {
		t.Errorf("%d warnings, want 1:\n%s", n, buf)
	}
}

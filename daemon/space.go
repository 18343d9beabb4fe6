package daemon

import (
	"context"
	"log/slog"
	"time"

	"leased/lease"
)

// DefaultSpaceCheckInterval is how often a server looks at the free space
// of its lease store's file system.
const DefaultSpaceCheckInterval = 10 * time.Second

// DefaultSpaceWarnRepeat is how often SpaceWarner repeats its warning
// while the space stays low.
const DefaultSpaceWarnRepeat = 5 * time.Minute

// SpaceWarner warns in the log before the lease store's file system is
// full (lease.StoreStats.LowOnSpace: free space below twice the snapshot
// the store needs): when the space becomes low, then at most once per
// repeat interval while it stays low; and it says when there is room
// again. Its zero value is not usable; make one with NewSpaceWarner.
type SpaceWarner struct {
	log    *slog.Logger
	repeat time.Duration
	low    bool      // the space was low at the last Check
	warned time.Time // when the last warning was logged
}

// NewSpaceWarner returns a SpaceWarner that logs to log and repeats its
// warning every repeat (DefaultSpaceWarnRepeat when repeat is 0 or less).
func NewSpaceWarner(log *slog.Logger, repeat time.Duration) *SpaceWarner {
	if repeat <= 0 {
		repeat = DefaultSpaceWarnRepeat
	}
	return &SpaceWarner{log: log, repeat: repeat}
}

// Check looks at st, read at now, and logs as described on SpaceWarner.
// It reports whether it logged. It is not safe for concurrent use.
func (w *SpaceWarner) Check(now time.Time, st lease.StoreStats) bool {
	low := st.LowOnSpace()
	was := w.low
	w.low = low
	switch {
	case low && (!was || now.Sub(w.warned) >= w.repeat || now.Before(w.warned)):
		w.warned = now
		w.log.Warn("lease store: the disk is about to fill; free space now, or new leases will be refused",
			"free_bytes", st.FreeBytes, "snapshot_bytes", st.SnapshotBytes, "writable", st.Writable)
		return true
	case !low && was:
		w.log.Info("lease store: free space is back above twice the snapshot size",
			"free_bytes", st.FreeBytes, "snapshot_bytes", st.SnapshotBytes)
		return true
	}
	return false
}

// WatchSpace calls w.Check with stats() at every tick until ctx ends.
func WatchSpace(ctx context.Context, ticks <-chan time.Time, clock func() time.Time, stats func() lease.StoreStats, w *SpaceWarner) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticks:
			w.Check(clock(), stats())
		}
	}
}

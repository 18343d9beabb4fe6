package journal

import (
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// heldFile counts the syncs of a log file by kind; a held sync moves the
// clock on by *took.
type heldFile struct {
	file
	clock         *fakeClock
	took          *atomic.Int64
	held, yielded *atomic.Int64
}

func (h heldFile) Datasync() error {
	h.yielded.Add(1)
	return h.file.Datasync()
}

func (h heldFile) DatasyncHeld() error {
	h.held.Add(1)
	h.clock.advance(time.Duration(h.took.Load()))
	return h.file.Datasync()
}

func TestLogSyncsYieldAfterASlowOne(t *testing.T) {
	clock := &fakeClock{}
	clock.advance(time.Hour)
	var took, held, yielded atomic.Int64
	took.Store(int64(time.Millisecond))
	open := func(name string, flag int, perm os.FileMode) (file, error) {
		f, err := openOS(name, flag, perm)
		if _, isLog := parseLogName(filepath.Base(name)); err != nil || !isLog {
			return f, err
		}
		return heldFile{file: f, clock: clock, took: &took, held: &held, yielded: &yielded}, nil
	}
	h := &countHandler{counts: map[slog.Level]int{}}
	s := openT(t, t.TempDir(), Options{openFile: open, Now: clock.now, CompactMinBytes: -1, Logger: slog.New(h)})
	syncs := func() (int64, int64) { return held.Load(), yielded.Load() }
	_, y0 := syncs() // the new log's header

	commitT(t, s, testLease(1, "a", 1))
	if hd, y := syncs(); hd != 1 || y != y0 {
		t.Fatalf("a quick disk: %d held and %d yielding syncs, want 1 and %d", hd, y, y0)
	}

	took.Store(int64(20 * time.Millisecond)) // the disk stalls once
	commitT(t, s, testLease(2, "b", 1))
	commitT(t, s, testLease(3, "c", 1))
	if hd, y := syncs(); hd != 2 || y != y0+1 {
		t.Fatalf("after a slow sync: %d held and %d yielding syncs, want 2 and %d", hd, y, y0+1)
	}
	if h.counts[slog.LevelWarn] != 1 {
		t.Errorf("%d warnings for the slow sync, want 1", h.counts[slog.LevelWarn])
	}

	took.Store(int64(time.Millisecond))
	clock.advance(heldSyncRest)
	commitT(t, s, testLease(4, "d", 1))
	if hd, y := syncs(); hd != 3 || y != y0+1 {
		t.Fatalf("after the rest: %d held and %d yielding syncs, want 3 and %d", hd, y, y0+1)
	}
	for i := 1; i <= 4; i++ {
		if _, ok := contents(s)[addrN(i)]; !ok {
			t.Errorf("lease %d missing", i)
		}
	}
}

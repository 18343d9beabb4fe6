package journal

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"leased/lease"
)

func TestWriteErrorsFailCommitAndLoseNothing(t *testing.T) {
	tests := []struct {
		name     string
		write    error // injected on log writes
		sync     error // injected on data syncs
		partial  bool  // the failing write writes half its bytes
		failures int   // how many writes or syncs fail in a row
		errno    error // what Commit's error must wrap
	}{
		{name: "disk full on write", write: errDiskFull, failures: 1, errno: syscall.ENOSPC},
		{name: "disk full after half the batch", write: errDiskFull, partial: true, failures: 1, errno: syscall.ENOSPC},
		{name: "I/O error on fdatasync", sync: errIO, failures: 1, errno: syscall.EIO},
		{name: "disk stays full through several repair attempts", write: errDiskFull, partial: true, failures: 4, errno: syscall.ENOSPC},
		{name: "fdatasync keeps failing through repair attempts", sync: errIO, failures: 3, errno: syscall.EIO},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			f := &faults{}
			clock := &fakeClock{}
			h := &countHandler{}
			s := openT(t, dir, Options{openFile: f.open, Now: clock.now, Logger: slog.New(h)})
			ctx := context.Background()
			want := make(map[netip.Addr]lease.Lease)
			for i := range 10 {
				l := testLease(i, "ok", 1)
				commitT(t, s, l)
				want[l.Addr] = l
			}

			f.set(tt.write, tt.sync, tt.failures, tt.partial)
			err := s.Commit(ctx, testLease(1, "lost", 2), testLease(20, "lost", 2))
			if !errors.Is(err, tt.errno) {
				t.Fatalf("Commit with a failing disk: %v, want an error wrapping %v", err, tt.errno)
			}
			if st := s.Stats(); st.Writable || st.WriteErrors != 1 || st.FailedCommits != 1 {
				t.Errorf("after the failure: Writable %v, WriteErrors %d, FailedCommits %d; want false, 1, 1",
					st.Writable, st.WriteErrors, st.FailedCommits)
			}
			checkContents(t, "after a failed commit", s, want)

			// A crash now must lose nothing acknowledged, whatever the
			// failed write left in the log.
			crashed := copyDir(t, dir)
			c, err := Open(crashed, Options{})
			if err != nil {
				t.Fatalf("crash after the failure: Open: %v", err)
			}
			got := contents(c)
			c.Close()
			for a, l := range want {
				if g, ok := got[a]; !ok || !sameLease(g, l) && g.ClientID != "\x01lost" {
					t.Errorf("crash after the failure: %v = %+v, want %+v", a, g, l)
				}
			}

			// Within the pause, commits fail at once without touching
			// the disk.
			writes := f.writes.Load()
			if err := s.Commit(ctx, testLease(30, "x", 1)); err == nil {
				t.Errorf("commit within the retry pause succeeded")
			}
			if f.writes.Load() != writes {
				t.Errorf("commit within the retry pause wrote to the disk")
			}

			// Keep trying until the disk recovers.
			var ok bool
			for range tt.failures + 3 {
				clock.advance(maxRetryInterval)
				if err := s.Commit(ctx, testLease(40, "after", 1)); err == nil {
					ok = true
					break
				}
			}
			if !ok {
				t.Fatalf("the store did not recover when the disk did")
			}
			want[addrN(40)] = testLease(40, "after", 1)
			if h.count(slog.LevelError) != 1 {
				t.Errorf("%d errors logged for one burst, want 1: %q", h.count(slog.LevelError), h.msgs)
			}
			// The repair resumes commits at once and writes the snapshot
			// that makes the suspect log obsolete right after.
			waitFor(t, "a repair snapshot", func() bool { return s.Stats().Compactions > 0 })
			if st := s.Stats(); !st.Writable || st.Compactions == 0 {
				t.Errorf("after recovery: Writable %v, Compactions %d; want a repair snapshot", st.Writable, st.Compactions)
			}
			for i := 50; i < 55; i++ {
				l := testLease(i, "more", 1)
				commitT(t, s, l)
				want[l.Addr] = l
			}
			// The failed commit's records may or may not be there.
			got = contents(s)
			for _, a := range []netip.Addr{addrN(1), addrN(20)} {
				if g, ok := got[a]; ok && g.ClientID == "\x01lost" {
					want[a] = g
				}
			}
			checkContents(t, "after recovery", s, want)
			if err := s.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
			s2 := openT(t, dir, Options{})
			checkContents(t, "after reopen", s2, want)
		})
	}
}

func TestCompactionFailureKeepsCommitting(t *testing.T) {
	tests := []struct {
		name  string
		write error
		sync  error
	}{
		{name: "snapshot write fails with disk full", write: errDiskFull},
		{name: "snapshot fdatasync fails", sync: errIO},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			f := &faults{only: snapshotTemp}
			s := openT(t, dir, Options{openFile: f.open, CompactMinBytes: -1})
			want := make(map[netip.Addr]lease.Lease)
			for i := range 10 {
				l := testLease(i, "c", 1)
				commitT(t, s, l)
				want[l.Addr] = l
			}
			f.set(tt.write, tt.sync, -1, false)
			if err := s.Compact(context.Background()); err == nil {
				t.Fatal("Compact with a failing snapshot succeeded")
			}
			if st := s.Stats(); st.CompactionErrors != 1 || !st.Writable {
				t.Errorf("CompactionErrors %d, Writable %v; want 1, true", st.CompactionErrors, st.Writable)
			}
			if _, err := os.Stat(filepath.Join(dir, snapshotTemp)); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("failed compaction left %s: %v", snapshotTemp, err)
			}
			for i := 10; i < 20; i++ {
				l := testLease(i, "c", 1)
				commitT(t, s, l)
				want[l.Addr] = l
			}
			checkContents(t, "after the failed compaction", s, want)
			crashed := copyDir(t, dir)
			c := openT(t, crashed, Options{})
			checkContents(t, "crash after the failed compaction", c, want)

			f.set(nil, nil, 0, false)
			if err := s.Compact(context.Background()); err != nil {
				t.Fatalf("Compact after the disk recovered: %v", err)
			}
			if n := len(logFiles(t, dir)); n != 1 {
				t.Errorf("%d logs after compaction, want 1", n)
			}
			s.Close()
			s = openT(t, dir, Options{})
			checkContents(t, "reopened", s, want)
		})
	}
}

package journal

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"leased/lease"
)

// buildStore commits n leases, one per commit, and returns them.
func buildStore(t *testing.T, dir string, n int) map[netip.Addr]lease.Lease {
	t.Helper()
	s := openT(t, dir, Options{})
	want := make(map[netip.Addr]lease.Lease)
	for i := range n {
		l := testLease(i, "c", i)
		commitT(t, s, l)
		want[l.Addr] = l
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return want
}

func TestTornTailEveryOffset(t *testing.T) {
	dir := t.TempDir()
	want := buildStore(t, dir, 5)
	last := testLease(100, "last", 1)
	s := openT(t, dir, Options{})
	before := s.Stats().LogBytes // where the next batch goes: the log is the only one
	commitT(t, s, last)
	end := s.Stats().LogBytes
	s.Close()
	log := logFiles(t, dir)[0]
	full, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(full)) < end || end-before != batchHeaderSize+int64(len(appendRecord(nil, &last))) {
		t.Fatalf("log of %d bytes, last batch at [%d, %d)", len(full), before, end)
	}
	for cut := before; cut < end; cut++ {
		d := t.TempDir()
		if err := os.WriteFile(filepath.Join(d, filepath.Base(log)), full[:cut], 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := Open(d, Options{})
		if err != nil {
			t.Fatalf("cut at %d: Open: %v", cut, err)
		}
		checkContents(t, "torn tail", s, want)
		// The store must go on cleanly after the cut.
		commitT(t, s, last)
		s.Close()
		s, err = Open(d, Options{})
		if err != nil {
			t.Fatalf("cut at %d: reopen after commit: %v", cut, err)
		}
		w2 := map[netip.Addr]lease.Lease{last.Addr: last}
		for a, l := range want {
			w2[a] = l
		}
		checkContents(t, "after cut and commit", s, w2)
		s.Close()
	}
}

func TestRecoveryOfDamagedLog(t *testing.T) {
	type damage func(t *testing.T, log string, b []byte, batches []int64) []byte
	tests := []struct {
		name string
		// damage edits the log bytes; batches are the batch offsets.
		damage  damage
		corrupt bool  // Open must fail with a *CorruptError
		offset  int64 // ... at this offset (-1: the last batch's)
		lost    []int // the leases lost (by index; -1 = last)
	}{
		{
			name:   "zeros after the last batch are a torn tail",
			damage: func(_ *testing.T, _ string, b []byte, _ []int64) []byte { return append(b, make([]byte, 4096)...) },
		},
		{
			name: "random bytes after the last batch are a torn tail",
			damage: func(_ *testing.T, _ string, b []byte, _ []int64) []byte {
				r := rand.New(rand.NewPCG(1, 2))
				for range 3000 {
					b = append(b, byte(r.Uint32()))
				}
				return b
			},
		},
		{
			name: "last batch with a zeroed page in the middle is a torn tail",
			damage: func(_ *testing.T, _ string, b []byte, batches []int64) []byte {
				o := batches[len(batches)-1]
				clear(b[o+batchHeaderSize+20 : o+batchHeaderSize+40])
				return b
			},
			lost: []int{-1},
		},
		{
			name: "last batch with its header zeroed is a torn tail",
			damage: func(_ *testing.T, _ string, b []byte, batches []int64) []byte {
				o := batches[len(batches)-1]
				clear(b[o : o+batchHeaderSize])
				return b
			},
			lost: []int{-1},
		},
		{
			name: "flipped bit in a middle record is corruption at its batch",
			damage: func(_ *testing.T, _ string, b []byte, batches []int64) []byte {
				b[batches[2]+batchHeaderSize+10] ^= 0x40
				return b
			},
			corrupt: true, offset: 2, lost: []int{2},
		},
		{
			name: "zeroed middle batch header is corruption",
			damage: func(_ *testing.T, _ string, b []byte, batches []int64) []byte {
				clear(b[batches[1] : batches[1]+batchHeaderSize])
				return b
			},
			corrupt: true, offset: 1, lost: []int{1},
		},
		{
			name: "flipped bit in the log header is corruption",
			damage: func(_ *testing.T, _ string, b []byte, _ []int64) []byte {
				b[3] ^= 1
				return b
			},
			corrupt: true, offset: 0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			want := buildStore(t, dir, 6)
			log := logFiles(t, dir)[0]
			b, err := os.ReadFile(log)
			if err != nil {
				t.Fatal(err)
			}
			// Cut the zeros filled ahead of the log's end, find the batches.
			var batches []int64
			o := int64(fileHeaderSize)
			for {
				_, end, berr := readBatch(newWindow(strings.NewReader(string(b)), int64(len(b))), o)
				if berr != nil {
					break
				}
				batches = append(batches, o)
				o = end
			}
			if len(batches) != 6 || strings.Trim(string(b[o:]), "\x00") != "" {
				t.Fatalf("fresh log: %d batches, then %d bytes not all zero", len(batches), len(b)-int(o))
			}
			b = tt.damage(t, log, b[:o], batches)
			if err := os.WriteFile(log, b, 0o600); err != nil {
				t.Fatal(err)
			}
			for _, i := range tt.lost {
				if i < 0 {
					i = len(batches) - 1
				}
				delete(want, addrN(i))
			}
			s, err := Open(dir, Options{})
			if tt.corrupt {
				var ce *CorruptError
				if !errors.As(err, &ce) {
					if err == nil {
						s.Close()
					}
					t.Fatalf("Open: %v, want a *CorruptError", err)
				}
				wantOff := tt.offset
				if wantOff > 0 {
					wantOff = batches[wantOff]
				}
				if ce.Offset != wantOff || ce.File != log {
					t.Errorf("corruption reported in %s at %d, want %s at %d", ce.File, ce.Offset, log, wantOff)
				}
				if !strings.Contains(err.Error(), log) {
					t.Errorf("error %q does not name the file", err)
				}
				// Nothing was changed by the refusal.
				if b2, _ := os.ReadFile(log); string(b2) != string(b) {
					t.Errorf("refused Open changed the log")
				}
				h := &countHandler{}
				s, err = Open(dir, Options{Salvage: true, Logger: slog.New(h)})
				if err != nil {
					t.Fatalf("Open with salvage: %v", err)
				}
				if h.count(slog.LevelWarn) == 0 {
					t.Errorf("salvage logged no warning")
				}
				if tt.offset == 0 {
					// Records are still salvaged past a bad log header.
					got := contents(s)
					if len(got) != len(want) {
						t.Errorf("salvage past a bad log header kept %d of %d records", len(got), len(want))
					}
				}
				checkContents(t, "salvaged", s, want)
				s.Close()
				// Salvage leaves a clean store.
				s, err = Open(dir, Options{})
				if err != nil {
					t.Fatalf("Open after salvage: %v", err)
				}
				checkContents(t, "after salvage", s, want)
				s.Close()
				return
			}
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			checkContents(t, "recovered", s, want)
			s.Close()
			fi, _ := os.Stat(log)
			if got := fi.Size(); got > int64(len(b)) {
				t.Errorf("log grew")
			}
		})
	}
}

func TestRecoveryRefusesDamagedStore(t *testing.T) {
	tests := []struct {
		name   string
		damage func(t *testing.T, dir string)
		want   string
	}{
		{
			name: "missing log between snapshot and last log",
			damage: func(t *testing.T, dir string) {
				logs := logFiles(t, dir)
				if len(logs) < 2 {
					t.Fatalf("want two logs, have %v", logs)
				}
				os.Remove(logs[0])
			},
			want: "log is missing",
		},
		{
			name: "snapshot cut short",
			damage: func(t *testing.T, dir string) {
				name := filepath.Join(dir, snapshotName)
				fi, _ := os.Stat(name)
				os.Truncate(name, fi.Size()-10)
			},
			want: "record:",
		},
		{
			name: "flipped bit in a snapshot record",
			damage: func(t *testing.T, dir string) {
				name := filepath.Join(dir, snapshotName)
				b, _ := os.ReadFile(name)
				b[fileHeaderSize+20] ^= 8
				os.WriteFile(name, b, 0o600)
			},
			want: "checksum",
		},
		{
			name: "bytes after the last snapshot record",
			damage: func(t *testing.T, dir string) {
				name := filepath.Join(dir, snapshotName)
				b, _ := os.ReadFile(name)
				os.WriteFile(name, append(b, 1, 2, 3), 0o600)
			},
			want: "after the last record",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s := openT(t, dir, Options{CompactMinBytes: -1})
			want := make(map[netip.Addr]lease.Lease)
			for i := range 10 {
				l := testLease(i, "c", i)
				commitT(t, s, l)
				want[l.Addr] = l
			}
			if err := s.Compact(context.Background()); err != nil {
				t.Fatal(err)
			}
			// Keep a second log after the snapshot's one: an unfinished
			// compaction's rotation.
			for i := 10; i < 15; i++ {
				l := testLease(i, "c", i)
				commitT(t, s, l)
				want[l.Addr] = l
			}
			s.w.maxGen++
			f, err := s.createLog(s.w.maxGen, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.Close()
			s.Close()
			if got := len(logFiles(t, dir)); got != 2 {
				t.Fatalf("%d logs, want 2", got)
			}
			tt.damage(t, dir)
			_, err = Open(dir, Options{})
			var ce *CorruptError
			if !errors.As(err, &ce) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Open: %v, want a *CorruptError mentioning %q", err, tt.want)
			}
			s, err = Open(dir, Options{Salvage: true})
			if err != nil {
				t.Fatalf("Open with salvage: %v", err)
			}
			got := contents(s)
			if len(got) == 0 || len(got) > len(want) {
				t.Errorf("salvage kept %d records of %d", len(got), len(want))
			}
			for a, l := range got {
				if !sameLease(l, want[a]) {
					t.Errorf("salvage kept %+v, want %+v", l, want[a])
				}
			}
			s.Close()
			s = openT(t, dir, Options{})
			checkContents(t, "after salvage", s, got)
		})
	}
}

// TestCrashDuringCompaction copies the store directory at every step of a
// compaction and of a repair, as a crash at that step would leave it, and
// checks that each copy recovers every acknowledged record.
func TestCrashDuringCompaction(t *testing.T) {
	dir := t.TempDir()
	var (
		mu     sync.Mutex
		copies []string
		steps  []string
		want   map[netip.Addr]lease.Lease
		wants  []map[netip.Addr]lease.Lease
	)
	snapshot := func(step string) {
		mu.Lock()
		defer mu.Unlock()
		steps = append(steps, step)
		copies = append(copies, copyDir(t, dir))
		w := make(map[netip.Addr]lease.Lease, len(want))
		for a, l := range want {
			w[a] = l
		}
		wants = append(wants, w)
	}
	f := &faults{}
	clock := &fakeClock{}
	s := openT(t, dir, Options{CompactMinBytes: -1, openFile: f.open, Now: clock.now, hook: snapshot})
	want = make(map[netip.Addr]lease.Lease)
	commit := func(ls ...lease.Lease) {
		commitT(t, s, ls...)
		mu.Lock()
		for _, l := range ls {
			if l.State == lease.Free {
				delete(want, l.Addr)
			} else {
				want[l.Addr] = l
			}
		}
		mu.Unlock()
	}
	for round := range 3 {
		for i := range 20 {
			commit(testLease(i, "c", round*100+i))
		}
		commit(lease.Lease{Addr: addrN(round), State: lease.Free})
		if err := s.Compact(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	// A repair after a failed sync.
	f.set(nil, errIO, 1, false)
	if err := s.Commit(context.Background(), testLease(50, "x", 1)); err == nil {
		t.Fatal("commit with a failing sync succeeded")
	}
	clock.advance(DefaultRetryInterval)
	commit(testLease(51, "x", 1))
	s.Close()
	snapshot("closed")

	seen := make(map[string]bool)
	for i, d := range copies {
		seen[steps[i]] = true
		s, err := Open(d, Options{})
		if err != nil {
			t.Errorf("crash at step %d (%s): Open: %v", i, steps[i], err)
			continue
		}
		// The records of the commit during which the repair ran may be
		// there or not; everything acknowledged before must be.
		got := contents(s)
		for _, maybe := range []int{50, 51} {
			if _, ok := wants[i][addrN(maybe)]; !ok {
				delete(got, addrN(maybe))
			}
		}
		checkMap(t, "crash at step "+steps[i], got, wants[i])
		s.Close()
	}
	for _, step := range []string{stepLogCreated, stepSnapshotWritten, stepSnapshotSynced, stepSnapshotRenamed, stepSnapshotDurable, stepLogRemoved, stepCompactionDone, stepRepaired} {
		if !seen[step] {
			t.Errorf("step %s never happened", step)
		}
	}
}

package journal

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"syscall"
	"testing"
	"time"

	"leased/lease"
)

// faultCase is a run of TestStorageFaults.
type faultCase struct {
	op    fsOp
	errno syscall.Errno
	when  string
}

// When the crash comes in TestStorageFaults.
const (
	crashBeforeRepair   = "crash before repair"
	restartBeforeRepair = "restart before repair"
	crashAfterRepair    = "crash after repair"
)

// TestStorageFaults runs the store on the strict file system model,
// injects each error into each kind of operation the store performs, and
// crashes (or restarts the process) before or after the store repaired
// itself. Whatever happens: no commit returns nil before its record is
// synced; the store opens after the crash, twice, with the fault still
// there; every acknowledged lease is recovered; and a failed commit is
// absent or, where the package documentation allows, present as its own
// record.
func TestStorageFaults(t *testing.T) {
	for _, op := range []fsOp{opWrite, opExtend, opDatasync, opCreate, opRename, opTruncate, opRemove, opSyncDir} {
		for _, errno := range []syscall.Errno{syscall.EIO, syscall.ENOSPC} {
			for _, when := range []string{crashBeforeRepair, restartBeforeRepair, crashAfterRepair} {
				tc := faultCase{op: op, errno: errno, when: when}
				t.Run(fmt.Sprintf("%v %s %s", op, errnoName(errno), when), func(t *testing.T) {
					tc.run(t)
				})
			}
		}
	}
}

func errnoName(e syscall.Errno) string {
	if e == syscall.EIO {
		return "EIO"
	}
	return "ENOSPC"
}

// faultStore is the store and what the test knows of its commits.
type faultStore struct {
	t      *testing.T
	m      *memFS
	clock  *fakeClock
	acked  map[netip.Addr]lease.Lease // acknowledged commits
	failed map[netip.Addr]lease.Lease // failed commits, one lease each
	// strict: a failed commit must be absent. Only a failed write can
	// leave (part of) the batch in the page cache, for the kernel to write
	// later; after a failed fdatasync the batch is never written.
	strict bool
}

const faultDir = "/store"

func (fs *faultStore) open(p *memProc, logger *slog.Logger) (*Store, error) {
	return Open(faultDir, Options{fs: p, Now: fs.clock.now, RetryInterval: time.Millisecond,
		CompactMinBytes: -1, Logger: logger})
}

// commit commits lease n in s and records the outcome. A commit that
// returns nil must be durable: a crash now must recover it.
func (fs *faultStore) commit(s *Store, n int, v int) error {
	t := fs.t
	t.Helper()
	l := testLease(n, fmt.Sprintf("c%d", n), v)
	err := s.Commit(context.Background(), l)
	if err != nil {
		fs.failed[l.Addr] = l
		return err
	}
	delete(fs.failed, l.Addr)
	fs.acked[l.Addr] = l
	c := fs.m.clone()
	c.crash()
	r, rerr := Open(faultDir, Options{fs: c.process(), ReadOnly: true})
	if rerr != nil {
		t.Fatalf("commit of %v returned nil; a crash then: Open: %v", l.Addr, rerr)
	}
	if g, ok := contents(r)[l.Addr]; !ok || !sameLease(g, l) {
		t.Errorf("commit of %v returned nil before its record was synced: a crash then recovers %+v", l.Addr, g)
	}
	return nil
}

// check fails t unless s holds every acknowledged lease, and each failed
// commit is absent or, unless strict, present as its own record.
func (fs *faultStore) check(what string, s *Store) {
	t := fs.t
	t.Helper()
	got := contents(s)
	for a, l := range fs.acked {
		if g, ok := got[a]; !ok || !sameLease(g, l) {
			t.Errorf("%s: acknowledged %v recovered as %+v (present %v)", what, a, g, ok)
		}
	}
	for a, l := range fs.failed {
		g, ok := got[a]
		switch {
		case !ok:
		case fs.strict:
			t.Errorf("%s: the failed commit of %v came back", what, a)
		case !sameLease(g, l):
			t.Errorf("%s: the failed commit of %v came back as %+v, not its own record", what, a, g)
		}
	}
	for a := range got {
		if _, ok := fs.acked[a]; !ok {
			if _, ok := fs.failed[a]; !ok {
				t.Errorf("%s: unexpected lease %v", what, a)
			}
		}
	}
}

// reopenTwice opens the store twice in a row on m as it is, with the
// fault injected again into every operation of its kind, and checks it
// each time; with crash, the machine crashes between the two.
func (fs *faultStore) reopenTwice(what string, tc faultCase, crash bool) {
	t := fs.t
	t.Helper()
	for i := range 2 {
		fs.m.fail(tc.op, tc.errno, 0, -1)
		p := fs.m.process()
		s, err := fs.open(p, nil)
		if err != nil {
			t.Fatalf("%s, open %d with the fault: %v", what, i+1, err)
		}
		fs.check(fmt.Sprintf("%s, open %d with the fault", what, i+1), s)
		p.kill()
		s.Close()
		if crash {
			fs.m.crash()
		}
	}
	fs.m.heal()
}

func (tc faultCase) run(t *testing.T) {
	m := newMemFS()
	fs := &faultStore{t: t, m: m, clock: &fakeClock{}, acked: make(map[netip.Addr]lease.Lease),
		failed: make(map[netip.Addr]lease.Lease), strict: tc.op == opDatasync}
	h := &countHandler{}
	p := m.process()
	s, err := fs.open(p, slog.New(h))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	for i := range 10 {
		if err := fs.commit(s, i, 1); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	for i := 10; i < 15; i++ {
		if err := fs.commit(s, i, 1); err != nil {
			t.Fatal(err)
		}
	}

	// The fault, for good: commits and compactions meet it.
	m.fail(tc.op, tc.errno, 0, -1)
	refused := 0
	var last error
	for i := 20; i < 32; i++ {
		if last = fs.commit(s, i, 1); last != nil {
			refused++
			if s.Stats().Writable {
				t.Errorf("a commit failed (%v), yet Stats says writable", last)
			}
		}
		if i%4 == 3 {
			s.Compact(ctx)
		}
	}
	// The store performs no truncation any more; the other operations
	// must have met the fault.
	if m.failures(tc.op) == 0 && tc.op != opTruncate {
		t.Fatalf("no %v failed: the test does not exercise the fault", tc.op)
	}
	if (tc.op == opExtend || tc.op >= opCreate) && refused > 0 {
		// Only filling ahead, starting a new log or writing a snapshot
		// met the fault: the current log still has room for the batches,
		// so commits go on.
		t.Errorf("%d of 12 commits refused although only compactions met the fault; the last: %v", refused, last)
	}
	// One error per burst of failures: a burst ends when the store is
	// writable again.
	if n, bursts := h.count(slog.LevelError), h.countMsg("lease journal: store writable again")+1; n > bursts {
		t.Errorf("%d errors logged for %d bursts of %d refused commits: %q", n, bursts, refused, h.msgs)
	}

	switch tc.when {
	case crashBeforeRepair:
		m.crash()
		s.Close()
		fs.reopenTwice("after a crash", tc, true)
	case restartBeforeRepair:
		// A new process on the same kernel reads the page cache.
		p.kill()
		s.Close()
		fs.reopenTwice("after a restart", tc, false)
		p2 := m.process()
		s2, err := fs.open(p2, nil)
		if err != nil {
			t.Fatalf("open after the fault healed: %v", err)
		}
		fs.resume(s2, 40)
		m.crash()
		s2.Close()
		fs.reopenTwice("after the restarted store committed and crashed", tc, true)
	case crashAfterRepair:
		m.heal()
		fs.resume(s, 40)
		m.crash()
		s.Close()
		fs.reopenTwice("after a repair and a crash", tc, true)
	}
	// The disk healed: the store takes commits and keeps them.
	p = m.process()
	s, err = fs.open(p, nil)
	if err != nil {
		t.Fatalf("open after healing: %v", err)
	}
	fs.resume(s, 60)
	fs.check("after healing", s)
	p.kill()
	s.Close()
	m.crash()
	s, err = fs.open(m.process(), nil)
	if err != nil {
		t.Fatalf("open after a last crash: %v", err)
	}
	fs.check("after a last crash", s)
}

// resume waits for s to be writable again, without committing, and then
// commits leases from n on.
func (fs *faultStore) resume(s *Store, n int) {
	t := fs.t
	t.Helper()
	fs.clock.advance(maxRetryInterval)
	waitFor(t, "the store to be writable", func() bool { return s.Stats().Writable })
	for i := n; i < n+5; i++ {
		if err := fs.commit(s, i, 2); err != nil {
			t.Fatalf("commit on a writable store after the disk healed: %v", err)
		}
	}
}

// TestFullDiskCompactionLeavesAStoreThatOpens: a compaction whose new log
// cannot be written on a full disk must not leave a store that the next
// Open, on the still-full disk, refuses (issue 23, defect 2).
func TestFullDiskCompactionLeavesAStoreThatOpens(t *testing.T) {
	m := newMemFS()
	fs := &faultStore{t: t, m: m, clock: &fakeClock{}, acked: make(map[netip.Addr]lease.Lease),
		failed: make(map[netip.Addr]lease.Lease)}
	p := m.process()
	s, err := fs.open(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if err := fs.commit(s, i, 1); err != nil {
			t.Fatal(err)
		}
	}
	m.fail(opWrite, syscall.ENOSPC, 0, -1)
	if err := s.Compact(context.Background()); err == nil {
		t.Fatal("Compact on a full disk succeeded")
	}
	p.kill()
	s.Close()
	// The disk stays full; a log file that could not be initialised
	// must not stop the store from opening, again and again.
	for i := range 3 {
		p := m.process()
		s, err := fs.open(p, nil)
		if err != nil {
			t.Fatalf("open %d on the full disk: %v", i+1, err)
		}
		fs.check(fmt.Sprintf("open %d on the full disk", i+1), s)
		p.kill()
		s.Close()
	}

	// An empty last log, as a crash in its creation leaves it, is
	// ignored without a write.
	p = m.process()
	f, err := p.OpenFile(faultDir+"/"+logName(99), os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	names, _ := p.ReadDir(faultDir)
	var last uint64
	for _, n := range names {
		if g, ok := parseLogName(n); ok && g != 99 {
			last = max(last, g)
		}
	}
	if err := p.Rename(faultDir+"/"+logName(99), faultDir+"/"+logName(last+1)); err != nil {
		t.Fatal(err)
	}
	p.kill()
	for i := range 2 {
		p := m.process()
		s, err := fs.open(p, nil)
		if err != nil {
			t.Fatalf("open %d with an empty last log on the full disk: %v", i+1, err)
		}
		fs.check("with an empty last log", s)
		p.kill()
		s.Close()
	}
	m.heal()
	s, err = fs.open(m.process(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fs.resume(s, 10)
	fs.check("after the disk has room", s)
}

// TestRepairNeedsRoomForABatchNotASnapshot: after a write error, commits
// resume as soon as there is room for the next batch, without first
// writing a snapshot (issue 23, defect 4).
func TestRepairNeedsRoomForABatchNotASnapshot(t *testing.T) {
	m := newMemFS()
	fs := &faultStore{t: t, m: m, clock: &fakeClock{}, acked: make(map[netip.Addr]lease.Lease),
		failed: make(map[netip.Addr]lease.Lease), strict: true}
	s, err := fs.open(m.process(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := range 10 {
		if err := fs.commit(s, i, 1); err != nil {
			t.Fatal(err)
		}
	}
	// No room for a snapshot; one fdatasync of the log fails.
	m.failOn(opWrite, syscall.ENOSPC, snapshotName)
	m.fail(opDatasync, syscall.EIO, 0, 1)
	if err := fs.commit(s, 10, 1); err == nil {
		t.Fatal("commit with a failing fdatasync succeeded")
	}
	fs.resume(s, 20)
	if st := s.Stats(); !st.Writable {
		t.Errorf("not writable with room for a batch")
	}
	m.crash()
	s2, err := fs.open(m.process(), nil)
	if err != nil {
		t.Fatalf("open after a crash: %v", err)
	}
	defer s2.Close()
	fs.check("after a crash", s2)
}

// TestRepairWithoutCommits: the store becomes writable again within a
// second of the disk accepting writes, with no commit to set it off, and
// Stats tells (issue 23, defect 5).
func TestRepairWithoutCommits(t *testing.T) {
	t.Run("back-off at its cap", func(t *testing.T) {
		m := newMemFS()
		clock := &fakeClock{}
		s, err := Open(faultDir, Options{fs: m.process(), Now: clock.now})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		commitT(t, s, testLease(1, "a", 1))
		m.fail(opDatasync, syscall.EIO, 0, -1)
		err = s.Commit(context.Background(), testLease(2, "b", 1))
		if !errors.Is(err, ErrNotWritable) || !errors.Is(err, syscall.EIO) {
			t.Fatalf("commit with a failing fdatasync: %v, want ErrNotWritable and EIO", err)
		}
		if s.Writable() || s.Stats().Writable {
			t.Fatal("Writable after a failed fdatasync")
		}
		// Attempts go on without commits, each a second apart at most.
		for range 6 {
			n := s.Stats().WriteErrors
			clock.advance(time.Second)
			waitFor(t, "a repair attempt without commits", func() bool { return s.Stats().WriteErrors > n })
		}
		if s.Stats().Writable {
			t.Fatal("writable while every fdatasync fails")
		}
		m.heal()
		clock.advance(time.Second)
		waitFor(t, "the store to be writable a second after the disk healed", func() bool { return s.Stats().Writable })
		if !s.Writable() {
			t.Error("Stats says writable, Writable does not")
		}
		commitT(t, s, testLease(3, "c", 1))
	})
	t.Run("real clock", func(t *testing.T) {
		m := newMemFS()
		s, err := Open(faultDir, Options{fs: m.process()})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		m.fail(opDatasync, syscall.EIO, 0, -1)
		if err := s.Commit(context.Background(), testLease(2, "b", 1)); err == nil {
			t.Fatal("commit with a failing fdatasync succeeded")
		}
		m.heal()
		start := time.Now()
		waitFor(t, "the store to be writable", func() bool { return s.Stats().Writable })
		if d := time.Since(start); d > maxRetryInterval+500*time.Millisecond {
			t.Errorf("writable %v after the disk healed, want within %v", d, maxRetryInterval)
		}
	})
}

func TestStatsFreeAndSnapshotBytes(t *testing.T) {
	m := newMemFS()
	m.free = 123456
	s, err := Open(faultDir, Options{fs: m.process(), CompactMinBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := range 20 {
		commitT(t, s, testLease(i, "c", 1))
	}
	st := s.Stats()
	if st.FreeBytes != 123456 {
		t.Errorf("FreeBytes = %d, want the file system's 123456", st.FreeBytes)
	}
	if err := s.Compact(context.Background()); err != nil {
		t.Fatal(err)
	}
	size, err := m.process().Size(faultDir + "/" + snapshotName)
	if err != nil {
		t.Fatal(err)
	}
	if st.SnapshotBytes != size {
		t.Errorf("SnapshotBytes = %d, the snapshot written is %d bytes", st.SnapshotBytes, size)
	}

	real := openT(t, t.TempDir(), Options{})
	if n := real.Stats().FreeBytes; n <= 0 && n != -1 {
		t.Errorf("FreeBytes of a real directory = %d", n)
	}
}

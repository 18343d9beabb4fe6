package journal

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"leased/lease"
)

// The store is a lease.Store.
var _ lease.Store = (*Store)(nil)

func TestCommitAndReopen(t *testing.T) {
	tests := []struct {
		name    string
		commits [][]lease.Lease
		want    []lease.Lease
	}{
		{
			name:    "one lease survives a reopen",
			commits: [][]lease.Lease{{testLease(1, "a", 1)}},
			want:    []lease.Lease{testLease(1, "a", 1)},
		},
		{
			name:    "a later record replaces an earlier one",
			commits: [][]lease.Lease{{testLease(1, "a", 1)}, {testLease(1, "b", 2)}},
			want:    []lease.Lease{testLease(1, "b", 2)},
		},
		{
			name: "free deletes the address",
			commits: [][]lease.Lease{
				{testLease(1, "a", 1), testLease(2, "b", 1)},
				{{Addr: addrN(1), State: lease.Free}},
			},
			want: []lease.Lease{testLease(2, "b", 1)},
		},
		{
			name:    "free of an unknown address is a no-op",
			commits: [][]lease.Lease{{{Addr: addrN(9), State: lease.Free}}, {testLease(1, "a", 1)}},
			want:    []lease.Lease{testLease(1, "a", 1)},
		},
		{
			name: "released, expired and declined records are kept",
			commits: [][]lease.Lease{{
				func() lease.Lease { l := testLease(1, "a", 1); l.State = lease.Released; return l }(),
				func() lease.Lease { l := testLease(2, "b", 1); l.State = lease.Expired; return l }(),
				func() lease.Lease { l := testLease(3, "", 1); l.State = lease.Declined; return l }(),
			}},
			want: []lease.Lease{
				func() lease.Lease { l := testLease(1, "a", 1); l.State = lease.Released; return l }(),
				func() lease.Lease { l := testLease(2, "b", 1); l.State = lease.Expired; return l }(),
				func() lease.Lease { l := testLease(3, "", 1); l.State = lease.Declined; return l }(),
			},
		},
		{
			name:    "a move within one commit: free the old address, bind the new",
			commits: [][]lease.Lease{{testLease(1, "a", 1)}, {{Addr: addrN(1), State: lease.Free}, testLease(2, "a", 2)}},
			want:    []lease.Lease{testLease(2, "a", 2)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			want := make(map[netip.Addr]lease.Lease)
			for _, l := range tt.want {
				want[l.Addr] = l
			}
			s := openT(t, dir, Options{})
			for _, c := range tt.commits {
				commitT(t, s, c...)
			}
			checkContents(t, "before reopen", s, want)
			if err := s.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			s = openT(t, dir, Options{})
			checkContents(t, "after reopen", s, want)
			if err := s.Compact(context.Background()); err != nil {
				t.Fatalf("Compact: %v", err)
			}
			checkContents(t, "after compaction", s, want)
			s.Close()
			s = openT(t, dir, Options{})
			checkContents(t, "after compaction and reopen", s, want)
		})
	}
}

func TestCommitRefuses(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name   string
		ctx    context.Context
		leases []lease.Lease
		closed bool
		want   error
		text   string
	}{
		{name: "IPv6 address", ctx: context.Background(), leases: []lease.Lease{{Addr: netip.IPv6Loopback(), State: lease.Bound}}, text: "not IPv4"},
		{name: "invalid state", ctx: context.Background(), leases: []lease.Lease{{Addr: addrN(1)}}, text: "invalid state"},
		{name: "host name over MaxClientBytes", ctx: context.Background(), leases: []lease.Lease{{Addr: addrN(1), State: lease.Bound, Hostname: strings.Repeat("h", lease.MaxClientBytes+1)}}, text: "host name"},
		{name: "context already done", ctx: canceled, leases: []lease.Lease{testLease(1, "a", 1)}, want: context.Canceled},
		{name: "closed store", ctx: context.Background(), leases: []lease.Lease{testLease(1, "a", 1)}, closed: true, want: lease.ErrClosed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openT(t, t.TempDir(), Options{})
			if tt.closed {
				s.Close()
			}
			err := s.Commit(tt.ctx, tt.leases...)
			switch {
			case err == nil:
				t.Fatal("Commit succeeded")
			case tt.want != nil && !errors.Is(err, tt.want):
				t.Errorf("Commit: %v, want %v", err, tt.want)
			case tt.text != "" && !strings.Contains(err.Error(), tt.text):
				t.Errorf("Commit: %v, want an error mentioning %q", err, tt.text)
			}
			if n := len(contents(s)); n != 0 {
				t.Errorf("%d records stored by a refused commit", n)
			}
		})
	}
}

func TestStatsCountCommits(t *testing.T) {
	s := openT(t, t.TempDir(), Options{})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 20 {
				commitT(t, s, testLease(g*100+i, "c", i))
			}
		})
	}
	wg.Wait()
	commitT(t, s, lease.Lease{Addr: addrN(0), State: lease.Free})
	st := s.Stats()
	if st.Commits != 161 || st.Records != 161 {
		t.Errorf("Commits, Records = %d, %d, want 161, 161", st.Commits, st.Records)
	}
	if st.Batches == 0 || st.Batches > 161 || st.Fsyncs < st.Batches {
		t.Errorf("Batches = %d, Fsyncs = %d for 161 commits", st.Batches, st.Fsyncs)
	}
	if st.LiveRecords != 159 {
		t.Errorf("LiveRecords = %d, want 159", st.LiveRecords)
	}
	if !st.Writable || st.WriteErrors != 0 {
		t.Errorf("Writable = %v, WriteErrors = %d", st.Writable, st.WriteErrors)
	}
	wantBytes := int64(fileHeaderSize) + int64(st.Batches)*batchHeaderSize
	for g := range 8 {
		for i := range 20 {
			l := testLease(g*100+i, "c", i)
			wantBytes += int64(len(appendRecord(nil, &l)))
		}
	}
	free := lease.Lease{Addr: addrN(0), State: lease.Free}
	wantBytes += int64(len(appendRecord(nil, &free)))
	if st.LogBytes != wantBytes {
		t.Errorf("LogBytes = %d, want %d", st.LogBytes, wantBytes)
	}
	if fi, err := os.Stat(filepath.Join(s.Dir(), logName(1))); err != nil || fi.Size() < st.LogBytes {
		t.Errorf("log file shorter than LogBytes %d: %v, %v", st.LogBytes, fi, err)
	}
}

func TestReadOnly(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, Options{})
	commitT(t, s, testLease(1, "a", 1))
	commitT(t, s, testLease(2, "b", 1))
	want := contents(s)
	end := s.Stats().LogBytes

	// While the server runs: no lock conflict, and it sees the records.
	ro, err := Open(dir, Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("Open read-only beside a server: %v", err)
	}
	checkContents(t, "read-only", ro, want)
	if err := ro.Commit(context.Background(), testLease(3, "c", 1)); !errors.Is(err, ErrReadOnly) {
		t.Errorf("Commit on read-only store: %v, want ErrReadOnly", err)
	}
	if err := ro.Compact(context.Background()); !errors.Is(err, ErrReadOnly) {
		t.Errorf("Compact on read-only store: %v, want ErrReadOnly", err)
	}
	ro.Close()
	s.Close()

	// A torn tail is tolerated and left alone.
	log := logFiles(t, dir)[0]
	if err := os.Truncate(log, end-3); err != nil {
		t.Fatal(err)
	}
	ro, err = Open(dir, Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("Open read-only with a torn tail: %v", err)
	}
	delete(want, addrN(2))
	checkContents(t, "read-only with torn tail", ro, want)
	ro.Close()
	if fi, _ := os.Stat(log); fi.Size() != end-3 {
		t.Errorf("read-only Open changed the log: %d bytes, want %d", fi.Size(), end-3)
	}
	if _, err := os.Stat(filepath.Join(dir, lockName)); err != nil {
		t.Errorf("lock file: %v", err)
	}

	if _, err := Open(filepath.Join(dir, "absent"), Options{ReadOnly: true}); err == nil {
		t.Errorf("read-only Open of a missing directory succeeded")
	} else if _, err := os.Stat(filepath.Join(dir, "absent")); err == nil {
		t.Errorf("read-only Open created the directory")
	}
}

func TestLockRefusesSecondServer(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, Options{})
	_, err := Open(dir, Options{})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open in the same process: %v, want ErrLocked", err)
	}
	for _, want := range []string{dir, "another leased server", lockName} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}

	// Another process.
	cmd := exec.Command(os.Args[0], "-test.run=^TestLockHelper$")
	cmd.Env = append(os.Environ(), "JOURNAL_LOCK_DIR="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helper: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "LOCKED: ") || !strings.Contains(string(out), "another leased server") {
		t.Errorf("second process was not refused with a clear message:\n%s", out)
	}

	// Released at Close.
	s.Close()
	s2, err := Open(dir, Options{})
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	s2.Close()
}

// TestLockHelper runs in the child process of TestLockRefusesSecondServer.
func TestLockHelper(t *testing.T) {
	dir := os.Getenv("JOURNAL_LOCK_DIR")
	if dir == "" {
		t.Skip("helper process only")
	}
	s, err := Open(dir, Options{})
	if err == nil {
		s.Close()
		t.Fatal("Open succeeded beside another server")
	}
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("Open: %v, want ErrLocked", err)
	}
	os.Stdout.WriteString("LOCKED: " + err.Error() + "\n")
}

func TestCommitContextEndsWait(t *testing.T) {
	// The writer is held inside a sync, so the commit cannot finish until
	// the test lets it.
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	f := &faults{}
	opts := Options{openFile: func(name string, flag int, perm os.FileMode) (file, error) {
		fl, err := f.open(name, flag, perm)
		if err != nil {
			return nil, err
		}
		return &blockingFile{file: fl, entered: entered, release: release}, nil
	}}
	s := openT(t, t.TempDir(), opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.Commit(ctx, testLease(1, "a", 1)) }()
	<-entered
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Commit with canceled context: %v, want context.Canceled", err)
	}
	close(release)
	// The record may still become durable; a later commit must work.
	commitT(t, s, testLease(2, "b", 1))
	if _, ok := contents(s)[addrN(2)]; !ok {
		t.Errorf("commit after an abandoned one is missing")
	}
}

// blockingFile blocks data syncs of logs (after the first) until released.
type blockingFile struct {
	file
	entered chan struct{}
	release chan struct{}
	n       int
}

func (b *blockingFile) Datasync() error {
	b.n++
	if b.n > 1 {
		select {
		case b.entered <- struct{}{}:
		default:
		}
		<-b.release
	}
	return b.file.Datasync()
}

func TestReadOnlyBesideBusyServer(t *testing.T) {
	dir := t.TempDir()
	// Tiny thresholds: the server compacts, removing logs, all along.
	s := openT(t, dir, Options{CompactMinBytes: 8 << 10})
	var acked sync.Map // address -> struct{}: acknowledged, never freed
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				l := testLease(g*500+i%500, "c", i)
				if err := s.Commit(context.Background(), l); err != nil {
					t.Errorf("Commit: %v", err)
					return
				}
				acked.Store(l.Addr, struct{}{})
			}
		})
	}
	for i := 0; i < 1000 && (i < 20 || s.Stats().Compactions < 3); i++ {
		var before []netip.Addr
		acked.Range(func(k, _ any) bool {
			before = append(before, k.(netip.Addr))
			return true
		})
		ro, err := Open(dir, Options{ReadOnly: true})
		if err != nil {
			t.Errorf("read-only Open beside a busy server: %v", err)
			continue
		}
		got := contents(ro)
		ro.Close()
		for _, a := range before {
			if _, ok := got[a]; !ok {
				t.Errorf("read-only Open misses %v, acknowledged before it started", a)
				break
			}
		}
	}
	close(stop)
	wg.Wait()
	if n := s.Stats().Compactions; n < 3 {
		t.Errorf("the server compacted %d times: the test exercised too little", n)
	}
}

func TestCommitDelayGathersConcurrentCommits(t *testing.T) {
	s := openT(t, t.TempDir(), Options{CommitDelay: 20 * time.Millisecond})
	const committers, each = 32, 10
	var wg sync.WaitGroup
	for g := range committers {
		wg.Go(func() {
			for i := range each {
				commitT(t, s, testLease(g*100+i, "c", i))
			}
		})
	}
	wg.Wait()
	st := s.Stats()
	if st.Commits != committers*each {
		t.Fatalf("Commits = %d, want %d", st.Commits, committers*each)
	}
	// Each wait gathers the commits of every committer woken by the last
	// sync (they commit again at once); a few batches start alone.
	if max := uint64(committers * each / 8); st.Batches > max {
		t.Errorf("%d batches for %d commits from %d committers with a commit delay; want at most %d",
			st.Batches, st.Commits, committers, max)
	}
	if st.Delayed == 0 {
		t.Error("no batch was held back for the commit delay")
	}
}

func TestCommitDelaySkipsLoneCommits(t *testing.T) {
	// Commits a second apart by the store's clock: no other is expected
	// within the delay, so none waits for it.
	clock := &fakeClock{}
	clock.advance(time.Hour)
	s := openT(t, t.TempDir(), Options{CommitDelay: 500 * time.Millisecond, Now: clock.now})
	for i := range 20 {
		clock.advance(time.Second)
		commitT(t, s, testLease(i, "lone", i))
	}
	if st := s.Stats(); st.Commits != 20 || st.Batches != 20 || st.Delayed != 0 {
		t.Errorf("Commits, Batches, Delayed = %d, %d, %d; want 20, 20, 0", st.Commits, st.Batches, st.Delayed)
	}
}

func TestCommitDelayEndsAtRecordLimit(t *testing.T) {
	// Commits come often (the clock stands still) but each fills a batch:
	// none waits for a delay far beyond the test's time.
	s := openT(t, t.TempDir(), Options{CommitDelay: time.Hour, CommitDelayRecords: 4})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 10 {
			commitT(t, s, testLease(10*i, "a", 0), testLease(10*i+1, "a", 0), testLease(10*i+2, "a", 0), testLease(10*i+3, "a", 0))
		}
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("full batches waited for the commit delay")
	}
	if st := s.Stats(); st.Commits != 10 || st.Delayed != 0 {
		t.Errorf("Commits, Delayed = %d, %d; want 10, 0", st.Commits, st.Delayed)
	}
}

func TestCloseEndsCommitDelay(t *testing.T) {
	s, err := Open(t.TempDir(), Options{CommitDelay: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- s.Commit(context.Background(), testLease(3, "b", 0)) }()
	for s.Stats().Delayed == 0 {
		time.Sleep(time.Millisecond) // until the writer holds the batch back
	}
	go s.Close()
	select {
	case err := <-errc:
		if err != nil {
			t.Fatalf("a commit waiting for the delay when the store closed: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Close did not end the commit delay")
	}
}

func TestCommitDelayWait(t *testing.T) {
	t0 := time.Unix(1700000000, 0)
	us := time.Microsecond
	tests := []struct {
		name      string
		mean, age time.Duration // mean gap between commits; time since the last
		count     int
		want      time.Duration
	}{
		{"commits keep coming: wait for the delay's end", 100 * us, 10 * us, 3, 390 * us},
		{"commits come fast: wait at most lullGaps gaps", 10 * us, 10 * us, 3, 30 * us},
		{"a lull: write now", 10 * us, 100 * us, 3, 0},
		{"delay's end is nearer than a lull", 600 * us, 0, 3, 2*time.Millisecond - 50*us},
		{"commits rarer than the delay: write now", 3 * time.Millisecond, 0, 3, 0},
		{"a full batch: write now", 10 * us, 0, 256, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := t0.Add(tt.age)
			s := &Store{opts: Options{CommitDelay: 2 * time.Millisecond, CommitDelayRecords: 256}, now: func() time.Time { return now }}
			s.gaps = gapMean{last: t0, mean: tt.mean}
			b := &batch{count: tt.count, first: t0.Add(-50 * us)}
			got := max(s.commitDelay(b), 0)
			if got != tt.want {
				t.Errorf("commitDelay = %v, want %v", got, tt.want)
			}
		})
	}
}

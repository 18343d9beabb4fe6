package journal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"leased/lease"
)

// ErrLocked is returned, wrapped, by Open when another server holds the
// store's lock.
var ErrLocked = errors.New("journal: store is locked by another leased server")

// ErrReadOnly is returned by Commit and Compact on a store opened with
// Options.ReadOnly.
var ErrReadOnly = errors.New("journal: store is open read-only")

// ErrNotWritable is returned, wrapped together with the write error
// behind it (disk full, I/O error), by Commit while the store cannot
// write: after a write error, until the store has repaired itself. See
// Store.Writable.
var ErrNotWritable = errors.New("journal: store is not writable")

// ErrBusy is returned by Commit when records wait to be written faster
// than the disk takes them, beyond what one batch may hold.
var ErrBusy = errors.New("journal: too many records waiting to be written")

// Default values of Options fields left zero.
const (
	DefaultCompactMinBytes = 8 << 20
	DefaultCompactRatio    = 1.0
	DefaultRetryInterval   = 100 * time.Millisecond
	// DefaultCommitDelayRecords is the batch size that ends a commit
	// delay early.
	DefaultCommitDelayRecords = 256
)

const (
	// maxRetryInterval caps the back-off between repair attempts: the
	// store is writable again at most this long after the disk is.
	maxRetryInterval = time.Second
	// freeBytesAge is how long Stats reuses a statfs(2) of the store.
	freeBytesAge = time.Second
	// maxCommit is the most leases one Commit may carry.
	maxCommit = 100_000
	// maxPending is the most bytes waiting for the writer; beyond it Commit
	// fails with ErrBusy. With maxCommit it keeps a batch below 4 GiB.
	maxPending = 128 << 20
)

// Options configure Open. The zero value is a writable store with the
// default compaction policy and no logging.
type Options struct {
	// Logger receives what the store has to say: recovery results,
	// compactions, write errors (once per burst) and recovery from them.
	// Nil discards it.
	Logger *slog.Logger

	// Salvage lets Open start on a corrupt store: it keeps every record
	// it can read, drops the corrupt parts (logging each), and writes a
	// fresh snapshot so that the store is clean again. Without it, Open
	// fails with a *CorruptError.
	Salvage bool

	// ReadOnly opens the store for reading while a server may be using
	// it: no lock, no writes, no truncation of a torn tail. Commit and
	// Compact fail with ErrReadOnly. The records are those on disk at
	// Open.
	ReadOnly bool

	// CompactMinBytes is the size the logs must reach before compaction
	// is considered; 0 means DefaultCompactMinBytes. A negative value
	// turns automatic compaction off (Compact still works).
	CompactMinBytes int64

	// CompactRatio starts a compaction when the logs hold more than
	// CompactRatio times the size of the live records; 0 means
	// DefaultCompactRatio.
	CompactRatio float64

	// RetryInterval is the first pause, after a write error, before the
	// store tries to write again; it doubles after each failed attempt,
	// up to 1 s. The store tries at the end of each pause whether or not
	// commits come; commits in the pause fail at once. 0 means
	// DefaultRetryInterval.
	RetryInterval time.Duration

	// CommitDelay lets the writer wait up to this long after the first
	// record of a batch for more records before it writes and syncs the
	// batch: fewer, larger syncs, each commit waiting up to CommitDelay
	// longer. The writer waits only when commits come often enough that
	// another is expected within the delay (the mean gap between recent
	// commits is shorter than it), so a lone commit is not delayed, and
	// it stops waiting once a batch holds CommitDelayRecords records or
	// commits stop coming for four mean gaps. 0
	// (the default) syncs as soon as the previous sync ends.
	CommitDelay time.Duration

	// CommitDelayRecords ends a CommitDelay wait early; 0 means
	// DefaultCommitDelayRecords.
	CommitDelayRecords int

	// ConfirmFlush is how long a DNS confirmation (ConfirmDNS) waits for
	// a commit to be written and synced with; when none comes, the
	// writer writes it alone then. 0 means DefaultConfirmFlush.
	ConfirmFlush time.Duration

	// Now is the clock used for the retry pause and the commit delay; nil
	// means time.Now.
	Now func() time.Time

	// fs is the file system the store works on; nil means the operating
	// system's. Tests run the store on a model that fails and crashes.
	fs fileSystem

	// openFile, when set, replaces fs's OpenFile; tests use it to wrap
	// the files of the operating system.
	openFile openFunc

	// hook, when set, is called at each step of a compaction, a repair
	// and Open, with the step's name; tests use it to copy the directory
	// as a crash at that point would leave it.
	hook func(step string)
}

// Steps reported to Options.hook.
const (
	stepLogCreated      = "log-created"      // a new log is durable
	stepSnapshotWritten = "snapshot-written" // snapshot.tmp written, not synced
	stepSnapshotSynced  = "snapshot-synced"  // snapshot.tmp synced
	stepSnapshotRenamed = "snapshot-renamed" // renamed, directory not synced
	stepSnapshotDurable = "snapshot-durable" // directory synced
	stepLogRemoved      = "old-log-removed"  // one obsolete log removed
	stepCompactionDone  = "compaction-done"  // new state installed
	stepRepaired        = "repaired"         // the store is writable again
)

// Stats are the store's counters since Open.
type Stats struct {
	Commits          uint64 // Commit calls that returned nil
	FailedCommits    uint64 // Commit calls that failed on a write error
	Records          uint64 // lease records made durable (not counting DNS confirmations)
	Batches          uint64 // log writes, each one write(2) and one fdatasync(2)
	Fsyncs           uint64 // fdatasync and fsync calls on logs, snapshots and the directory
	Delayed          uint64 // batches held back for Options.CommitDelay
	Confirmations    uint64 // ConfirmDNS calls that changed a record
	WriteErrors      uint64 // failed log writes and syncs, and failed attempts to repair them
	Compactions      uint64 // snapshots installed, by compaction or repair
	CompactionErrors uint64 // compactions that failed (commits went on)
	LogBytes         int64  // bytes of log that recovery would replay now
	LiveRecords      int64  // live (non-Free) records
	LiveBytes        int64  // size of the live records in a snapshot
	Writable         bool   // false while writes fail; the store retries on its own
	// SnapshotBytes is the size of the snapshot a compaction would write
	// now: the room the store needs to compact.
	SnapshotBytes int64
	// FreeBytes is the room left for the store on its file system, as
	// statfs(2) tells an unprivileged writer, at most a second old; -1
	// where unknown.
	FreeBytes int64
}

// Store is the durable lease store: an append-only log with group commit
// and periodic snapshots in one directory. It implements lease.Store. It
// is safe for concurrent use.
type Store struct {
	dir      string
	opts     Options
	logger   *slog.Logger
	fs       fileSystem
	now      func() time.Time
	lockFile io.Closer
	readOnly bool

	freeMu sync.Mutex // guards free and freeAt
	free   int64      // FreeBytes as last read
	freeAt time.Time  // when free was read; zero: never

	mu      sync.Mutex // guards closed, pending and gaps
	closed  bool
	pending *batch
	gaps    gapMean // between commits, for CommitDelay

	stateMu sync.Mutex // guards st for readers; only the writer changes it
	st      state

	kick       chan struct{}      // wakes the writer: records are pending or the store closes
	compactReq chan chan error    // Compact asks the writer
	compactRes chan compactResult // a background compaction finished
	done       chan struct{}      // closed when the writer exits
	waiters    sync.Pool          // of *waiter

	w writer // owned by the writer goroutine

	commits, failedCommits, records, batches, fsyncs, delayed atomic.Uint64
	confirms                                                  atomic.Uint64
	writeErrors, compactions, compactionErrors                atomic.Uint64
	logBytes, liveRecords, liveBytes                          atomic.Int64
	broken                                                    atomic.Bool
}

// batch is the records of many commits, written with one write(2).
type batch struct {
	buf      []byte // batch header, then record frames
	count    int    // frames in buf
	confirms int    // of which DNS confirmations
	waiters  []*waiter
	first    time.Time // when the first commit came, with a commit delay
	// confirmAt is when the first record came into the batch, when that
	// was a DNS confirmation.
	confirmAt time.Time
	delayed   bool // held back for the commit delay
}

func (b *batch) reset() {
	b.buf = b.buf[:batchHeaderSize]
	b.count, b.confirms = 0, 0
	b.delayed = false
	clear(b.waiters)
	b.waiters = b.waiters[:0]
}

func newBatch() *batch {
	return &batch{buf: make([]byte, batchHeaderSize, 64<<10)}
}

// gapMean follows the mean time between events: an exponentially
// weighted moving average, each gap weighing 1/8.
type gapMean struct {
	last time.Time
	mean time.Duration
}

// maxGap caps one gap's weight: after a quiet spell, the first commits do
// not pull the mean up for long.
const maxGap = time.Second

func (g *gapMean) observe(now time.Time) {
	if g.last.IsZero() {
		g.last, g.mean = now, maxGap
		return
	}
	gap := min(max(now.Sub(g.last), 0), maxGap)
	g.last = now
	g.mean += (gap - g.mean) / 8
}

// waiter is a Commit waiting for its batch.
type waiter struct{ done chan error }

// Open opens or creates the store in directory dir and recovers its
// records: the snapshot, then the logs after it. A torn last record, left
// by a crash in the middle of a write, is dropped; corruption anywhere
// else fails Open with a *CorruptError unless opts.Salvage is set.
//
// Open does not fail because the disk is full or failing once the
// records are read: the store is then open but not writable
// (Stats.Writable is false), and becomes writable on its own, within a
// second of the disk taking writes again.
//
// Unless opts.ReadOnly is set, Open takes the store's lock file: a second
// Open of the same directory, in this process or another, fails with an
// error wrapping ErrLocked.
func Open(dir string, opts Options) (*Store, error) {
	s := &Store{
		dir:        dir,
		opts:       opts,
		logger:     opts.Logger,
		fs:         opts.fs,
		now:        opts.Now,
		readOnly:   opts.ReadOnly,
		kick:       make(chan struct{}, 1),
		compactReq: make(chan chan error),
		compactRes: make(chan compactResult, 1),
		done:       make(chan struct{}),
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	if s.fs == nil {
		s.fs = osFS{}
	}
	if opts.openFile != nil {
		s.fs = openOverride{fileSystem: s.fs, open: opts.openFile}
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.opts.CompactMinBytes == 0 {
		s.opts.CompactMinBytes = DefaultCompactMinBytes
	}
	if s.opts.CompactRatio <= 0 {
		s.opts.CompactRatio = DefaultCompactRatio
	}
	if s.opts.RetryInterval <= 0 {
		s.opts.RetryInterval = DefaultRetryInterval
	}
	if s.opts.CommitDelayRecords <= 0 {
		s.opts.CommitDelayRecords = DefaultCommitDelayRecords
	}
	if s.opts.ConfirmFlush <= 0 {
		s.opts.ConfirmFlush = DefaultConfirmFlush
	}
	s.waiters.New = func() any { return &waiter{done: make(chan error, 1)} }
	if s.readOnly {
		return s.openReadOnly()
	}
	if err := s.fs.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("journal: create store: %w", err)
	}
	if err := s.lock(); err != nil {
		return nil, err
	}
	if err := s.recover(); err != nil {
		s.unlock()
		return nil, err
	}
	s.pending = newBatch()
	s.w.free = newBatch()
	go s.run()
	return s, nil
}

// openReadOnly loads the store without touching it. A server may be
// compacting meanwhile and remove a log between listing and reading: then
// the load starts over.
func (s *Store) openReadOnly() (*Store, error) {
	var err error
	for range 5 {
		r := &recovery{dir: s.dir, fs: s.fs, salvage: s.opts.Salvage, warn: s.logger.Warn}
		if err = r.load(); err == nil {
			s.st = r.state
			s.liveRecords.Store(int64(len(r.live)))
			s.liveBytes.Store(r.liveBytes)
			s.logBytes.Store(r.replay)
			s.closed = true
			close(s.done)
			return s, nil
		}
		var ce *CorruptError
		if !errors.Is(err, fs.ErrNotExist) && !errors.As(err, &ce) {
			break
		}
		if _, serr := s.fs.ReadDir(s.dir); serr != nil {
			break
		}
	}
	return nil, err
}

// lock takes the store's lock file.
func (s *Store) lock() error {
	name := filepath.Join(s.dir, lockName)
	f, holder, err := s.fs.Lock(name)
	if errors.Is(err, errLockBusy) {
		owner := ""
		if holder != "" {
			owner = " (" + holder + ")"
		}
		return fmt.Errorf("%w: %s is in use: another leased server%s holds its lock file %s", ErrLocked, s.dir, owner, name)
	}
	if err != nil {
		return fmt.Errorf("journal: lock store %s: %w", s.dir, err)
	}
	s.lockFile = f
	return nil
}

// unlock releases the lock file.
func (s *Store) unlock() {
	if s.lockFile != nil {
		s.lockFile.Close() // closing the last descriptor drops the flock
		s.lockFile = nil
	}
}

// recover loads the directory and gets the writer ready: appending to
// the last log when it ends cleanly, else in a new log after it. Apart
// from a salvage, it writes nothing the store needs: whatever goes wrong
// with writing leaves an open store that is not writable (yet), never a
// failed Open, so that a store that opened once opens again.
func (s *Store) recover() error {
	start := s.now()
	r := &recovery{dir: s.dir, fs: s.fs, salvage: s.opts.Salvage, warn: s.logger.Warn, settle: true}
	if err := r.load(); err != nil {
		return err
	}
	s.st = r.state
	s.w.snapGen, s.w.maxGen = r.snapGen, r.maxGen
	s.liveRecords.Store(int64(len(r.live)))
	s.liveBytes.Store(r.liveBytes)
	if r.temp {
		s.fs.Remove(filepath.Join(s.dir, snapshotTemp))
	}
	if r.salvaged {
		// Corrupt data stays in the files; write the state out afresh so
		// that the next Open finds a clean store.
		if err := s.rewrite(); err != nil {
			return fmt.Errorf("journal: salvage %s: %w", s.dir, err)
		}
		s.logger.Warn("lease journal: salvaged", "dir", s.dir, "records", len(s.st.live))
		return nil
	}
	s.removeLogsBefore(r.snapGen)
	s.w.replay = r.replay
	if r.lastGen != 0 {
		s.w.logGen, s.w.logOff, s.w.alloc = r.lastGen, r.lastValid, r.lastSize
		name := filepath.Join(s.dir, logName(r.lastGen))
		switch {
		case r.lastTorn > 0:
			s.logger.Warn("lease journal: the log ends in a torn batch; it is left as it is and the next commits go to a new log",
				"file", name, "offset", r.lastValid, "bytes", r.lastTorn)
		case r.dropped != 0:
			// The next log was being created; it is made anew.
		default:
			f, err := s.fs.OpenFile(name, os.O_RDWR, 0)
			if err != nil {
				s.logger.Warn("lease journal: cannot open the log to append to it; the next commits go to a new log", "file", name, "err", err)
				break
			}
			s.w.log = f
		}
	}
	if s.w.log == nil {
		if err := s.newLog(); err != nil {
			s.breakLog(err)
		}
	}
	s.logBytes.Store(s.w.replay)
	s.logger.Info("lease journal: opened", "dir", s.dir, "records", len(s.st.live),
		"read", r.records, "log_bytes", s.w.replay, "writable", s.w.broken == nil, "took", s.now().Sub(start))
	return nil
}

// Commit implements lease.Store. It returns after the leases are written
// and synced to the log, together with those of every other Commit that
// arrived meanwhile (group commit). It fails, and nothing may be
// acknowledged, if a lease is invalid, the store is closed or read-only,
// the write or sync failed or the store is not writable since (an error
// wrapping ErrNotWritable and the write error), or ctx ended first; in
// the last case the records may still become durable.
func (s *Store) Commit(ctx context.Context, leases ...lease.Lease) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.readOnly {
		return ErrReadOnly
	}
	if len(leases) > maxCommit {
		return fmt.Errorf("journal: commit of %d leases, more than %d", len(leases), maxCommit)
	}
	for i := range leases {
		if err := leases[i].Validate(); err != nil {
			return err
		}
	}
	w := s.waiters.Get().(*waiter)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		s.waiters.Put(w)
		return lease.ErrClosed
	}
	b := s.pending
	if len(b.buf) > maxPending {
		s.mu.Unlock()
		s.waiters.Put(w)
		return ErrBusy
	}
	if s.opts.CommitDelay > 0 {
		now := s.now()
		if len(b.waiters) == 0 {
			b.first = now
		}
		s.gaps.observe(now)
	}
	for i := range leases {
		b.buf = appendRecord(b.buf, &leases[i])
	}
	b.count += len(leases)
	b.waiters = append(b.waiters, w)
	s.mu.Unlock()
	select {
	case s.kick <- struct{}{}:
	default:
	}
	select {
	case err := <-w.done:
		s.waiters.Put(w)
		return err
	case <-ctx.Done():
		// The writer still owns w and will send to it; leave w to the
		// garbage collector.
		return ctx.Err()
	}
}

// All implements lease.Store: it calls fn for every live record, in no
// particular order, until fn returns false. It sees every commit that
// returned before it was called. Commits go on while fn runs.
func (s *Store) All(fn func(lease.Lease) bool) {
	s.stateMu.Lock()
	live := maps.Clone(s.st.live)
	v := s.st.arena.view()
	s.stateMu.Unlock()
	for _, ref := range live {
		l, err := decodePayload(v.get(ref))
		if err != nil {
			continue // only checked payloads enter the arena
		}
		if !fn(l) {
			return
		}
	}
}

// Compact writes a snapshot of the live records now and starts a new
// log, and returns when that is durable and the old logs are removed.
// Commits go on meanwhile. On a store whose writes fail, it tries at once
// to make it writable again.
func (s *Store) Compact(ctx context.Context) error {
	if s.readOnly {
		return ErrReadOnly
	}
	reply := make(chan error, 1)
	select {
	case s.compactReq <- reply:
	case <-s.done:
		return lease.ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Stats returns the store's counters.
func (s *Store) Stats() Stats {
	return Stats{
		Commits:          s.commits.Load(),
		FailedCommits:    s.failedCommits.Load(),
		Records:          s.records.Load(),
		Batches:          s.batches.Load(),
		Fsyncs:           s.fsyncs.Load(),
		Delayed:          s.delayed.Load(),
		Confirmations:    s.confirms.Load(),
		WriteErrors:      s.writeErrors.Load(),
		Compactions:      s.compactions.Load(),
		CompactionErrors: s.compactionErrors.Load(),
		LogBytes:         s.logBytes.Load(),
		LiveRecords:      s.liveRecords.Load(),
		LiveBytes:        s.liveBytes.Load(),
		Writable:         s.Writable(),
		SnapshotBytes:    fileHeaderSize + s.liveBytes.Load(),
		FreeBytes:        s.freeBytes(),
	}
}

// freeBytes returns the free bytes of the store's file system, read at
// most once per freeBytesAge, or -1 if unknown.
func (s *Store) freeBytes() int64 {
	s.freeMu.Lock()
	defer s.freeMu.Unlock()
	now := s.now()
	if s.freeAt.IsZero() || now.Sub(s.freeAt) >= freeBytesAge || now.Before(s.freeAt) {
		n, err := s.fs.FreeBytes(s.dir)
		if err != nil {
			n = -1
		}
		s.free, s.freeAt = n, now
	}
	return s.free
}

// Writable reports whether the store can commit now: false while it is
// read-only or after a write error until it has repaired itself, which
// it tries on its own, at least once a second. It is cheap enough to ask
// before every commit.
func (s *Store) Writable() bool { return !s.readOnly && !s.broken.Load() }

// Dir returns the store's directory.
func (s *Store) Dir() string { return s.dir }

// Close writes the commits already made, waits for a running compaction,
// closes the files and releases the lock. Commit fails after Close. Close
// returns the last write error if the store was not writable, and nil on
// a second call.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	select {
	case s.kick <- struct{}{}:
	default:
	}
	<-s.done
	err := s.w.broken
	if s.w.log != nil {
		if cerr := s.w.log.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("journal: close log: %w", cerr)
		}
		s.w.log = nil
	}
	s.unlock()
	return err
}

// step reports a step to the test hook.
func (s *Store) step(name string) {
	if s.opts.hook != nil {
		s.opts.hook(name)
	}
}

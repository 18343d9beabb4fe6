package journal

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"leased/lease"
)

// writer is the state of the writer goroutine: the one goroutine that
// writes the log, changes the in-memory records and runs compactions.
type writer struct {
	free   *batch // the batch not in use as Store.pending
	log    file   // the log being appended to; nil while broken
	logGen uint64 // generation of log, or of the last log while broken; 0 if none
	logOff int64  // where the next batch goes; while broken, where the synced batches end
	alloc  int64  // size of the log file: zeros from logOff on
	zeros  []byte // a block of zeros to fill ahead with

	delay *time.Timer // the commit delay's timer, made once
	flush *time.Timer // the timer of the confirmations' wait, made once

	snapGen uint64 // generation of the installed snapshot, 0 if none
	maxGen  uint64 // highest generation ever used in the directory
	replay  int64  // bytes of the logs at or after snapGen

	broken   error  // why writes fail; nil when writable
	failed   uint64 // commits failed since broken
	backoff  time.Duration
	retryAt  time.Time   // no repair before this
	retry    *time.Timer // wakes the writer for a repair while broken, made once
	compact  *compaction
	queue    []chan error // Compact calls waiting for the next compaction
	deferred int64        // after a failed compaction: no new one before replay reaches this
	// compactSoon asks for a compaction as soon as the policy's pause
	// after a failed one (deferred) allows: a repair left a suspect log
	// that only a snapshot makes obsolete.
	compactSoon bool
}

// compaction is a snapshot being written in the background.
type compaction struct {
	gen     uint64
	waiting []chan error
	start   time.Time
}

// compactResult is what the snapshot goroutine hands back.
type compactResult struct {
	live  map[uint32]uint64 // the copied state, refs into fresh
	fresh *arena
	err   error
}

// run is the writer goroutine: it takes the pending batch, writes and
// syncs it, wakes its committers, and in between starts and finishes
// compactions.
func (s *Store) run() {
	defer close(s.done)
	s.maybeCompact()
	for {
		s.mu.Lock()
		b := s.pending
		if len(b.waiters) == 0 {
			// No commit waits: nothing to write, or DNS confirmations
			// that wait a while for commits to ride with.
			due, wait := s.confirmsDue(b)
			if !due {
				closed := s.closed
				s.mu.Unlock()
				if closed {
					break
				}
				s.idle(wait)
				continue
			}
		} else if wait := s.commitDelay(b); wait > 0 {
			s.mu.Unlock()
			if !b.delayed {
				b.delayed = true
				s.delayed.Add(1)
			}
			s.delayCommit(wait)
			continue
		}
		s.pending, s.w.free = s.w.free, nil
		s.mu.Unlock()
		woken := len(b.waiters)
		s.flush(b)
		b.reset()
		s.w.free = b
		if woken > 1 {
			// Let the committers just woken run before taking the next
			// batch: those that commit again at once then join it, rather
			// than wait a whole sync for the one after.
			runtime.Gosched()
		}
		select {
		case r := <-s.compactRes:
			s.finishCompaction(r)
		case reply := <-s.compactReq:
			s.requestCompaction(reply)
		default:
		}
		s.maybeCompact()
	}
	s.waitCompaction()
	for _, reply := range s.w.queue {
		reply <- lease.ErrClosed
	}
}

// idle waits for work: a kick, a compaction's result or request, a
// repair, or, when wait is positive, the end of that wait for the
// confirmations pending.
func (s *Store) idle(wait time.Duration) {
	var flush <-chan time.Time
	if wait > 0 {
		if s.w.flush == nil {
			s.w.flush = time.NewTimer(wait)
		} else {
			s.w.flush.Reset(wait)
		}
		flush = s.w.flush.C
		defer s.w.flush.Stop()
	}
	select {
	case <-s.kick:
	case <-flush:
	case r := <-s.compactRes:
		s.finishCompaction(r)
	case reply := <-s.compactReq:
		s.requestCompaction(reply)
	case <-s.retryTimer():
		s.retryRepair()
	}
}

// retryTimer returns a channel that receives when the next repair is due,
// or nil when the store is writable. It is the writer's way to repair the
// store without waiting for a commit.
func (s *Store) retryTimer() <-chan time.Time {
	if s.w.broken == nil {
		return nil
	}
	d := min(max(s.w.retryAt.Sub(s.now()), time.Millisecond), maxRetryInterval)
	if s.w.retry == nil {
		s.w.retry = time.NewTimer(d)
	} else {
		s.w.retry.Reset(d)
	}
	return s.w.retry.C
}

// retryRepair tries to repair the store if it is broken and the pause
// after the last attempt is over.
func (s *Store) retryRepair() {
	if s.w.broken == nil || s.now().Before(s.w.retryAt) {
		return
	}
	if err := s.repair(); err != nil {
		s.repairFailed(err)
		return
	}
	s.maybeCompact()
}

// commitDelay returns how much longer the pending batch b should wait for
// more records (Options.CommitDelay), or 0 to write it now. s.mu is held.
//
// It stops waiting, besides at the delay's end, when commits stop coming:
// after a lull of lullGaps mean gaps. Committers that all wait for this
// batch (a closed loop: each client's next request waits for its ACK)
// send nothing more until it is written, and waiting longer would only
// idle the disk.
func (s *Store) commitDelay(b *batch) time.Duration {
	if s.opts.CommitDelay <= 0 || s.closed || s.gaps.mean >= s.opts.CommitDelay || b.count >= s.opts.CommitDelayRecords {
		return 0
	}
	now := s.now()
	lull := lullGaps*s.gaps.mean - now.Sub(s.gaps.last)
	return min(b.first.Add(s.opts.CommitDelay).Sub(now), lull)
}

// lullGaps is how many mean gaps without a commit end a commit delay.
const lullGaps = 4

// delayCommit waits until d has passed or a commit comes; compaction
// results are taken meanwhile.
func (s *Store) delayCommit(d time.Duration) {
	if s.w.delay == nil {
		s.w.delay = time.NewTimer(d)
	} else {
		s.w.delay.Reset(d)
	}
	select {
	case <-s.w.delay.C:
	case <-s.kick:
		s.w.delay.Stop()
	case r := <-s.compactRes:
		s.w.delay.Stop()
		s.finishCompaction(r)
	}
}

// flush writes b to the log with one write and one fdatasync, applies its
// records to memory and wakes its committers.
func (s *Store) flush(b *batch) {
	if s.w.broken != nil {
		if s.now().Before(s.w.retryAt) {
			s.fail(b, s.w.broken)
			return
		}
		if err := s.repair(); err != nil {
			s.repairFailed(err)
			s.fail(b, s.w.broken)
			return
		}
	}
	putBatchHeader(b.buf, len(b.buf)-batchHeaderSize, b.count)
	if _, err := s.w.log.WriteAt(b.buf, s.w.logOff); err != nil {
		s.breakLog(fmt.Errorf("journal: write %s at offset %d: %w", s.logPath(), s.w.logOff, err))
		s.fail(b, s.w.broken)
		return
	}
	if end := s.w.logOff + int64(len(b.buf)); s.fillAhead(end) != nil {
		// The zeros ahead only spare later syncs a change of size, and
		// what was written of them is zeros; the batch is written and its
		// fdatasync decides. On a full disk the log grows by the batch
		// alone, and the next batch tries to fill ahead again.
		s.w.alloc = max(s.w.alloc, end)
	}
	if err := s.datasync(s.w.log); err != nil {
		s.breakLog(fmt.Errorf("journal: sync %s after writing at offset %d: %w", s.logPath(), s.w.logOff, err))
		s.fail(b, s.w.broken)
		return
	}
	s.w.logOff += int64(len(b.buf))
	s.w.replay += int64(len(b.buf))
	s.logBytes.Store(s.w.replay)
	s.batches.Add(1)
	s.records.Add(uint64(b.count - b.confirms))

	s.stateMu.Lock()
	body := b.buf[batchHeaderSize:]
	for i := 0; i < len(body); {
		p, n, err := checkFrame(body[i:])
		if err != nil {
			break // cannot happen: the frames were just encoded
		}
		s.st.apply(p)
		i += n
	}
	s.liveRecords.Store(int64(len(s.st.live)))
	s.liveBytes.Store(s.st.liveBytes)
	s.stateMu.Unlock()

	s.commits.Add(uint64(len(b.waiters)))
	for _, w := range b.waiters {
		w.done <- nil
	}
}

// Filling ahead: the writer keeps the log file longer than its contents,
// filled with zeros, and writes batches over the zeros. A batch that
// extends the file makes fdatasync commit the new size to the file
// system's journal as well as the data; over written zeros it only writes
// the data, which is several times faster. Recovery takes zeros after
// the last batch for the log's end.
const (
	minFillAhead = 64 << 10
	maxFillAhead = 1 << 20
)

// fillAhead makes sure the log file extends past end, with zeros after
// the batch just written, growing it by its size (within [minFillAhead,
// maxFillAhead]) when needed. The caller syncs.
func (s *Store) fillAhead(end int64) error {
	if end <= s.w.alloc {
		return nil
	}
	target := end + min(max(s.w.alloc, minFillAhead), maxFillAhead)
	if s.w.zeros == nil {
		s.w.zeros = make([]byte, 1<<20)
	}
	for o := end; o < target; {
		n := min(int64(len(s.w.zeros)), target-o)
		if _, err := s.w.log.WriteAt(s.w.zeros[:n], o); err != nil {
			return err
		}
		o += n
	}
	s.w.alloc = target
	return nil
}

// fail fails every commit of b with err.
func (s *Store) fail(b *batch, err error) {
	s.w.failed += uint64(len(b.waiters))
	s.failedCommits.Add(uint64(len(b.waiters)))
	for _, w := range b.waiters {
		w.done <- err
	}
}

func (s *Store) logPath() string { return filepath.Join(s.dir, logName(s.w.logGen)) }

// breakLog stops writing to the current log after a failed write or sync.
//
// The log may now end in a partial batch, and after a failed fdatasync
// the kernel may have dropped pages it still shows as written, so the log
// is not trusted again: no byte more is written to it. The next commit
// first repairs the store (see repair). Only the first error of a burst
// is logged.
func (s *Store) breakLog(err error) {
	if s.w.log != nil {
		s.w.log.Close()
		s.w.log = nil
	}
	if s.w.broken == nil {
		s.logger.Error("lease journal: write failed; commits fail until the store is writable again",
			"dir", s.dir, "err", err)
		s.w.failed = 0
		s.w.backoff = s.opts.RetryInterval
	}
	s.w.broken = notWritable(err)
	s.w.retryAt = s.now().Add(s.w.backoff)
	s.writeErrors.Add(1) // after retryAt: see repairFailed
	s.broken.Store(true)
}

// notWritable returns the error commits fail with while the store is
// not writable because of err: it wraps both ErrNotWritable and err.
func notWritable(err error) error {
	return fmt.Errorf("%w: %w", ErrNotWritable, err)
}

// repairFailed notes a failed attempt to repair and doubles the pause.
//
// The count goes up after the next attempt's time is set, so that whoever
// sees the count has the pause measured from a clock read before.
func (s *Store) repairFailed(err error) {
	s.w.broken = notWritable(err)
	s.w.backoff = min(2*s.w.backoff, maxRetryInterval)
	s.w.retryAt = s.now().Add(s.w.backoff)
	s.writeErrors.Add(1)
	s.logger.Debug("lease journal: store still not writable", "dir", s.dir, "err", err)
}

// repair makes the store writable again after a write error, or after
// Open could not start a log: it starts a new log after the last one,
// whose header says where the synced batches of the last one end (see
// "Write errors" in the package documentation). That takes the room of a
// log header and the next batch, not of a snapshot. Memory holds the
// records of every batch that was synced, so every acknowledged one, and
// no other; recovery reads the same from the disk. The suspect log stays
// until a compaction, asked for now, makes it obsolete.
func (s *Store) repair() error {
	s.waitCompaction()
	if s.w.log != nil {
		s.w.log.Close()
		s.w.log = nil
	}
	if err := s.newLog(); err != nil {
		return err
	}
	if s.w.broken != nil {
		s.logger.Info("lease journal: store writable again", "dir", s.dir, "failed_commits", s.w.failed)
	}
	s.w.broken = nil
	s.broken.Store(false)
	s.w.compactSoon = true
	s.step(stepRepaired)
	return nil
}

// rewrite writes every live record, as held in memory, to a new snapshot
// and starts a new log after it, then removes the older logs: a clean
// store again after a salvage.
func (s *Store) rewrite() error {
	s.w.maxGen++
	gen := s.w.maxGen
	live := maps.Clone(s.st.live)
	fresh, err := s.writeSnapshot(gen, live, s.st.arena.view())
	if err != nil {
		return err
	}
	s.install(gen, live, fresh)
	f, err := s.createLog(gen, 0)
	if err != nil {
		return err
	}
	s.w.log, s.w.logGen, s.w.logOff, s.w.alloc = f, gen, fileHeaderSize, fileHeaderSize
	s.w.replay = fileHeaderSize
	s.logBytes.Store(s.w.replay)
	s.removeLogsBefore(gen)
	return nil
}

// newLog starts a new log after the last one and makes it the log to
// append to: of generation logGen+1, whose header records logOff, where
// the synced batches of the last log end; or, when no log follows the
// snapshot, of the snapshot's generation (1 without a snapshot).
func (s *Store) newLog() error {
	gen, prev := max(s.w.snapGen, 1), int64(0)
	if s.w.logGen != 0 && s.w.logGen >= gen {
		gen, prev = s.w.logGen+1, s.w.logOff
	}
	f, err := s.createLog(gen, prev)
	if err != nil {
		return err
	}
	if s.w.log != nil {
		s.w.log.Close()
	}
	s.w.log, s.w.logGen, s.w.logOff, s.w.alloc = f, gen, fileHeaderSize, fileHeaderSize
	s.w.maxGen = max(s.w.maxGen, gen)
	s.w.replay += fileHeaderSize
	s.logBytes.Store(s.w.replay)
	return nil
}

// install makes live and fresh the in-memory state, after the snapshot of
// generation gen holding them became durable, with the records that
// changed since they were copied carried over.
func (s *Store) install(gen uint64, live map[uint32]uint64, fresh *arena) {
	s.stateMu.Lock()
	for k := range s.st.dirty {
		if ref, ok := s.st.live[k]; ok {
			live[k] = fresh.add(s.st.arena.get(ref))
		} else {
			delete(live, k)
		}
	}
	s.st.dirty = nil
	s.st.live, s.st.arena = live, fresh
	s.stateMu.Unlock()
	s.w.snapGen = gen
	s.compactions.Add(1)
}

// maybeCompact starts a compaction when the logs have outgrown the live
// records, or one was asked for.
func (s *Store) maybeCompact() {
	if s.w.compact != nil || s.w.broken != nil {
		return
	}
	if len(s.w.queue) > 0 {
		q := s.w.queue
		s.w.queue = nil
		s.startCompaction(q)
		return
	}
	if s.w.replay < s.w.deferred {
		return
	}
	if s.w.compactSoon {
		s.startCompaction(nil)
		return
	}
	if s.opts.CompactMinBytes < 0 || s.w.replay < s.opts.CompactMinBytes {
		return
	}
	if float64(s.w.replay) > s.opts.CompactRatio*float64(s.liveBytes.Load()) {
		s.startCompaction(nil)
	}
}

// requestCompaction handles a Compact call.
func (s *Store) requestCompaction(reply chan error) {
	if s.w.broken != nil {
		if err := s.repair(); err != nil {
			s.repairFailed(err)
			reply <- err
			return
		}
	}
	s.w.queue = append(s.w.queue, reply)
	s.maybeCompact()
}

// startCompaction starts a new log, copies the address map, and writes
// the snapshot of that copy in the background while commits go on into
// the new log.
//
// The snapshot gets the new log's generation: it holds everything in the
// logs before it. The writer remembers which addresses change meanwhile,
// to carry them over into the compacted state when the snapshot is done.
//
// If the new log cannot be made, the compaction fails and commits go on
// into the current log.
func (s *Store) startCompaction(waiting []chan error) {
	if err := s.newLog(); err != nil {
		s.compactionFailed(err)
		for _, reply := range waiting {
			reply <- err
		}
		return
	}
	gen := s.w.logGen
	s.stateMu.Lock()
	live := maps.Clone(s.st.live)
	view := s.st.arena.view()
	s.st.dirty = make(map[uint32]struct{})
	s.stateMu.Unlock()
	s.w.compact = &compaction{gen: gen, waiting: waiting, start: s.now()}
	go func() {
		fresh, err := s.writeSnapshot(gen, live, view)
		s.compactRes <- compactResult{live: live, fresh: fresh, err: err}
	}()
}

// waitCompaction waits for a running compaction and finishes it.
func (s *Store) waitCompaction() {
	if s.w.compact != nil {
		s.finishCompaction(<-s.compactRes)
	}
}

// finishCompaction installs the result of a compaction: the copied state
// with the records committed since, in the fresh arena; then it removes
// the logs the snapshot covers.
func (s *Store) finishCompaction(r compactResult) {
	c := s.w.compact
	s.w.compact = nil
	if r.err != nil {
		s.stateMu.Lock()
		s.st.dirty = nil
		s.stateMu.Unlock()
		s.compactionFailed(r.err)
		for _, reply := range c.waiting {
			reply <- r.err
		}
		return
	}
	s.install(c.gen, r.live, r.fresh)
	s.w.deferred = 0
	s.w.compactSoon = false
	if s.w.broken == nil && s.w.logGen == c.gen {
		s.w.replay = s.w.logOff
	}
	s.logBytes.Store(s.w.replay)
	s.removeLogsBefore(c.gen)
	s.logger.Info("lease journal: compacted", "dir", s.dir, "records", s.liveRecords.Load(),
		"snapshot_bytes", s.liveBytes.Load(), "took", s.now().Sub(c.start))
	s.step(stepCompactionDone)
	for _, reply := range c.waiting {
		reply <- nil
	}
}

// compactionFailed notes a failed compaction: no automatic one is tried
// before the logs grow by CompactMinBytes (at least 1 MiB) more.
func (s *Store) compactionFailed(err error) {
	s.compactionErrors.Add(1)
	s.w.deferred = s.w.replay + max(s.opts.CompactMinBytes, 1<<20)
	s.logger.Warn("lease journal: compaction failed; the logs are kept", "dir", s.dir, "err", err)
}

// writeSnapshot writes the records that live names in src as the snapshot
// of generation gen: to snapshot.tmp, synced, renamed into place, and the
// directory synced. It copies each record into a fresh arena as it goes
// and points live at the copies. On error live must be dropped.
//
// It runs in its own goroutine during a compaction.
func (s *Store) writeSnapshot(gen uint64, live map[uint32]uint64, src arenaView) (*arena, error) {
	tmp := filepath.Join(s.dir, snapshotTemp)
	f, err := s.fs.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return nil, fmt.Errorf("journal: create snapshot: %w", err)
	}
	fresh := &arena{}
	var off int64
	err = func() error {
		buf := make([]byte, 0, 1<<20)
		buf = appendFileHeader(buf, fileHeader{magic: snapshotMagic, gen: gen, count: uint64(len(live))})
		for k, ref := range live {
			p := src.get(ref)
			if len(buf)+frameHeaderSize+len(p) > cap(buf) {
				if _, err := f.WriteAt(buf, off); err != nil {
					return err
				}
				off += int64(len(buf))
				buf = buf[:0]
			}
			buf = appendFrame(buf, p)
			live[k] = fresh.add(p)
		}
		if _, err := f.WriteAt(buf, off); err != nil {
			return err
		}
		off += int64(len(buf))
		s.step(stepSnapshotWritten)
		return s.datasync(f)
	}()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		s.fs.Remove(tmp)
		return nil, fmt.Errorf("journal: write snapshot %s: %w", tmp, err)
	}
	s.step(stepSnapshotSynced)
	if err := s.fs.Rename(tmp, filepath.Join(s.dir, snapshotName)); err != nil {
		s.fs.Remove(tmp)
		return nil, fmt.Errorf("journal: install snapshot: %w", err)
	}
	s.step(stepSnapshotRenamed)
	if err := s.syncDir(); err != nil {
		return nil, err
	}
	s.step(stepSnapshotDurable)
	return fresh, nil
}

// createLog creates the log of generation gen and makes it durable: its
// header synced and its name synced into the directory. prev is where
// the log before it ends, or 0 for all of it. A log that cannot be made
// durable is removed.
func (s *Store) createLog(gen uint64, prev int64) (file, error) {
	name := filepath.Join(s.dir, logName(gen))
	f, err := s.fs.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return nil, fmt.Errorf("journal: create log: %w", err)
	}
	_, err = f.WriteAt(appendFileHeader(nil, fileHeader{magic: logMagic, gen: gen, count: uint64(prev)}), 0)
	if err == nil {
		err = s.datasync(f)
	}
	if err == nil {
		err = s.syncDir()
	}
	if err != nil {
		f.Close()
		// A log without a whole header holds nothing, and recovery
		// ignores it as the last log; removed, it cannot end up between
		// two others. One with its header, if the removal fails, is a
		// valid empty log.
		s.fs.Remove(name)
		return nil, fmt.Errorf("journal: create log %s: %w", name, err)
	}
	s.step(stepLogCreated)
	return f, nil
}

// datasync syncs f's data and counts it.
func (s *Store) datasync(f file) error {
	s.fsyncs.Add(1)
	return f.Datasync()
}

// syncDir makes the store directory's entries durable.
func (s *Store) syncDir() error {
	d, err := s.fs.OpenFile(s.dir, os.O_RDONLY, 0)
	if err != nil {
		return fmt.Errorf("journal: sync directory: %w", err)
	}
	s.fsyncs.Add(1)
	err = d.Sync()
	d.Close()
	if err != nil {
		return fmt.Errorf("journal: sync directory %s: %w", s.dir, err)
	}
	return nil
}

// removeLogsBefore removes the logs older than generation gen, which the
// snapshot covers. A log left behind is harmless: recovery skips it.
func (s *Store) removeLogsBefore(gen uint64) {
	names, err := s.fs.ReadDir(s.dir)
	if err != nil {
		s.logger.Warn("lease journal: cannot list the store to remove old logs", "dir", s.dir, "err", err)
		return
	}
	for _, name := range names {
		if g, ok := parseLogName(name); ok && g < gen {
			if err := s.fs.Remove(filepath.Join(s.dir, name)); err != nil {
				s.logger.Warn("lease journal: cannot remove old log", "err", err)
				continue
			}
			s.step(stepLogRemoved)
		}
	}
}

package journal

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"leased/lease"
)

// File names inside a store directory.
const (
	lockName     = "lock"
	snapshotName = "snapshot"
	snapshotTemp = "snapshot.tmp"
	logPrefix    = "log."
)

// logName returns the file name of the log of generation gen.
func logName(gen uint64) string { return fmt.Sprintf("%s%016x", logPrefix, gen) }

// parseLogName returns the generation of a log file name.
func parseLogName(name string) (uint64, bool) {
	hex, ok := strings.CutPrefix(name, logPrefix)
	if !ok || len(hex) != 16 {
		return 0, false
	}
	gen, err := strconv.ParseUint(hex, 16, 64)
	return gen, err == nil && gen > 0
}

// CorruptError reports a store file that cannot be read as written: a bad
// checksum, a malformed record, a missing file or a truncated snapshot
// anywhere but in the torn tail of the last log. Open refuses such a store
// unless Options.Salvage is set.
type CorruptError struct {
	File   string // the file at fault
	Offset int64  // byte offset in File where the bad data starts
	Reason string // what is wrong there
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("journal: %s: corrupt at offset %d: %s (salvage keeps the readable records and drops the rest)",
		e.File, e.Offset, e.Reason)
}

// window reads a file through a buffer that slides forward, and also
// serves random access when recovery searches past a bad spot.
type window struct {
	r    io.ReaderAt
	size int64
	off  int64  // file offset of buf[0]
	buf  []byte // file bytes [off, off+len(buf))
	mem  []byte
}

func newWindow(r io.ReaderAt, size int64) *window {
	return &window{r: r, size: size, mem: make([]byte, 1<<20)}
}

// bytes returns the n bytes at offset o. The result is valid until the
// next call. It fails with io.ErrUnexpectedEOF if the file is shorter.
func (w *window) bytes(o int64, n int) ([]byte, error) {
	if o < 0 || n < 0 || o+int64(n) > w.size {
		return nil, io.ErrUnexpectedEOF
	}
	if o >= w.off && o+int64(n) <= w.off+int64(len(w.buf)) {
		i := o - w.off
		return w.buf[i : i+int64(n)], nil
	}
	if n > len(w.mem) {
		w.mem = make([]byte, n)
	}
	m := int(min(int64(len(w.mem)), w.size-o))
	k, err := w.r.ReadAt(w.mem[:m], o)
	if k < n {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		w.buf = nil
		return nil, err
	}
	w.off, w.buf = o, w.mem[:k]
	return w.buf[:n], nil
}

// state is the in-memory image of a store: the latest record of every
// live address.
type state struct {
	live      map[uint32]uint64 // address key -> arena ref
	arena     *arena
	liveBytes int64 // size the live records take in a snapshot
	// dirty, while a compaction runs, holds the addresses whose record
	// changed since the compaction copied live; nil otherwise.
	dirty   map[uint32]struct{}
	scratch []byte // for re-encoding a confirmed record
}

// apply makes a checked lease payload the record of its address, or
// applies a checked confirmation.
func (s *state) apply(p []byte) {
	k := payloadKey(p)
	if p[0] == kindConfirm {
		s.confirm(k, payloadStart(p), lease.DNSState(p[5]))
		return
	}
	if s.dirty != nil {
		s.dirty[k] = struct{}{}
	}
	if old, ok := s.live[k]; ok {
		s.liveBytes -= int64(frameHeaderSize + len(s.arena.get(old)))
		if payloadFree(p) {
			delete(s.live, k)
			return
		}
	} else if payloadFree(p) {
		return
	}
	s.live[k] = s.arena.add(p)
	s.liveBytes += int64(frameHeaderSize + len(p))
}

// rebuild copies the live records into a fresh arena, dropping garbage.
func (s *state) rebuild() {
	fresh := &arena{}
	for k, ref := range s.live {
		s.live[k] = fresh.add(s.arena.get(ref))
	}
	s.arena = fresh
}

// recovery loads a store directory: the snapshot, then the logs it does
// not cover, in order.
type recovery struct {
	dir     string
	fs      fileSystem
	salvage bool
	warn    func(msg string, args ...any)
	// settle makes the bytes of the last log that are only in memory go
	// to the disk, or be forgotten, before they are read: see "Write
	// errors" in the package documentation. Without it, recovery still
	// drops the clean cached pages, but writes nothing.
	settle bool

	state
	snapGen   uint64   // generation of the snapshot, 0 if none
	maxGen    uint64   // highest generation named by any file
	logs      []uint64 // generations of the logs to replay, ascending
	obsolete  []uint64 // generations of logs the snapshot covers
	temp      bool     // a snapshot.tmp was left behind
	records   int64    // records read
	salvaged  bool     // corrupt data was skipped
	replay    int64    // bytes of the logs that were replayed
	lastGen   uint64   // generation of the last log replayed, 0 if none
	lastValid int64    // length of the valid part of the last log
	lastSize  int64    // size of the last log file, zeroed space included
	lastTorn  int64    // bytes of torn tail ignored in the last log
	// dropped is the generation of a last log left without a whole
	// header by a crash or a failure while it was created: it holds
	// nothing and is not replayed. 0 if none.
	dropped uint64
}

// load reads the directory into r.
func (r *recovery) load() error {
	names, err := r.fs.ReadDir(r.dir)
	if err != nil {
		return fmt.Errorf("journal: open store: %w", err)
	}
	hasSnap := false
	var gens []uint64
	for _, name := range names {
		switch name {
		case snapshotName:
			hasSnap = true
		case snapshotTemp:
			r.temp = true
		default:
			if gen, ok := parseLogName(name); ok {
				gens = append(gens, gen)
				r.maxGen = max(r.maxGen, gen)
			}
		}
	}
	slices.Sort(gens)
	var logBytes int64
	for _, g := range gens {
		if n, err := r.fs.Size(filepath.Join(r.dir, logName(g))); err == nil {
			logBytes += n
		}
	}
	r.state = state{arena: &arena{}}
	if hasSnap {
		if err := r.loadSnapshot(logBytes); err != nil {
			return err
		}
	} else {
		r.live = make(map[uint32]uint64, logBytes/64)
	}
	r.maxGen = max(r.maxGen, r.snapGen)
	for _, g := range gens {
		if g < r.snapGen {
			r.obsolete = append(r.obsolete, g)
		} else {
			r.logs = append(r.logs, g)
		}
	}
	// The logs a snapshot does not cover must follow it without a gap;
	// without a snapshot they must start at the first generation.
	want := max(r.snapGen, 1)
	for _, g := range r.logs {
		if g != want {
			name := filepath.Join(r.dir, logName(want))
			if !r.salvage {
				return &CorruptError{File: name, Reason: fmt.Sprintf("log is missing (the next present is %s)", logName(g))}
			}
			r.salvaged = true
			r.warn("lease journal: salvage: log missing, records lost", "file", name)
		}
		want = g + 1
	}
	if n := len(r.logs); n > 0 && r.headerless(r.logs[n-1]) {
		r.dropped = r.logs[n-1]
		r.logs = r.logs[:n-1]
	}
	for i, g := range r.logs {
		last := i == len(r.logs)-1
		var end int64
		if !last {
			end = r.prevEnd(r.logs[i+1])
		}
		if err := r.replayLog(g, last, end); err != nil {
			return err
		}
	}
	// Recovery replays every version of a record into the arena; drop the
	// superseded ones now rather than at the first compaction.
	if r.arena.size > 2*r.liveBytes+chunkSize {
		r.rebuild()
	}
	return nil
}

// headerless reports whether the log of generation gen lacks a whole
// header and holds nothing else: a crash or a failure came while it was
// created, before its header was synced.
func (r *recovery) headerless(gen uint64) bool {
	f, size, err := r.openRead(filepath.Join(r.dir, logName(gen)))
	if err != nil {
		return false
	}
	defer f.Close()
	if size > fileHeaderSize {
		return false
	}
	b := make([]byte, fileHeaderSize)
	n, _ := f.ReadAt(b, 0)
	_, err = parseFileHeader(b[:n], logMagic)
	return err != nil
}

// prevEnd returns where the log of generation gen says the log before it
// ends, from its header, or 0 if it does not say (or cannot be read:
// replaying it will tell).
func (r *recovery) prevEnd(gen uint64) int64 {
	f, _, err := r.openRead(filepath.Join(r.dir, logName(gen)))
	if err != nil {
		return 0
	}
	defer f.Close()
	b := make([]byte, fileHeaderSize)
	if _, err := f.ReadAt(b, 0); err != nil {
		return 0
	}
	h, err := parseFileHeader(b, logMagic)
	if err != nil || h.gen != gen || h.count > 1<<62 {
		return 0
	}
	return int64(h.count)
}

// openRead opens name for reading and returns it with its size.
func (r *recovery) openRead(name string) (file, int64, error) {
	f, err := r.fs.OpenFile(name, os.O_RDONLY, 0)
	if err != nil {
		return nil, 0, fmt.Errorf("journal: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("journal: %w", err)
	}
	return f, fi.Size(), nil
}

// loadSnapshot reads the snapshot into r.state. logBytes, the size of the
// logs, helps size the address map.
func (r *recovery) loadSnapshot(logBytes int64) error {
	name := filepath.Join(r.dir, snapshotName)
	f, size, err := r.openRead(name)
	if err != nil {
		return err
	}
	defer f.Close()
	return r.loadSnapshotWindow(name, newWindow(f, size), logBytes)
}

// loadSnapshotWindow loads the snapshot read through w; see loadSnapshot.
func (r *recovery) loadSnapshotWindow(name string, w *window, logBytes int64) error {
	size := w.size
	b, err := w.bytes(0, fileHeaderSize)
	if err != nil {
		return &CorruptError{File: name, Reason: fmt.Sprintf("file of %d bytes is shorter than its header", size)}
	}
	h, err := parseFileHeader(b, snapshotMagic)
	if err != nil {
		// Without its header the snapshot's generation is unknown, so
		// even salvage cannot tell which logs follow it.
		return &CorruptError{File: name, Reason: err.Error()}
	}
	if h.gen == 0 {
		return &CorruptError{File: name, Reason: "generation 0 in header"}
	}
	r.snapGen = h.gen
	hint := min(h.count, uint64(size/minPayload)) + uint64(logBytes/64)
	r.live = make(map[uint32]uint64, hint)
	off := int64(fileHeaderSize)
	var n uint64
	for n < h.count && off < size {
		b, _ := w.bytes(off, int(min(maxFrame, size-off)))
		p, fsize, err := checkFrame(b)
		if err != nil {
			if !r.salvage {
				return &CorruptError{File: name, Offset: off, Reason: err.Error()}
			}
			next := r.nextFrame(w, off+1)
			r.salvaged = true
			r.warn("lease journal: salvage: skipping corrupt snapshot bytes", "file", name, "offset", off, "bytes", next-off, "err", err)
			off = next
			continue
		}
		r.apply(p)
		r.records++
		n++
		off += int64(fsize)
	}
	switch {
	case n < h.count && !r.salvage:
		return &CorruptError{File: name, Offset: off, Reason: fmt.Sprintf("snapshot ends after %d of %d records", n, h.count)}
	case off < size && !r.salvage:
		return &CorruptError{File: name, Offset: off, Reason: fmt.Sprintf("%d bytes after the last record", size-off)}
	case n < h.count || off < size:
		r.salvaged = true
		r.warn("lease journal: salvage: snapshot incomplete", "file", name, "records", n, "want", h.count)
	}
	return nil
}

// nextFrame returns the offset of the first valid record frame at or after
// from, or the file size if there is none.
func (r *recovery) nextFrame(w *window, from int64) int64 {
	for o := from; o+frameHeaderSize+minPayload <= w.size; o++ {
		b, err := w.bytes(o, int(min(maxFrame, w.size-o)))
		if err != nil {
			break
		}
		if _, _, err := checkFrame(b); err == nil {
			return o
		}
	}
	return w.size
}

// batchError describes a batch that is not valid.
type batchError struct {
	headerOK bool  // the batch header itself is valid
	end      int64 // with headerOK: where the batch says it ends
	reason   string
}

// readBatch checks the batch at offset o and returns its body.
func readBatch(w *window, o int64) (body []byte, end int64, berr *batchError) {
	h, err := w.bytes(o, batchHeaderSize)
	if err != nil {
		return nil, 0, &batchError{reason: fmt.Sprintf("batch header: %d of %d bytes", w.size-o, batchHeaderSize)}
	}
	length, count, ok := parseBatchHeader(h)
	if !ok {
		return nil, 0, &batchError{reason: "bad batch header"}
	}
	end = o + batchHeaderSize + length
	if end > w.size {
		return nil, end, &batchError{headerOK: true, end: end, reason: fmt.Sprintf("batch of %d bytes, %d present", length, w.size-o-batchHeaderSize)}
	}
	body, err = w.bytes(o+batchHeaderSize, int(length))
	if err != nil {
		return nil, end, &batchError{headerOK: true, end: end, reason: err.Error()}
	}
	var n int64
	for i := 0; i < len(body); n++ {
		_, size, err := checkFrame(body[i:])
		if err != nil {
			return nil, end, &batchError{headerOK: true, end: end, reason: fmt.Sprintf("record %d at offset %d: %v", n, o+batchHeaderSize+int64(i), err)}
		}
		i += size
	}
	if n != count {
		return nil, end, &batchError{headerOK: true, end: end, reason: fmt.Sprintf("batch holds %d records, header says %d", n, count)}
	}
	return body, end, nil
}

// nextBatch returns the offset of the first valid batch at or after from,
// or -1 if there is none.
func nextBatch(w *window, from int64) int64 {
	var magic [4]byte
	binary.LittleEndian.PutUint32(magic[:], batchMagic)
	for o := from; o+batchHeaderSize <= w.size; {
		n := min(1<<20, w.size-o)
		b, err := w.bytes(o, int(n))
		if err != nil {
			break
		}
		i := bytes.Index(b, magic[:])
		if i < 0 {
			o += n - int64(len(magic)) + 1
			continue
		}
		p := o + int64(i)
		if _, _, berr := readBatch(w, p); berr == nil {
			return p
		}
		o = p + 1
	}
	return -1
}

// zeroTail reports whether the bytes from offset o to the end of the file
// are all zero: space the writer filled ahead of the log's end.
func zeroTail(w *window, o int64) bool {
	for o < w.size {
		n := min(1<<20, w.size-o)
		b, err := w.bytes(o, int(n))
		if err != nil {
			return false
		}
		for _, c := range b {
			if c != 0 {
				return false
			}
		}
		o += n
	}
	return true
}

// replayLog applies the log of generation gen. last says whether it is
// the newest log, the only one allowed a torn tail. end, if not 0, is
// where the next log's header says this one ends: its batches must end
// there, and what follows is ignored.
//
// The last log is first settled: see "Write errors" in the package
// documentation.
func (r *recovery) replayLog(gen uint64, last bool, end int64) error {
	name := filepath.Join(r.dir, logName(gen))
	f, _, err := r.openRead(name)
	if err != nil {
		return err
	}
	defer f.Close()
	if last {
		if r.settle {
			if err := f.Datasync(); err != nil {
				r.warn("lease journal: cannot sync the last log before reading it; reading what the disk holds", "file", name, "err", err)
			}
		}
		if err := f.DropCache(); err != nil {
			r.warn("lease journal: cannot drop the last log's cached pages", "file", name, "err", err)
		}
	}
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	return r.replayWindow(name, newWindow(f, fi.Size()), gen, last, end)
}

// replayWindow applies the log read through w; see replayLog.
func (r *recovery) replayWindow(name string, w *window, gen uint64, last bool, end int64) error {
	size := w.size
	if end > 0 {
		if end > size {
			if !r.salvage {
				return &CorruptError{File: name, Offset: size, Reason: fmt.Sprintf("log of %d bytes, the next log's header says it ends at %d", size, end)}
			}
			r.salvaged = true
			r.warn("lease journal: salvage: log shorter than the next log says", "file", name, "size", size, "end", end)
			end = size
		}
		size = end
	}
	b, err := w.bytes(0, fileHeaderSize)
	if err == nil {
		var h fileHeader
		h, err = parseFileHeader(b, logMagic)
		if err == nil && h.gen != gen {
			err = fmt.Errorf("header names generation %d, file name %d", h.gen, gen)
		}
	}
	if err != nil {
		if !r.salvage {
			return &CorruptError{File: name, Reason: fmt.Sprintf("log header: %v", err)}
		}
		r.salvaged = true
		r.warn("lease journal: salvage: bad log header", "file", name, "err", err)
	}
	off := int64(fileHeaderSize)
	for off < size {
		body, bend, berr := readBatch(w, off)
		if berr == nil && end > 0 && bend > end {
			berr = &batchError{reason: fmt.Sprintf("batch ends at %d, past %d where the next log's header says this log ends", bend, end)}
		}
		if berr == nil {
			for i := 0; i < len(body); {
				p, n, _ := checkFrame(body[i:])
				r.apply(p)
				r.records++
				i += n
			}
			off = bend
			continue
		}
		if end == 0 && zeroTail(w, off) {
			// The end of the log; the zeros were written ahead of it.
			size = off
			break
		}
		if last && nextBatch(w, off+1) < 0 {
			// A torn tail: see the package documentation.
			r.lastTorn = size - off
			size = off
			break
		}
		if !r.salvage {
			return &CorruptError{File: name, Offset: off, Reason: berr.reason}
		}
		next := nextBatch(w, off+1)
		if next < 0 {
			next = size
		}
		r.salvaged = true
		r.warn("lease journal: salvage: skipping corrupt log bytes", "file", name, "offset", off, "bytes", next-off, "err", berr.reason)
		off = next
	}
	r.replay += size
	if last {
		r.lastGen, r.lastValid, r.lastSize = gen, size, w.size
	}
	return nil
}

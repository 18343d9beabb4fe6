package journal

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// memFS is a strict model of a file system on one disk, and of the
// kernel's page cache in front of it, in the spirit of Pebble's
// vfs.NewStrictMem and errorfs:
//
//   - Reads see every write at once (the page cache). A crash (crash)
//     leaves only what was synced: a file's data and size as of its last
//     successful Datasync, and a directory's names as of its last Sync.
//   - A failed Datasync marks the data written since the last successful
//     one as lost, as Linux does: the pages stay readable, clean, and are
//     never written, even by a later Datasync that succeeds; a crash or
//     DropCache makes reads return what the disk holds there.
//   - A process (process) is a view of the file system that kill ends: its
//     files and locks are closed, and its later calls fail. A restart
//     without a crash (kill, then a new process) keeps the page cache.
//   - fail injects an error into the Nth and later operations of a kind.
type memFS struct {
	mu     sync.Mutex
	dirs   map[string]*memDir
	locks  map[string]*memProc
	procs  []*memProc
	faults [numOps]*memFault
	counts [numOps]int // operations of each kind
	failed [numOps]int // of which failed by injection
	free   int64       // what FreeBytes reports
}

// fsOp is a kind of operation of the model, for injecting faults.
type fsOp int

const (
	opWrite    fsOp = iota // WriteAt of data
	opExtend               // WriteAt of zeros at or past the end: filling ahead
	opDatasync             // Datasync or Sync of a file
	opCreate               // OpenFile creating a file
	opRename               // Rename
	opTruncate             // Truncate, or OpenFile with O_TRUNC of a file with data
	opRemove               // Remove
	opSyncDir              // Sync of a directory
	numOps
)

func (op fsOp) String() string {
	return [...]string{"write", "extend", "datasync", "create", "rename", "truncate", "remove", "syncdir"}[op]
}

// memFault fails operations of one kind.
type memFault struct {
	err   syscall.Errno
	after int    // operations to let pass first
	n     int    // operations to fail then; < 0: all
	only  string // if set, only on files whose name starts with it
}

// memDir is a directory: its names as the kernel shows them and as a
// crash would leave them.
type memDir struct {
	names, durable map[string]*memInode
}

// Byte states of a memInode.
const (
	byteClean uint8 = iota // as on the disk
	byteDirty              // written, not synced yet
	byteLost               // a sync failed: in memory only, never written
)

// memInode is a file's contents.
type memInode struct {
	data  []byte  // what reads return
	state []uint8 // per byte of data
	disk  []byte  // what the disk holds; its length is the durable size
}

// memProc is one process's view of a memFS; it implements fileSystem.
type memProc struct {
	m    *memFS
	dead bool // guarded by m.mu
}

var errKilled = errors.New("memfs: the process was killed")

func newMemFS() *memFS {
	return &memFS{dirs: make(map[string]*memDir), locks: make(map[string]*memProc), free: 1 << 30}
}

// process starts a process on m.
func (m *memFS) process() *memProc {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := &memProc{m: m}
	m.procs = append(m.procs, p)
	return p
}

// kill ends p: its locks are released and its later calls fail. The page
// cache is kept.
func (p *memProc) kill() {
	p.m.mu.Lock()
	defer p.m.mu.Unlock()
	p.killLocked()
}

func (p *memProc) killLocked() {
	p.dead = true
	for name, holder := range p.m.locks {
		if holder == p {
			delete(p.m.locks, name)
		}
	}
}

// crash kills every process and drops everything that was not synced.
func (m *memFS) crash() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, p := range m.procs {
		p.killLocked()
	}
	for _, d := range m.dirs {
		d.names = maps.Clone(d.durable)
		for _, ino := range d.names {
			ino.data = bytes.Clone(ino.disk)
			ino.state = make([]uint8, len(ino.data))
		}
	}
}

// fail makes the operations of kind op fail with err: after the next
// `after` of them pass, the n following fail (n < 0: all of them).
func (m *memFS) fail(op fsOp, err syscall.Errno, after, n int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.faults[op] = &memFault{err: err, after: after, n: n}
}

// failOn is fail(op, err, 0, -1) on the files whose name starts with
// prefix only.
func (m *memFS) failOn(op fsOp, err syscall.Errno, prefix string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.faults[op] = &memFault{err: err, n: -1, only: prefix}
}

// heal removes every injected fault.
func (m *memFS) heal() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.faults = [numOps]*memFault{}
}

// failures returns how many operations of kind op failed by injection.
func (m *memFS) failures(op fsOp) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.failed[op]
}

// clone returns a copy of m's contents, with no process and no fault.
func (m *memFS) clone() *memFS {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := newMemFS()
	c.free = m.free
	inodes := make(map[*memInode]*memInode)
	cp := func(ino *memInode) *memInode {
		if n, ok := inodes[ino]; ok {
			return n
		}
		n := &memInode{data: bytes.Clone(ino.data), state: bytes.Clone(ino.state), disk: bytes.Clone(ino.disk)}
		inodes[ino] = n
		return n
	}
	for path, d := range m.dirs {
		nd := &memDir{names: make(map[string]*memInode), durable: make(map[string]*memInode)}
		for name, ino := range d.names {
			nd.names[name] = cp(ino)
		}
		for name, ino := range d.durable {
			nd.durable[name] = cp(ino)
		}
		c.dirs[path] = nd
	}
	return c
}

// fault counts an operation of kind op on file name and returns the
// error injected into it, if any. m.mu is held.
func (m *memFS) fault(op fsOp, name string) error {
	m.counts[op]++
	f := m.faults[op]
	switch {
	case f == nil || f.n == 0:
		return nil
	case f.only != "" && !strings.HasPrefix(filepath.Base(name), f.only):
		return nil
	case f.after > 0:
		f.after--
		return nil
	case f.n > 0:
		f.n--
	}
	m.failed[op]++
	return f.err
}

// check fails the calls of a killed process. m.mu is held.
func (p *memProc) check(op, name string) error {
	if p.dead {
		return &fs.PathError{Op: op, Path: name, Err: errKilled}
	}
	return nil
}

// lookup returns the directory of name and name's base. m.mu is held.
func (m *memFS) lookup(op, name string) (*memDir, string, error) {
	d := m.dirs[filepath.Dir(name)]
	if d == nil {
		return nil, "", &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
	}
	return d, filepath.Base(name), nil
}

func (p *memProc) OpenFile(name string, flag int, _ fs.FileMode) (file, error) {
	m := p.m
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := p.check("open", name); err != nil {
		return nil, err
	}
	name = filepath.Clean(name)
	if d := m.dirs[name]; d != nil {
		return &memFile{p: p, name: name, dir: d}, nil
	}
	d, base, err := m.lookup("open", name)
	if err != nil {
		return nil, err
	}
	ino := d.names[base]
	switch {
	case ino == nil && flag&os.O_CREATE == 0:
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	case ino == nil:
		if err := m.fault(opCreate, name); err != nil {
			return nil, &fs.PathError{Op: "open", Path: name, Err: err}
		}
		ino = &memInode{}
		d.names[base] = ino
	case flag&os.O_TRUNC != 0 && len(ino.data) > 0:
		if err := m.fault(opTruncate, name); err != nil {
			return nil, &fs.PathError{Op: "open", Path: name, Err: err}
		}
		ino.resize(0)
	}
	return &memFile{p: p, name: name, ino: ino}, nil
}

func (p *memProc) ReadDir(name string) ([]string, error) {
	m := p.m
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := p.check("readdir", name); err != nil {
		return nil, err
	}
	d := m.dirs[filepath.Clean(name)]
	if d == nil {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrNotExist}
	}
	return slices.Sorted(maps.Keys(d.names)), nil
}

func (p *memProc) Size(name string) (int64, error) {
	m := p.m
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := p.check("stat", name); err != nil {
		return 0, err
	}
	d, base, err := m.lookup("stat", name)
	if err != nil {
		return 0, err
	}
	ino := d.names[base]
	if ino == nil {
		return 0, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrNotExist}
	}
	return int64(len(ino.data)), nil
}

func (p *memProc) Rename(oldname, newname string) error {
	m := p.m
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := p.check("rename", oldname); err != nil {
		return err
	}
	d, ob, err := m.lookup("rename", oldname)
	if err != nil {
		return err
	}
	nd, nb, err := m.lookup("rename", newname)
	if err != nil || nd != d {
		return &fs.PathError{Op: "rename", Path: newname, Err: syscall.EXDEV}
	}
	ino := d.names[ob]
	if ino == nil {
		return &fs.PathError{Op: "rename", Path: oldname, Err: fs.ErrNotExist}
	}
	if err := m.fault(opRename, oldname); err != nil {
		return &fs.PathError{Op: "rename", Path: oldname, Err: err}
	}
	delete(d.names, ob)
	d.names[nb] = ino
	return nil
}

func (p *memProc) Remove(name string) error {
	m := p.m
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := p.check("remove", name); err != nil {
		return err
	}
	d, base, err := m.lookup("remove", name)
	if err != nil {
		return err
	}
	if d.names[base] == nil {
		return &fs.PathError{Op: "remove", Path: name, Err: fs.ErrNotExist}
	}
	if err := m.fault(opRemove, name); err != nil {
		return &fs.PathError{Op: "remove", Path: name, Err: err}
	}
	delete(d.names, base)
	return nil
}

// MkdirAll makes the directory, durable at once: the model holds one
// level of directories and does not follow their parents.
func (p *memProc) MkdirAll(name string, _ fs.FileMode) error {
	m := p.m
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := p.check("mkdir", name); err != nil {
		return err
	}
	name = filepath.Clean(name)
	if m.dirs[name] == nil {
		m.dirs[name] = &memDir{names: make(map[string]*memInode), durable: make(map[string]*memInode)}
	}
	return nil
}

func (p *memProc) Lock(name string) (io.Closer, string, error) {
	m := p.m
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := p.check("lock", name); err != nil {
		return nil, "", err
	}
	d, base, err := m.lookup("lock", name)
	if err != nil {
		return nil, "", err
	}
	if h := m.locks[name]; h != nil && h != p && !h.dead {
		return nil, "model process", errLockBusy
	}
	if d.names[base] == nil {
		d.names[base] = &memInode{}
	}
	m.locks[name] = p
	return memLock{p: p, name: name}, "", nil
}

func (p *memProc) FreeBytes(string) (int64, error) {
	p.m.mu.Lock()
	defer p.m.mu.Unlock()
	return p.m.free, nil
}

// memLock is a lock held by a process.
type memLock struct {
	p    *memProc
	name string
}

func (l memLock) Close() error {
	l.p.m.mu.Lock()
	defer l.p.m.mu.Unlock()
	if l.p.m.locks[l.name] == l.p {
		delete(l.p.m.locks, l.name)
	}
	return nil
}

// resize makes ino size bytes long; new bytes are zeros, not yet synced.
func (ino *memInode) resize(size int) {
	if size <= len(ino.data) {
		ino.data, ino.state = ino.data[:size], ino.state[:size]
		return
	}
	n := size - len(ino.data)
	ino.data = append(ino.data, make([]byte, n)...)
	ino.state = append(ino.state, bytes.Repeat([]byte{byteDirty}, n)...)
}

// memFile is an open file or directory of a process.
type memFile struct {
	p    *memProc
	name string
	ino  *memInode // nil for a directory
	dir  *memDir   // nil for a file
}

func (f *memFile) ReadAt(b []byte, off int64) (int, error) {
	m := f.p.m
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := f.p.check("read", f.name); err != nil {
		return 0, err
	}
	if f.ino == nil {
		return 0, &fs.PathError{Op: "read", Path: f.name, Err: syscall.EISDIR}
	}
	if off >= int64(len(f.ino.data)) {
		return 0, io.EOF
	}
	n := copy(b, f.ino.data[off:])
	if n < len(b) {
		return n, io.EOF
	}
	return n, nil
}

func (f *memFile) WriteAt(b []byte, off int64) (int, error) {
	m := f.p.m
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := f.p.check("write", f.name); err != nil {
		return 0, err
	}
	if f.ino == nil {
		return 0, &fs.PathError{Op: "write", Path: f.name, Err: syscall.EISDIR}
	}
	op := opWrite
	if off >= int64(len(f.ino.data)) && !slices.ContainsFunc(b, func(c byte) bool { return c != 0 }) {
		op = opExtend
	}
	if err := m.fault(op, f.name); err != nil {
		n := 0
		if err == syscall.ENOSPC && op == opWrite {
			// A full disk takes what it has room for.
			n = len(b) / 2
			f.ino.write(b[:n], off)
		}
		return n, &fs.PathError{Op: "write", Path: f.name, Err: err}
	}
	f.ino.write(b, off)
	return len(b), nil
}

func (ino *memInode) write(b []byte, off int64) {
	if end := int(off) + len(b); end > len(ino.data) {
		ino.resize(end)
	}
	copy(ino.data[off:], b)
	for i := range b {
		ino.state[int(off)+i] = byteDirty
	}
}

func (f *memFile) Datasync() error {
	m := f.p.m
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := f.p.check("fdatasync", f.name); err != nil {
		return err
	}
	if f.ino == nil {
		return f.syncDir()
	}
	ino := f.ino
	if err := m.fault(opDatasync, f.name); err != nil {
		// Linux marks the pages clean without writing them.
		for i, st := range ino.state {
			if st == byteDirty {
				ino.state[i] = byteLost
			}
		}
		return &fs.PathError{Op: "fdatasync", Path: f.name, Err: err}
	}
	disk := make([]byte, len(ino.data))
	copy(disk, ino.disk)
	for i, st := range ino.state {
		if st == byteDirty {
			disk[i] = ino.data[i]
			ino.state[i] = byteClean
		}
	}
	ino.disk = disk
	return nil
}

func (f *memFile) Sync() error {
	if f.ino != nil {
		return f.Datasync()
	}
	m := f.p.m
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := f.p.check("fsync", f.name); err != nil {
		return err
	}
	return f.syncDir()
}

// syncDir makes the directory's names durable. m.mu is held.
func (f *memFile) syncDir() error {
	if err := f.p.m.fault(opSyncDir, f.name); err != nil {
		return &fs.PathError{Op: "fsync", Path: f.name, Err: err}
	}
	f.dir.durable = maps.Clone(f.dir.names)
	return nil
}

// DropCache makes the lost bytes read as what the disk holds.
func (f *memFile) DropCache() error {
	m := f.p.m
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := f.p.check("fadvise", f.name); err != nil {
		return err
	}
	if f.ino == nil {
		return nil
	}
	for i, st := range f.ino.state {
		if st == byteLost {
			f.ino.data[i] = 0
			if i < len(f.ino.disk) {
				f.ino.data[i] = f.ino.disk[i]
			}
			f.ino.state[i] = byteClean
		}
	}
	return nil
}

func (f *memFile) Truncate(size int64) error {
	m := f.p.m
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := f.p.check("truncate", f.name); err != nil {
		return err
	}
	if f.ino == nil {
		return &fs.PathError{Op: "truncate", Path: f.name, Err: syscall.EISDIR}
	}
	if err := m.fault(opTruncate, f.name); err != nil {
		return &fs.PathError{Op: "truncate", Path: f.name, Err: err}
	}
	f.ino.resize(int(size))
	return nil
}

func (f *memFile) Stat() (fs.FileInfo, error) {
	m := f.p.m
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := f.p.check("stat", f.name); err != nil {
		return nil, err
	}
	fi := memInfo{name: filepath.Base(f.name), dir: f.ino == nil}
	if f.ino != nil {
		fi.size = int64(len(f.ino.data))
	}
	return fi, nil
}

func (f *memFile) Close() error { return nil }

// memInfo is the fs.FileInfo of a memFile.
type memInfo struct {
	name string
	size int64
	dir  bool
}

func (fi memInfo) Name() string       { return fi.name }
func (fi memInfo) Size() int64        { return fi.size }
func (fi memInfo) ModTime() time.Time { return time.Time{} }
func (fi memInfo) IsDir() bool        { return fi.dir }
func (fi memInfo) Sys() any           { return nil }
func (fi memInfo) Mode() fs.FileMode {
	if fi.dir {
		return fs.ModeDir | 0o750
	}
	return 0o640
}

// readAll returns the contents of name as p sees them.
func readAll(t *testing.T, p *memProc, name string) string {
	t.Helper()
	f, err := p.OpenFile(name, os.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, fi.Size())
	if _, err := f.ReadAt(b, 0); err != nil && err != io.EOF {
		t.Fatal(err)
	}
	return string(b)
}

// TestMemFSIsStrict checks the model against the rules it stands for.
func TestMemFSIsStrict(t *testing.T) {
	m := newMemFS()
	p := m.process()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(p.MkdirAll("/d", 0o750))
	dir, err := p.OpenFile("/d", os.O_RDONLY, 0)
	must(err)
	f, err := p.OpenFile("/d/a", os.O_RDWR|os.O_CREATE, 0o640)
	must(err)
	_, err = f.WriteAt([]byte("synced"), 0)
	must(err)
	must(f.Datasync())
	must(dir.Sync())
	_, err = f.WriteAt([]byte("+unsynced"), 6)
	must(err)

	// An unsynced name and unsynced data do not survive a crash.
	g, err := p.OpenFile("/d/b", os.O_RDWR|os.O_CREATE, 0o640)
	must(err)
	_, err = g.WriteAt([]byte("data"), 0)
	must(err)
	must(g.Datasync())
	c := m.clone()
	c.crash()
	cp := c.process()
	if got := readAll(t, cp, "/d/a"); got != "synced" {
		t.Errorf("after a crash a = %q, want the synced part", got)
	}
	if _, err := cp.Size("/d/b"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a file whose directory was not synced survived a crash: %v", err)
	}

	// A failed fdatasync: the data stays readable until a crash or a
	// dropped cache, and a later fdatasync that succeeds does not write it.
	m.fail(opDatasync, syscall.EIO, 0, 1)
	if err := f.Datasync(); !errors.Is(err, syscall.EIO) {
		t.Fatalf("injected fdatasync error: %v", err)
	}
	must(f.Datasync())
	if got := readAll(t, p, "/d/a"); got != "synced+unsynced" {
		t.Errorf("after a failed sync a = %q, want the page cache's", got)
	}
	q := m.clone()
	p.kill()
	if _, err := f.WriteAt([]byte("x"), 0); err == nil {
		t.Errorf("a killed process could still write")
	}
	p2 := m.process()
	if got := readAll(t, p2, "/d/a"); got != "synced+unsynced" {
		t.Errorf("a new process reads a = %q, want the page cache's", got)
	}
	f2, err := p2.OpenFile("/d/a", os.O_RDONLY, 0)
	must(err)
	must(f2.DropCache())
	if got := readAll(t, p2, "/d/a"); got != "synced\x00\x00\x00\x00\x00\x00\x00\x00\x00" {
		t.Errorf("after dropping the cache a = %q, want the disk's (a hole after the synced part)", got)
	}
	// The later fdatasync made the size durable, not the lost bytes.
	q.crash()
	if got := readAll(t, q.process(), "/d/a"); got != "synced\x00\x00\x00\x00\x00\x00\x00\x00\x00" {
		t.Errorf("after a crash a = %q, want the synced part and a hole", got)
	}

	// A rename is durable with the directory's sync only.
	p3 := m.process()
	must(p3.Rename("/d/a", "/d/c"))
	r := m.clone()
	r.crash()
	if _, err := r.process().Size("/d/a"); err != nil {
		t.Errorf("an unsynced rename was durable: %v", err)
	}

	// Injected faults hit the Nth operation of their kind.
	m.fail(opCreate, syscall.ENOSPC, 1, 1)
	_, err = p3.OpenFile("/d/e", os.O_RDWR|os.O_CREATE, 0o640)
	must(err)
	if _, err := p3.OpenFile("/d/f", os.O_RDWR|os.O_CREATE, 0o640); !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("second create: %v, want ENOSPC", err)
	}
	if _, err := p3.OpenFile("/d/g", os.O_RDWR|os.O_CREATE, 0o640); err != nil {
		t.Errorf("third create: %v", err)
	}
	if n := m.failures(opCreate); n != 1 {
		t.Errorf("%d creates failed, want 1", n)
	}
	m.fail(opRemove, syscall.EIO, 0, -1)
	if err := p3.Remove("/d/e"); !errors.Is(err, syscall.EIO) {
		t.Errorf("remove with a fault: %v, want EIO", err)
	}
	m.heal()
	if err := p3.Remove("/d/e"); err != nil {
		t.Errorf("remove after heal: %v", err)
	}
}

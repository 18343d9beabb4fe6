package journal

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"
)

// file is the part of an open file that the store uses. The store opens
// every file through its fileSystem, so that tests can hand it files
// whose writes or syncs fail.
type file interface {
	io.ReaderAt
	io.WriterAt
	// Datasync flushes the file's data and size to stable storage
	// (fdatasync(2) where there is one).
	Datasync() error
	// Sync flushes the file and its metadata (fsync(2)); used on directories.
	Sync() error
	// DropCache asks the kernel to forget the file's clean cached pages
	// (posix_fadvise(2) POSIX_FADV_DONTNEED where there is one), so that
	// the next reads come from the disk. Recovery calls it before reading
	// a log: see "Write errors" in the package documentation.
	DropCache() error
	Truncate(size int64) error
	Stat() (fs.FileInfo, error)
	Close() error
}

// fileSystem is everything the store does to the file system besides
// reading and writing open files: Open, recovery, the writer, compaction
// and repair all go through it, so that tests can run the store on a
// model of a file system that fails and crashes on demand.
type fileSystem interface {
	// OpenFile opens a file the way os.OpenFile does.
	OpenFile(name string, flag int, perm fs.FileMode) (file, error)
	// ReadDir returns the names in directory name, sorted.
	ReadDir(name string) ([]string, error)
	// Size returns the size of file name.
	Size(name string) (int64, error)
	Rename(oldname, newname string) error
	Remove(name string) error
	MkdirAll(name string, perm fs.FileMode) error
	// Lock takes an exclusive lock on file name, creating it, without
	// waiting. When another holder has it, it fails with errLockBusy and
	// returns what the lock file says of the holder, if anything.
	Lock(name string) (lock io.Closer, holder string, err error)
	// FreeBytes returns the bytes an unprivileged writer may still use
	// on the file system holding name.
	FreeBytes(name string) (int64, error)
}

// errLockBusy is returned by fileSystem.Lock when the lock is held
// elsewhere.
var errLockBusy = errors.New("lock is held")

// openFunc opens a file the way os.OpenFile does.
type openFunc func(name string, flag int, perm fs.FileMode) (file, error)

// osFile is a file of the operating system.
type osFile struct{ *os.File }

func (f osFile) Datasync() error  { return datasync(f.File) }
func (f osFile) DropCache() error { return dropCache(f.File) }

// osFS is the operating system's file system.
type osFS struct{}

func (osFS) OpenFile(name string, flag int, perm fs.FileMode) (file, error) {
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return osFile{f}, nil
}

func (osFS) ReadDir(name string) ([]string, error) {
	ents, err := os.ReadDir(name)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(ents))
	for i, e := range ents {
		names[i] = e.Name()
	}
	slices.Sort(names)
	return names, nil
}

func (osFS) Size(name string) (int64, error) {
	fi, err := os.Stat(name)
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

func (osFS) Rename(oldname, newname string) error         { return os.Rename(oldname, newname) }
func (osFS) Remove(name string) error                     { return os.Remove(name) }
func (osFS) MkdirAll(name string, perm fs.FileMode) error { return os.MkdirAll(name, perm) }
func (osFS) FreeBytes(name string) (int64, error)         { return freeBytes(name) }

// Lock takes a flock(2) on name and writes the process id into it, for
// people to read.
func (osFS) Lock(name string) (io.Closer, string, error) {
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, "", err
	}
	busy, err := flock(f)
	if err != nil {
		f.Close()
		return nil, "", err
	}
	if busy {
		holder := ""
		if b, err := os.ReadFile(name); err == nil {
			if pid := strings.TrimSpace(string(b)); pid != "" {
				holder = "process " + pid
			}
		}
		f.Close()
		return nil, holder, errLockBusy
	}
	// The process id is for people; the lock is the flock. On a full
	// disk it may not be written, which does not matter.
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return f, "", nil
}

// openOverride is a file system whose OpenFile is replaced; tests use it
// to wrap the files of the operating system.
type openOverride struct {
	fileSystem
	open openFunc
}

func (o openOverride) OpenFile(name string, flag int, perm fs.FileMode) (file, error) {
	return o.open(name, flag, perm)
}

// openOS opens a file of the operating system.
func openOS(name string, flag int, perm fs.FileMode) (file, error) {
	return osFS{}.OpenFile(name, flag, perm)
}

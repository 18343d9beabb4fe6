package journal

import (
	"io"
	"io/fs"
	"os"
)

// file is the part of an open file that the store uses. The store opens
// every file through Options.openFile, so that tests can hand it files
// whose writes or syncs fail.
type file interface {
	io.ReaderAt
	io.WriterAt
	// Datasync flushes the file's data and size to stable storage
	// (fdatasync(2) where there is one).
	Datasync() error
	// Sync flushes the file and its metadata (fsync(2)); used on directories.
	Sync() error
	Truncate(size int64) error
	Stat() (fs.FileInfo, error)
	Close() error
}

// openFunc opens a file the way os.OpenFile does.
type openFunc func(name string, flag int, perm fs.FileMode) (file, error)

// osFile is a file of the operating system.
type osFile struct{ *os.File }

func (f osFile) Datasync() error { return datasync(f.File) }

// openOS is the default openFunc.
func openOS(name string, flag int, perm fs.FileMode) (file, error) {
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return osFile{f}, nil
}

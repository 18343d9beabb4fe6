package control

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A live server's socket stops a second start with an error that says
// so; one left by a server that died is taken over.
func TestListenUnixSocketInUse(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "control.sock")
	ln, err := ListenUnix(path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = ListenUnix(path)
	if !errors.Is(err, ErrSocketInUse) || err.Error() != "control socket "+path+" is in use by a running server" {
		t.Errorf("over a live socket: %v", err)
	}
	if got := ln.Addr().String(); got != path {
		t.Errorf("Addr %q, want %q", got, path)
	}
	ln.SetUnlinkOnClose(false) // as a server that died leaves it
	ln.Close()
	ln, err = ListenUnix(path)
	if err != nil {
		t.Fatalf("over a dead server's socket: %v", err)
	}
	ln.Close()
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("socket left after Close: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("left in the directory: %v", entries)
	}
}

// Closing a listener whose socket another server has since taken over
// leaves the other's socket alone.
func TestUnixListenerCloseKeepsSuccessor(t *testing.T) {
	path := filepath.Join(t.TempDir(), "control.sock")
	old, err := ListenUnix(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	successor, err := ListenUnix(path)
	if err != nil {
		t.Fatal(err)
	}
	defer successor.Close()
	old.Close()
	if _, err := os.Lstat(path); err != nil {
		t.Errorf("the successor's socket was removed: %v", err)
	}
}

// fakeFile is a file of the given mode, owner and group.
type fakeFile struct {
	mode     fs.FileMode
	uid, gid uint32
}

func (f fakeFile) Name() string       { return "control.sock" }
func (f fakeFile) Size() int64        { return 0 }
func (f fakeFile) Mode() fs.FileMode  { return f.mode }
func (f fakeFile) ModTime() time.Time { return time.Time{} }
func (f fakeFile) IsDir() bool        { return false }
func (f fakeFile) Sys() any           { return &syscall.Stat_t{Uid: f.uid, Gid: f.gid} }

func TestSocketAdvice(t *testing.T) {
	tests := []struct {
		name string
		file fakeFile
		want string
	}{
		{"root only", fakeFile{fs.ModeSocket | 0o600, 0, 0}, "run the command as root (sudo)"},
		{"a user's", fakeFile{fs.ModeSocket | 0o600, 12345, 0}, "run the command as root (sudo), or as the user 12345"},
		{"open to a group", fakeFile{fs.ModeSocket | 0o660, 0, 23456}, "run the command as root (sudo), or as a member of the group 23456"},
		{"group without rights", fakeFile{fs.ModeSocket | 0o600, 0, 23456}, "run the command as root (sudo)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := advice(tt.file); got != tt.want {
				t.Errorf("advice = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSocketAccessDirectory(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root enters every directory")
	}
	dir := filepath.Join(t.TempDir(), "run")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(dir, 0o700)
	got := socketAccess(filepath.Join(dir, "control.sock"))
	if !strings.Contains(got, "its directory "+dir+" has mode 0000") {
		t.Errorf("socketAccess = %q", got)
	}
}

// A path that fits a Unix socket, but whose private directory does not,
// is refused with a message that says why.
func TestListenUnixPathTooLong(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, strings.Repeat("d", maxSocketPath-len(dir)-len("//.sock")), ".sock")
	if len(path) != maxSocketPath {
		t.Fatalf("fixture: %d bytes", len(path))
	}
	_, err := ListenUnix(path)
	if err == nil || !strings.Contains(err.Error(), "is too long") {
		t.Errorf("ListenUnix(%d bytes): %v, want a path too long", len(path), err)
	}
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a socket was made: %v", err)
	}
}

package control

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
)

// socketAccess explains why connecting to the Unix socket at path was
// refused for want of permission: the mode, owner and group of the
// socket, or of the first directory on the way to it that the caller
// may not enter, and what to do about it.
func socketAccess(path string) string {
	fi, err := os.Stat(path)
	if err == nil {
		return fmt.Sprintf("the socket has mode %04o, owner %s, group %s: %s", fi.Mode().Perm(), owner(fi), group(fi), advice(fi))
	}
	if !errors.Is(err, fs.ErrPermission) {
		return "the server's control socket is open only to the user it runs as (mode 0600): run the command as root (sudo) or as that user"
	}
	// A directory on the way is closed: name the deepest one we can see.
	for dir := filepath.Dir(path); ; dir = filepath.Dir(dir) {
		di, err := os.Stat(dir)
		if err == nil {
			return fmt.Sprintf("its directory %s has mode %04o, owner %s, group %s, and you may not enter it: %s", dir, di.Mode().Perm(), owner(di), group(di), advice(di))
		}
		if dir == filepath.Dir(dir) {
			return "a directory on the way to it is closed to you: run the command as root (sudo)"
		}
	}
}

// advice says who may pass the file fi, by its mode.
func advice(fi fs.FileInfo) string {
	who := "run the command as root (sudo)"
	if o := owner(fi); o != "root" {
		who += ", or as the user " + o
	}
	if g := group(fi); fi.Mode().Perm()&0o070 != 0 && g != "root" {
		who += ", or as a member of the group " + g
	}
	return who
}

// owner returns the name of the user that owns fi, or its number.
func owner(fi fs.FileInfo) string {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return "?"
	}
	id := strconv.FormatUint(uint64(st.Uid), 10)
	if u, err := user.LookupId(id); err == nil {
		return u.Username
	}
	return id
}

// group returns the name of fi's group, or its number.
func group(fi fs.FileInfo) string {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return "?"
	}
	id := strconv.FormatUint(uint64(st.Gid), 10)
	if g, err := user.LookupGroupId(id); err == nil {
		return g.Name
	}
	return id
}

package udp4

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// PortHolder is a UDP socket bound to a port, as the kernel lists it in
// /proc/net/udp, and a process that holds it open.
type PortHolder struct {
	// Addr is the socket's local address.
	Addr netip.AddrPort
	// Inode is the socket's inode number.
	Inode uint64
	// PID is a process holding the socket, and Command its name; PID is
	// 0 when no process could be found (it runs as another user, or
	// /proc hides it, and this one may not look at its descriptors).
	PID     int
	Command string
}

// String describes h for messages: "process 1234 (leased)".
func (h PortHolder) String() string {
	if h.PID == 0 {
		return "another process, which this one may not see (socket inode " + strconv.FormatUint(h.Inode, 10) + ")"
	}
	if h.Command == "" {
		return "process " + strconv.Itoa(h.PID)
	}
	return "process " + strconv.Itoa(h.PID) + " (" + h.Command + ")"
}

// PortHolders returns the UDP sockets of this network namespace, other
// than the one of conn (nil for none), that receive what arrives at local:
// those bound to its port on its address or on the unspecified address
// (or on any address when local's is unspecified), and not connected to
// a peer. There is one PortHolder per socket and process holding it. It
// reads /proc; a process of another user is seen only with root or
// CAP_SYS_PTRACE.
func PortHolders(local netip.AddrPort, conn *net.UDPConn) ([]PortHolder, error) {
	var own uint64
	if conn != nil {
		ino, err := socketInode(conn)
		if err != nil {
			return nil, err
		}
		own = ino
	}
	// Through self: under systemd's ProcSubset=pid, /proc/net is hidden.
	f, err := os.Open("/proc/self/net/udp")
	if err != nil {
		return nil, err
	}
	socks, err := parseProcNetUDP(f, local)
	f.Close()
	if err != nil {
		return nil, err
	}
	socks = slices.DeleteFunc(socks, func(h PortHolder) bool { return h.Inode == own })
	if len(socks) == 0 {
		return nil, nil
	}
	return findProcesses("/proc", socks), nil
}

// socketInode returns the inode number of conn's socket.
func socketInode(conn *net.UDPConn) (uint64, error) {
	rc, err := conn.SyscallConn()
	if err != nil {
		return 0, err
	}
	var st unix.Stat_t
	var serr error
	if err := rc.Control(func(fd uintptr) { serr = unix.Fstat(int(fd), &st) }); err != nil {
		return 0, err
	}
	if serr != nil {
		return 0, os.NewSyscallError("fstat", serr)
	}
	return st.Ino, nil
}

// parseProcNetUDP reads a table in the format of /proc/net/udp and returns
// the sockets, unconnected, that receive what arrives at local, with PID
// 0.
func parseProcNetUDP(r io.Reader, local netip.AddrPort) ([]PortHolder, error) {
	var out []PortHolder
	sc := bufio.NewScanner(r)
	first := true
	for sc.Scan() {
		if first { // the header
			first = false
			continue
		}
		f := strings.Fields(sc.Text())
		if len(f) < 10 {
			continue
		}
		addr, err1 := parseProcAddr(f[1])
		remote, err2 := parseProcAddr(f[2])
		ino, err3 := strconv.ParseUint(f[9], 10, 64)
		if err := errors.Join(err1, err2, err3); err != nil {
			return nil, fmt.Errorf("/proc/net/udp: %q: %w", sc.Text(), err)
		}
		if addr.Port() != local.Port() || remote.Port() != 0 || ino == 0 {
			continue
		}
		if a, l := addr.Addr(), local.Addr(); !a.IsUnspecified() && !l.IsUnspecified() && a != l {
			continue
		}
		out = append(out, PortHolder{Addr: addr, Inode: ino})
	}
	return out, sc.Err()
}

// parseProcAddr parses "0100007F:0043", an IPv4 address as the 32-bit
// number in host (little-endian) byte order and a port, both in hex.
func parseProcAddr(s string) (netip.AddrPort, error) {
	a, p, ok := strings.Cut(s, ":")
	if !ok || len(a) != 8 || len(p) != 4 {
		return netip.AddrPort{}, fmt.Errorf("%q is not an address", s)
	}
	ab, err := hex.DecodeString(a)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("%q is not an address", s)
	}
	port, err := strconv.ParseUint(p, 16, 16)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("%q is not an address", s)
	}
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], binary.LittleEndian.Uint32(ab))
	return netip.AddrPortFrom(netip.AddrFrom4(b), uint16(port)), nil
}

// findProcesses looks through the descriptors of the processes under
// proc for the sockets of socks, and returns one PortHolder per socket and
// process holding it; a socket no process is found for is returned with
// PID 0.
func findProcesses(proc string, socks []PortHolder) []PortHolder {
	want := make(map[string]int, len(socks)) // "socket:[inode]" -> index
	for i, s := range socks {
		want["socket:["+strconv.FormatUint(s.Inode, 10)+"]"] = i
	}
	found := make([]bool, len(socks))
	var out []PortHolder
	pids, _ := os.ReadDir(proc)
	for _, p := range pids {
		pid, err := strconv.Atoi(p.Name())
		if err != nil || pid <= 0 {
			continue
		}
		fdDir := filepath.Join(proc, p.Name(), "fd")
		fds, err := os.ReadDir(fdDir)
		if err != nil {
			continue // gone, or another user's
		}
		for _, fd := range fds {
			target, err := os.Readlink(filepath.Join(fdDir, fd.Name()))
			if err != nil {
				continue
			}
			if i, ok := want[target]; ok {
				h := socks[i]
				h.PID = pid
				h.Command = processName(proc, p.Name())
				out = append(out, h)
				found[i] = true
			}
		}
	}
	for i, s := range socks {
		if !found[i] {
			out = append(out, s)
		}
	}
	return out
}

// processName returns the command name of process pid, or "".
func processName(proc, pid string) string {
	b, err := os.ReadFile(filepath.Join(proc, pid, "comm"))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

package journal

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"leased/lease"
)

// testTime is the base of the times in test leases.
var testTime = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// addrN returns the n-th address of 198.18.0.0/15 (wrapping past it).
func addrN(n int) netip.Addr {
	v := 198<<24 | 18<<16 | uint32(n)&0x1ffff
	return keyAddr(v)
}

// testLease returns a bound lease of address n for client c with a
// version v in its host name.
func testLease(n int, client string, v int) lease.Lease {
	l := lease.Lease{
		Addr:     addrN(n),
		ClientID: "\x01" + client,
		Hostname: fmt.Sprintf("host-%d-v%d", n, v),
		State:    lease.Bound,
		Start:    testTime.Add(time.Duration(v) * time.Second),
		Expiry:   testTime.Add(time.Duration(v)*time.Second + time.Hour),
	}
	l.HW.Type, l.HW.Len = 1, 6
	copy(l.HW.Addr[:], []byte{2, 0, 0, byte(n >> 16), byte(n >> 8), byte(n)})
	return l
}

// sameLease compares two leases, times with Equal.
func sameLease(a, b lease.Lease) bool {
	return a.Addr == b.Addr && a.ClientID == b.ClientID && a.HW == b.HW &&
		a.Hostname == b.Hostname && a.State == b.State &&
		a.Start.Equal(b.Start) && a.Expiry.Equal(b.Expiry) &&
		a.FQDN == b.FQDN && a.DNS == b.DNS && a.DNSState == b.DNSState
}

// contents returns the live records of s by address.
func contents(s lease.Store) map[netip.Addr]lease.Lease {
	m := make(map[netip.Addr]lease.Lease)
	s.All(func(l lease.Lease) bool {
		m[l.Addr] = l
		return true
	})
	return m
}

// checkContents fails t unless the store holds exactly want.
func checkContents(t testing.TB, what string, s lease.Store, want map[netip.Addr]lease.Lease) {
	t.Helper()
	checkMap(t, what, contents(s), want)
}

// checkMap fails t unless got and want hold the same leases.
func checkMap(t testing.TB, what string, got, want map[netip.Addr]lease.Lease) {
	t.Helper()
	bad := 0
	for a, w := range want {
		g, ok := got[a]
		switch {
		case !ok:
			t.Errorf("%s: %v missing, want %+v", what, a, w)
		case !sameLease(g, w):
			t.Errorf("%s: %v = %+v, want %+v", what, a, g, w)
		default:
			continue
		}
		if bad++; bad > 10 {
			t.Fatalf("%s: too many differences", what)
		}
	}
	for a, g := range got {
		if _, ok := want[a]; !ok {
			t.Errorf("%s: unexpected %+v", what, g)
		}
	}
}

// openT opens a store and closes it at the end of the test.
func openT(t testing.TB, dir string, opts Options) *Store {
	t.Helper()
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// commitT commits and fails t on error.
func commitT(t testing.TB, s *Store, leases ...lease.Lease) {
	t.Helper()
	if err := s.Commit(context.Background(), leases...); err != nil {
		t.Fatalf("Commit: %v", err)
	}
}

// copyDir copies the regular files of src into a new directory, as a
// crash at this moment would leave them (the lock file aside).
func copyDir(t testing.TB, src string) string {
	t.Helper()
	dst := t.TempDir()
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if !e.Type().IsRegular() || e.Name() == lockName {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed meanwhile
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// logFiles returns the paths of the logs in dir, oldest first.
func logFiles(t testing.TB, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, logPrefix+"*"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// faults makes the files of a store fail on demand.
type faults struct {
	mu sync.Mutex
	// writeErr and syncErr, when set, are returned by the next writes and
	// data syncs of log and snapshot files, the next n of them (n < 0:
	// all of them).
	writeErr, syncErr error
	writeN, syncN     int
	// partial makes a failing write first write half its bytes.
	partial bool
	writes  atomic.Int64
	// only, when set, limits the faults to files whose name starts with it.
	only string
}

func (f *faults) set(write, sync error, n int, partial bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.writeErr, f.syncErr, f.writeN, f.syncN, f.partial = write, sync, n, n, partial
}

func (f *faults) take(err *error, n *int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if *err == nil || *n == 0 {
		return nil
	}
	if *n > 0 {
		*n--
	}
	return *err
}

func (f *faults) open(name string, flag int, perm fs.FileMode) (file, error) {
	fl, err := openOS(name, flag, perm)
	if err != nil {
		return nil, err
	}
	if f.only != "" && !strings.HasPrefix(filepath.Base(name), f.only) {
		return fl, nil
	}
	return &faultyFile{file: fl, f: f}, nil
}

type faultyFile struct {
	file
	f *faults
}

func (ff *faultyFile) WriteAt(b []byte, off int64) (int, error) {
	ff.f.writes.Add(1)
	if err := ff.f.take(&ff.f.writeErr, &ff.f.writeN); err != nil {
		n := 0
		if ff.f.partial {
			n, _ = ff.file.WriteAt(b[:len(b)/2], off)
		}
		return n, err
	}
	return ff.file.WriteAt(b, off)
}

func (ff *faultyFile) Datasync() error {
	if err := ff.f.take(&ff.f.syncErr, &ff.f.syncN); err != nil {
		return err
	}
	return ff.file.Datasync()
}

// fakeClock is a clock that moves only when told.
type fakeClock struct{ ns atomic.Int64 }

func (c *fakeClock) now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) advance(d time.Duration) { c.ns.Add(int64(d)) }

// countHandler counts log records by level.
type countHandler struct {
	mu     sync.Mutex
	counts map[slog.Level]int
	msgs   []string
}

func (h *countHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *countHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.counts == nil {
		h.counts = make(map[slog.Level]int)
	}
	h.counts[r.Level]++
	h.msgs = append(h.msgs, r.Message)
	return nil
}
func (h *countHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *countHandler) WithGroup(string) slog.Handler      { return h }
func (h *countHandler) countMsg(msg string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, m := range h.msgs {
		if m == msg {
			n++
		}
	}
	return n
}
func (h *countHandler) count(l slog.Level) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.counts[l]
}

var (
	errDiskFull = fmt.Errorf("injected: %w", syscall.ENOSPC)
	errIO       = fmt.Errorf("injected: %w", syscall.EIO)
)

// waitFor polls cond until it holds, and fails t if it does not within
// a few seconds.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

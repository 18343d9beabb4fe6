package daemon

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"leased/config"
	"leased/lease"
	"leased/netio"
)

var t0 = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

// configText is a valid configuration file; extra lines go at the top.
func configText(extra ...string) string {
	return strings.Join(append(extra,
		"interfaces: [eth0]",
		"subnets:",
		"  - prefix: 198.18.0.0/24",
		"    pools: [198.18.0.100-198.18.0.199]",
	), "\n") + "\n"
}

// writeFile writes content to a file in a new temporary directory and
// returns its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// logBuffer is a log that tests read back, safe for concurrent use.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newLog() (*slog.Logger, *logBuffer) {
	b := &logBuffer{}
	return slog.New(slog.NewTextHandler(b, nil)), b
}

// events records what happened, in order, across goroutines.
type events struct {
	mu   sync.Mutex
	list []string
}

func (e *events) add(s string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.list = append(e.list, s)
}

func (e *events) all() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.list...)
}

// fakeDHCP serves nothing until ctx ends.
type fakeDHCP struct {
	ev      *events
	serving chan struct{}

	mu     sync.Mutex
	served []string // as SetInterfaces last set them
}

func (d *fakeDHCP) SetInterfaces(names []string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.served = names
}

func (d *fakeDHCP) interfaces() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.served
}

func (d *fakeDHCP) Serve(ctx context.Context, h netio.Handler) error {
	close(d.serving)
	<-ctx.Done()
	d.ev.add("dhcp stopped")
	return nil
}
func (d *fakeDHCP) Stats() netio.Stats { return netio.Stats{} }
func (d *fakeDHCP) LocalAddr() netip.AddrPort {
	return netip.MustParseAddrPort("198.18.0.1:67")
}
func (d *fakeDHCP) Close() error { return nil }

// fakeStore is a memory store that records its closing.
type fakeStore struct {
	lease.Memory
	ev  *events
	dir string
}

func (s *fakeStore) Close() error                 { s.ev.add("store closed"); return s.Memory.Close() }
func (s *fakeStore) StoreStats() lease.StoreStats { return lease.StoreStats{Writable: true} }
func (s *fakeStore) Dir() string                  { return s.dir }

// recordingListener records its closing.
type recordingListener struct {
	net.Listener
	ev   *events
	once sync.Once
}

func (l *recordingListener) Close() error {
	l.once.Do(func() { l.ev.add("operator listener closed") })
	return l.Listener.Close()
}

// quickConfig is a valid configuration built in Go.
func quickConfig(t *testing.T, storeDir string) *config.Config {
	t.Helper()
	c, err := config.NewQuick(config.Quick{
		Interface: "eth0",
		Prefix:    netip.MustParsePrefix("198.18.0.0/24"),
		Pool:      config.Range{First: netip.MustParseAddr("198.18.0.100"), Last: netip.MustParseAddr("198.18.0.199")},
	})
	if err != nil {
		t.Fatal(err)
	}
	c.LeaseStore = storeDir
	return c
}

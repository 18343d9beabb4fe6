package lease

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"
)

// ErrClosed is returned by a store's Commit after Close.
var ErrClosed = errors.New("lease: store is closed")

// Memory is a Store that keeps leases in memory only. Nothing survives the
// process: use it for tests and for deployments that accept that.
// The zero value is ready to use.
type Memory struct {
	mu     sync.Mutex
	leases map[netip.Addr]Lease
	closed bool
	// Fail, when set, is returned by Commit instead of storing anything; it
	// lets tests exercise the engine's "commit failed, do not ACK" path.
	Fail error
}

// Commit implements Store.
func (m *Memory) Commit(ctx context.Context, leases ...Lease) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	for i := range leases {
		if err := leases[i].Validate(); err != nil {
			return err
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	if m.Fail != nil {
		return m.Fail
	}
	if m.leases == nil {
		m.leases = make(map[netip.Addr]Lease)
	}
	for _, l := range leases {
		if l.State == Free {
			delete(m.leases, l.Addr)
		} else {
			m.leases[l.Addr] = l
		}
	}
	return nil
}

// ConfirmDNS implements DNSConfirmer: it sets the DNS state of the record
// of addr to st if the record has the given Start (compared with
// time.Time.Equal), and reports whether it changed the record.
func (m *Memory) ConfirmDNS(ctx context.Context, addr netip.Addr, start time.Time, st DNSState) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if st > DNSRemoved {
		return false, fmt.Errorf("lease: confirm DNS of %v: invalid DNS state %d", addr, st)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return false, ErrClosed
	}
	l, ok := m.leases[addr]
	if !ok || !l.Start.Equal(start) || l.DNSState == st {
		return false, nil
	}
	l.DNSState = st
	m.leases[addr] = l
	return true, nil
}

// All implements Store.
func (m *Memory) All(fn func(Lease) bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, l := range m.leases {
		if !fn(l) {
			return
		}
	}
}

// Get returns the record for addr, if any.
func (m *Memory) Get(addr netip.Addr) (Lease, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	l, ok := m.leases[addr]
	return l, ok
}

// Len returns the number of live records.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.leases)
}

// Close implements Store.
func (m *Memory) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	return nil
}

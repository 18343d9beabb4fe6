package server

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	"leased/config"
	"leased/dhcpv4"
	"leased/lease"
)

// sharedStore is a store shared by several engines, with the uniqueness
// rule of a shared store (lease/postgres): a record is taken when the
// address is free, is the same client's, or its holder's lease has ended
// by the record's start. Every commit is shown to the other engines when
// deliver is on.
type sharedStore struct {
	mu      sync.Mutex
	leases  map[netip.Addr]lease.Lease
	engines []*Engine
	deliver bool
}

// view is one engine's handle on the shared store: its commits are shown
// to the other engines.
type sharedView struct {
	s    *sharedStore
	self int
}

func (v *sharedView) Commit(_ context.Context, recs ...lease.Lease) error {
	s := v.s
	s.mu.Lock()
	for _, r := range recs {
		old, ok := s.leases[r.Addr]
		if r.State == lease.Free || !ok || old.ClientID == r.ClientID {
			continue
		}
		if (old.State == lease.Bound || old.State == lease.Declined) && r.Start.Before(old.Expiry) {
			s.mu.Unlock()
			return &lease.ConflictError{Holder: old}
		}
	}
	for _, r := range recs {
		if r.State == lease.Free {
			delete(s.leases, r.Addr)
		} else {
			s.leases[r.Addr] = r
		}
	}
	var others []*Engine
	if s.deliver {
		for i, e := range s.engines {
			if i != v.self && e != nil {
				others = append(others, e)
			}
		}
	}
	s.mu.Unlock()
	for _, e := range others {
		for _, r := range recs {
			e.Observe(r)
		}
	}
	return nil
}

func (v *sharedView) All(fn func(lease.Lease) bool) {
	v.s.mu.Lock()
	defer v.s.mu.Unlock()
	for _, l := range v.s.leases {
		if !fn(l) {
			return
		}
	}
}

func (v *sharedView) Close() error { return nil }

// newSharedPair builds two engines, A and B, over one sharedStore, each
// an env sharing the clock of a.
func newSharedPair(t *testing.T, deliver bool) (a, b *env, st *sharedStore) {
	t.Helper()
	st = &sharedStore{leases: map[netip.Addr]lease.Lease{}, deliver: deliver}
	a = newEnv(t, nil)
	b = newEnv(t, nil)
	for i, e := range []*env{a, b} {
		eng, err := New(e.cfg, &sharedView{s: st, self: i}, func() time.Time { return a.now })
		if err != nil {
			t.Fatal(err)
		}
		e.eng = eng
		st.engines = append(st.engines, eng)
	}
	return a, b, st
}

// request sends c's DHCPREQUEST in the SELECTING state for addr, naming
// the server 198.18.0.1 (both engines of a pair answer as it).
func (e *env) selectRequest(c *client, addr netip.Addr) (Outcome, *dhcpv4.Packet) {
	e.t.Helper()
	return e.handle(c.packet(dhcpv4.Request, optAddr(dhcpv4.OptServerID, "198.18.0.1"),
		option{dhcpv4.OptRequestedIP, addr.AsSlice()}), direct())
}

func TestSharedStore(t *testing.T) {
	t.Run("a lease another server commits is not offered", func(t *testing.T) {
		a, b, _ := newSharedPair(t, true)
		got := a.dora(newClient(1), direct())
		if off := b.offer(newClient(2), direct()); off == got {
			t.Fatalf("B offered %v, bound by A to another client", off)
		}
		v, ok := b.eng.LeaseByAddr(got)
		if !ok || v.State != lease.Bound {
			t.Fatalf("B's view of %v: %+v %v, want bound", got, v, ok)
		}
	})
	t.Run("an offer collision is refused by the store and NAKed, then the client gets another address", func(t *testing.T) {
		a, b, _ := newSharedPair(t, true)
		c1, c2 := newClient(1), newClient(2)
		x := a.offer(c1, direct())
		if y := b.offer(c2, direct()); y != x {
			t.Fatalf("setup: both engines should start at the pool's first address: %v, %v", x, y)
		}
		if out, _ := a.selectRequest(c1, x); out.Reason != ReasonAck {
			t.Fatalf("A: %v, want ack", out.Reason)
		}
		out, nak := b.selectRequest(c2, x)
		if out.Reason != ReasonNakConflict && out.Reason != ReasonNakAddress {
			t.Fatalf("B: %v, want a NAK", out.Reason)
		}
		if nak == nil || nak.MessageType() != dhcpv4.Nak {
			t.Fatalf("B sent %v, want a NAK", nak)
		}
		if y := b.dora(c2, direct()); y == x {
			t.Fatalf("B bound %v again", y)
		}
	})
	t.Run("a conflict the engine did not know of teaches it the holder", func(t *testing.T) {
		a, b, st := newSharedPair(t, false) // no change reaches B
		c1, c2 := newClient(1), newClient(2)
		x := a.dora(c1, direct())
		if y := b.offer(c2, direct()); y != x {
			t.Fatalf("setup: B offered %v, want %v", y, x)
		}
		out, _ := b.selectRequest(c2, x)
		if out.Reason != ReasonNakConflict {
			t.Fatalf("B: %v, want nak-conflict", out.Reason)
		}
		v, ok := b.eng.LeaseByAddr(x)
		if !ok || v.State != lease.Bound || string(v.ClientID) != c1.key() {
			t.Fatalf("B's view of %v after the conflict: %+v %v, want bound to the holder", x, v, ok)
		}
		st.mu.Lock()
		held := st.leases[x]
		st.mu.Unlock()
		if held.ClientID != c1.key() {
			t.Fatalf("store: %v held by %q", x, held.ClientID)
		}
	})
	t.Run("RFC2131 4.4.5 a client rebinding to the other server keeps its address", func(t *testing.T) {
		a, b, _ := newSharedPair(t, true)
		c := newClient(1)
		x := a.dora(c, direct())
		a.now = a.now.Add(55 * time.Minute) // past T2 of a one-hour lease
		req := c.packet(dhcpv4.Request)
		req.CIAddr = x
		out, ack := b.handle(req, direct())
		if out.Reason != ReasonAck || ack.YIAddr != x {
			t.Fatalf("B answered the rebinding with %v (%v), want an ACK of %v", out.Reason, ack, x)
		}
	})
	t.Run("a release through the other server frees the address for both", func(t *testing.T) {
		a, b, _ := newSharedPair(t, true)
		c := newClient(1)
		x := a.dora(c, direct())
		b.release(c, x)
		if v, ok := a.eng.LeaseByAddr(x); ok && v.State == lease.Bound {
			t.Fatalf("A still has %v bound after B's release", x)
		}
		s := a.eng.subnets[0]
		s.mu.Lock()
		free := s.pool.IsFree(x)
		s.mu.Unlock()
		if !free {
			t.Fatalf("%v is not free in A's pool after B's release", x)
		}
	})
}

func TestObserveOrdering(t *testing.T) {
	x := mustAddr("198.18.0.10")
	c1, c2 := newClient(1), newClient(2)
	tests := []struct {
		name  string
		rec   func(now time.Time) lease.Lease
		owner string // the client that must hold x after the change
	}{
		{"an older release of the previous holder is ignored", func(now time.Time) lease.Lease {
			return lease.Lease{Addr: x, ClientID: c1.key(), State: lease.Released, Start: now.Add(-time.Hour), Expiry: now.Add(-time.Minute)}
		}, c2.key()},
		{"an older binding of the previous holder does not undo a durable lease", func(now time.Time) lease.Lease {
			return lease.Lease{Addr: x, ClientID: c1.key(), State: lease.Bound, Start: now.Add(-time.Hour), Expiry: now.Add(time.Minute)}
		}, c2.key()},
		{"a newer renewal of the same client is taken", func(now time.Time) lease.Lease {
			return lease.Lease{Addr: x, ClientID: c2.key(), State: lease.Bound, Start: now.Add(time.Second), Expiry: now.Add(2 * time.Hour)}
		}, c2.key()},
		{"a late Free does not delete a durable lease", func(now time.Time) lease.Lease {
			return lease.Lease{Addr: x, State: lease.Free}
		}, c2.key()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			if got := e.dora(c2, direct()); got != x {
				t.Fatalf("setup: bound %v, want %v", got, x)
			}
			e.eng.Observe(tt.rec(e.now))
			v, ok := e.eng.LeaseByAddr(x)
			owner := ""
			if ok && v.State == lease.Bound {
				owner = string(v.ClientID)
			}
			if owner != tt.owner {
				t.Fatalf("after the change %v is bound to %q, want %q", x, owner, tt.owner)
			}
		})
	}
}

func TestResyncForgetsWhatTheStoreLost(t *testing.T) {
	e := newEnv(t, nil)
	kept := e.dora(newClient(1), direct())
	lost := e.dora(newClient(2), direct())
	offered := e.offer(newClient(3), direct())
	l, _ := e.stored(kept)
	e.eng.Resync(func(fn func(lease.Lease) bool) { fn(l) })
	if v, ok := e.eng.LeaseByAddr(kept); !ok || v.State != lease.Bound {
		t.Fatalf("%v: %+v %v, want bound", kept, v, ok)
	}
	if v, ok := e.eng.LeaseByAddr(lost); ok && v.State == lease.Bound {
		t.Fatalf("%v still bound after a resync without it", lost)
	}
	if v, ok := e.eng.LeaseByAddr(offered); !ok || v.State != lease.Offered {
		t.Fatalf("offer of %v lost by the resync: %+v %v", offered, v, ok)
	}
}

func TestObserveFreeEndsADecline(t *testing.T) {
	e := newEnv(t, nil)
	c := newClient(1)
	x := e.dora(c, direct())
	e.decline(c, x)
	e.eng.Observe(lease.Lease{Addr: x, State: lease.Free})
	if v, ok := e.eng.LeaseByAddr(x); ok && v.State == lease.Declined {
		t.Fatalf("%v still declined after an operator deleted it elsewhere", x)
	}
	s := e.eng.subnets[0]
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.pool.IsFree(x) {
		t.Fatalf("%v is not back in the pool", x)
	}
}

func TestPoolStartPercent(t *testing.T) {
	for _, tt := range []struct {
		percent int
		want    string
	}{{0, "198.18.0.10"}, {50, "198.18.0.15"}, {90, "198.18.0.19"}} {
		t.Run(fmt.Sprint(tt.percent), func(t *testing.T) {
			e := newEnv(t, func(c *config.Config) { c.PoolStartPercent = tt.percent })
			if got := e.offer(newClient(1), direct()); got != mustAddr(tt.want) {
				t.Fatalf("first offer %v, want %v", got, tt.want)
			}
		})
	}
}

package server

import (
	"errors"
	"net/netip"
	"time"

	"leased/lease"
)

// A store shared by several servers (package lease/postgres) tells each
// engine what the others commit. The engine keeps its view of the pools
// current from those changes, so that it does not offer an address another
// server holds, and answers a client that rebinds to it with the lease
// another server gave.

// Observe applies a lease change that another server committed to the
// shared store: the address's binding becomes what the record says, and
// an offer this server holds for another client on that address is
// withdrawn (the client's DHCPREQUEST will be refused, and it starts
// over). A Free record forgets the address. Changes of addresses outside
// every subnet are ignored.
func (e *Engine) Observe(l lease.Lease) {
	s := e.subnetContaining(l.Addr)
	if s == nil {
		return
	}
	now := e.clock()
	s.mu.Lock()
	s.apply(l, now)
	s.mu.Unlock()
}

// Resync replaces what the engine knows of stored leases with all, the
// complete list of live records of a shared store (after a reconnection,
// when changes may have been missed): each record is applied as by
// Observe, and a binding of this engine's memory that all does not hold
// is forgotten, unless it is an offer (offers are never stored). all
// calls its argument for every record, until it returns false.
func (e *Engine) Resync(all func(fn func(lease.Lease) bool)) {
	seen := make(map[netip.Addr]struct{})
	now := e.clock()
	all(func(l lease.Lease) bool {
		if s := e.subnetContaining(l.Addr); s != nil {
			s.mu.Lock()
			s.apply(l, now)
			s.mu.Unlock()
			seen[l.Addr] = struct{}{}
		}
		return true
	})
	for _, s := range e.subnets {
		s.mu.Lock()
		for a, b := range s.bindings {
			if _, ok := seen[a]; ok || b.state == stOffered {
				continue
			}
			s.drop(b)
		}
		s.mu.Unlock()
	}
}

// apply makes the binding of l.Addr what l records (see Engine.Observe).
// Changes arrive in the order the store committed them, but may cross a
// commit of this engine's own in flight, so apply keeps what the store's
// uniqueness rule says must be newer: a binding of another client that is
// durable and unexpired here was committed after l (the store would have
// refused it otherwise), and so is one of another client that l only
// ends (released, expired); a Free record (an operator ending a decline)
// never deletes a durable bound lease. A record of the same client older
// than the binding is ignored too.
func (s *subnet) apply(l lease.Lease, now time.Time) {
	holds := (l.State == lease.Bound || l.State == lease.Declined) && now.Before(l.Expiry)
	if b := s.bindings[l.Addr]; b != nil {
		durable := b.state == stBound && !b.durable.IsZero() && now.Before(b.durable)
		newer := b.client != l.ClientID && b.state.active() && b.state != stOffered && (!holds || durable)
		if l.State == lease.Free {
			newer = durable // only a declined address is ever deleted
		}
		if newer {
			return
		}
		if b.client == l.ClientID && l.Start.Before(b.start) {
			return
		}
		s.drop(b)
	}
	if l.State == lease.Free {
		return
	}
	s.recover(l, now)
}

// replace makes l the binding of l.Addr whatever is there: l is a record
// the store has just taken from this engine, newer than any change seen.
func (s *subnet) replace(l lease.Lease, now time.Time) {
	if b := s.bindings[l.Addr]; b != nil {
		s.drop(b)
	}
	s.recover(l, now)
}

// conflictOf returns the ConflictError in err's chain, or nil. It keeps
// the error-free path of a commit free of allocation.
func conflictOf(err error) *lease.ConflictError {
	if err == nil {
		return nil
	}
	var c *lease.ConflictError
	if errors.As(err, &c) {
		return c
	}
	return nil
}

// drop forgets b and returns its address to the pool if b held it.
func (s *subnet) drop(b *binding) {
	s.forget(b)
	if b.state.active() {
		s.freeAddr(b.addr)
	}
	b.gen = s.nextGen() // an in-flight commit of b must not touch it
}

package server

import (
	"context"
	"errors"
	"fmt"
	"net/netip"

	"leased/lease"
)

// The operator's side of the engine is in three files: views of the
// leases and pools (views.go), reservations, viewed and changed at run
// time (reservations.go), and, here, the errors of the operator actions
// and the release of a lease. Views copy what they show under each
// subnet's lock, held briefly, and never change the engine's state;
// actions take the same locks as the request path and, like it, commit to
// the lease store with no lock held. A Reloadable offers the same methods
// on its current engine (reload.go).

// Errors of the operator actions, wrapped with the address and the detail.
// Test for them with errors.Is.
var (
	// ErrNoSubnet: no configured subnet contains the address.
	ErrNoSubnet = errors.New("no configured subnet contains the address")
	// ErrNoLease: the address has no lease that the action applies to.
	ErrNoLease = errors.New("no such lease")
	// ErrAddressInUse: the address is offered or bound to another client,
	// or declined (in use on the network).
	ErrAddressInUse = errors.New("address is in use")
	// ErrAlreadyReserved: the address or the client already has a
	// reservation.
	ErrAlreadyReserved = errors.New("already reserved")
	// ErrNoReservation: the address has no reservation.
	ErrNoReservation = errors.New("no such reservation")
	// ErrConfigReservation: the reservation comes from the configuration
	// file, so only the file can remove it.
	ErrConfigReservation = errors.New("the reservation is in the configuration file; remove it there and reload")
	// ErrInvalidReservation: the reservation is not one the engine can
	// apply (see Engine.AddReservation).
	ErrInvalidReservation = errors.New("invalid reservation")
)

// ForceRelease ends the lease of address a as if its client had released
// it: a bound or offered lease becomes released (the client's previous
// address, which it may get again while nobody else takes it), the
// address returns to its pool, and a Released record is committed to the
// store. A declined address leaves probation at once; its record is
// deleted. It returns the lease as it now is.
//
// The client is not told: it goes on using the address until its next
// renewal, which is granted if the address is still free and refused
// otherwise (RFC 2131 §4.3.2).
//
// Errors wrap ErrNoSubnet, or ErrNoLease when a has no bound, offered or
// declined lease. When the commit fails, the address is free in memory
// but the store still holds the old record; the error says so.
func (e *Engine) ForceRelease(ctx context.Context, a netip.Addr) (LeaseView, error) {
	s := e.subnetContaining(a)
	if s == nil {
		return LeaseView{}, fmt.Errorf("server: release %v: %w", a, ErrNoSubnet)
	}
	now := e.clock()
	s.mu.Lock()
	b := s.bindings[a]
	if b == nil || !s.refresh(b, now) || !b.state.active() {
		s.mu.Unlock()
		return LeaseView{}, fmt.Errorf("server: release %v: %w: the address is not offered, bound or declined", a, ErrNoLease)
	}
	var rec lease.Lease
	var v LeaseView
	if b.state == stDeclined {
		v, _ = s.view(b, now)
		s.forget(b)
		s.freeAddr(a)
		rec = lease.Lease{Addr: a, State: lease.Free}
	} else {
		s.setState(b, stReleased)
		b.expiry = now
		b.gen = s.nextGen()
		s.freeAddr(a)
		rec = b.record(lease.Released)
		v, _ = s.view(b, now)
	}
	v.State, v.Expiry = lease.Released, now
	s.mu.Unlock()
	if err := e.store.Commit(ctx, rec); err != nil {
		return v, fmt.Errorf("server: release %v: released in memory, but the lease store failed (the old record comes back after a restart): %w", a, err)
	}
	return v, nil
}

package server

import (
	"context"
	"net/netip"
	"sync"

	"leased/config"
	"leased/dhcpv4"
	"leased/lease"
)

// Reloadable is an Engine whose configuration can be replaced while it
// serves. Reload waits for the requests being handled to finish, builds a
// new engine from the new configuration and the same store (which holds
// every committed lease), and switches to it; a configuration the engine
// refuses leaves the running one in place. Offers outstanding at the
// switch are forgotten: a client's REQUEST for such an address is still
// acknowledged while the address is free.
type Reloadable struct {
	mu sync.RWMutex
	e  *Engine
}

// NewReloadable wraps e.
func NewReloadable(e *Engine) *Reloadable { return &Reloadable{e: e} }

// Handle is Engine.Handle on the current engine.
func (r *Reloadable) Handle(ctx context.Context, req *dhcpv4.Packet, in Arrival, reply *dhcpv4.Packet) Outcome {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.e.Handle(ctx, req, in, reply)
}

// Sweep is Engine.Sweep on the current engine.
func (r *Reloadable) Sweep() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.e.Sweep()
}

// SweepExpired is Engine.SweepExpired on the current engine.
func (r *Reloadable) SweepExpired(expired ExpiredFunc) int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.e.SweepExpired(expired)
}

// Reload switches to a new engine for cfg, or returns why it cannot. The
// run-time reservations (AddReservation) carry over to the new engine; one
// that the new configuration conflicts with refuses the reload.
func (r *Reloadable) Reload(cfg *config.Config) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, err := New(cfg, r.e.store, r.e.clock)
	if err != nil {
		return err
	}
	if err := e.adoptReservations(r.e); err != nil {
		return err
	}
	r.e = e
	return nil
}

// Observe is Engine.Observe on the current engine.
func (r *Reloadable) Observe(l lease.Lease) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	r.e.Observe(l)
}

// Resync is Engine.Resync on the current engine.
func (r *Reloadable) Resync(all func(fn func(lease.Lease) bool)) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	r.e.Resync(all)
}

// The operator's views and actions on the current engine. Each holds the
// read lock for its whole run, as Handle does, so that a Reload waits for
// it: an action applied to an engine that a Reload is replacing could be
// lost.

// Leases is Engine.Leases on the current engine. fn runs with no lock of
// the engine held, but with the current engine in use: a Reload waits
// until Leases returns, so fn must not call r.
func (r *Reloadable) Leases(first, last netip.Addr, fn func(LeaseView) bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	r.e.Leases(first, last, fn)
}

// LeaseByAddr is Engine.LeaseByAddr on the current engine.
func (r *Reloadable) LeaseByAddr(a netip.Addr) (LeaseView, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.e.LeaseByAddr(a)
}

// LeaseOfClient is Engine.LeaseOfClient on the current engine.
func (r *Reloadable) LeaseOfClient(id []byte) (LeaseView, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.e.LeaseOfClient(id)
}

// LeaseOfHardwareAddr is Engine.LeaseOfHardwareAddr on the current engine.
func (r *Reloadable) LeaseOfHardwareAddr(hw []byte) (LeaseView, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.e.LeaseOfHardwareAddr(hw)
}

// ForceRelease is Engine.ForceRelease on the current engine.
func (r *Reloadable) ForceRelease(ctx context.Context, a netip.Addr) (LeaseView, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.e.ForceRelease(ctx, a)
}

// PoolStats is Engine.PoolStats on the current engine.
func (r *Reloadable) PoolStats() []SubnetStats {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.e.PoolStats()
}

// Reservations is Engine.Reservations on the current engine.
func (r *Reloadable) Reservations() []ReservationView {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.e.Reservations()
}

// RuntimeReservations is Engine.RuntimeReservations on the current engine.
func (r *Reloadable) RuntimeReservations() []config.Reservation {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.e.RuntimeReservations()
}

// AddReservation is Engine.AddReservation on the current engine; a later
// Reload keeps the reservation.
func (r *Reloadable) AddReservation(res config.Reservation) error {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.e.AddReservation(res)
}

// RemoveReservation is Engine.RemoveReservation on the current engine.
func (r *Reloadable) RemoveReservation(a netip.Addr) (ReservationView, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.e.RemoveReservation(a)
}

package server

import (
	"context"
	"sync"

	"leased/config"
	"leased/dhcpv4"
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

package server

import (
	"context"
	"net/netip"
	"time"
)

// Ping check. A subnet with ping-check asks, through Outcome.Probe, that
// the server on the wire send an ICMP echo to an address before its
// DHCPOFFER goes out, when the client did not hold the address lately:
// the engine does no I/O. When the address answers, the caller reports
// it with MarkInUse, which sets the address aside as a declined one, and
// handles the DHCPDISCOVER again for another address.

// probeFor returns how long to wait for an answer to an ICMP echo to a
// before offering it to the client: zero when the subnet does no ping
// check, the address is the client's reservation, or the client held it
// within the last lease time (its own binding, current or lately ended).
// Called with s.mu held, before the offer changes a's binding.
func (s *subnet) probeFor(a netip.Addr, key []byte, res *reservation, now time.Time) time.Duration {
	if s.pingWait <= 0 || res != nil && res.addr == a {
		return 0
	}
	if b := s.bindings[a]; b != nil && b.client == string(key) &&
		(b.state.active() || now.Sub(b.expiry) < s.leaseTime) {
		return 0
	}
	return s.pingWait
}

// MarkInUse sets a aside as in use by a host that answered a ping check:
// the offer that holds it is withdrawn and the address stays out of the
// pool for the decline probation, as after a DHCPDECLINE (RFC 2131
// §4.3.3); the record is committed to the store so that it survives a
// restart. It reports whether a was held by an offer.
func (e *Engine) MarkInUse(ctx context.Context, a netip.Addr) (bool, error) {
	s := e.subnetContaining(a)
	if s == nil {
		return false, nil
	}
	now := e.clock()
	s.mu.Lock()
	b := s.bindings[a]
	if b == nil || !s.refresh(b, now) || b.state != stOffered {
		s.mu.Unlock()
		return false, nil
	}
	rec, ok := s.markDeclined(a, []byte(b.client), now, now.Add(e.declineProbation))
	s.mu.Unlock()
	if !ok {
		return false, nil
	}
	return true, e.store.Commit(ctx, rec)
}

// MarkInUse is Engine.MarkInUse on the current engine.
func (r *Reloadable) MarkInUse(ctx context.Context, a netip.Addr) (bool, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.e.MarkInUse(ctx, a)
}

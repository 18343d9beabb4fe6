package server

import (
	"net/netip"
	"time"

	"leased/dhcpv4"
)

// The offers a subnet holds are capped (config.Config.OfferLimit), so
// that a flood of DHCPDISCOVERs from random hardware addresses, which
// never take what they are offered, cannot hold the whole pool. Beyond
// the cap a new client is still offered a free address, but the address
// is not set aside for it: RFC 2131 §4.3.1 asks a server not to offer an
// address again before the client answers (SHOULD NOT), and allows it.
// The client's DHCPREQUEST gets the address if it is still free then
// (decideRequest), which under a flood it nearly always is, since the
// flood holds at most the capped part of the pool; else a DHCPNAK, and
// the client starts over. Refusing to offer beyond the cap instead would
// hand the flood what it wants: no new client could get an address while
// it lasts.
//
// Clients with a reservation or a binding of their own (an offer, a
// lease, a previous address) are not counted against the cap: their
// offers are held as always.

// setOfferLimit caps the offers s holds at percent of its dynamic pool
// (at least one); 0 or 100 or more holds as many as there are addresses.
func (s *subnet) setOfferLimit(percent int) {
	if percent <= 0 || percent >= 100 {
		s.maxOffers = 0
		return
	}
	size := 0
	for _, ps := range s.pool.sets {
		size += ps.pool.Size()
	}
	for _, r := range s.resByAddr {
		if r.inPool {
			size--
		}
	}
	s.maxOffers = max(1, size*percent/100)
}

// setState moves b to state st, counting the offers held.
func (s *subnet) setState(b *binding, st bindState) {
	s.countOffers(b.state, st)
	b.state = st
}

// countOffers counts a binding that went from state was to state is.
func (s *subnet) countOffers(was, is bindState) {
	switch {
	case was != stOffered && is == stOffered:
		s.offers++
	case was == stOffered && is != stOffered:
		s.offers--
	}
}

// offerWithin offers a to the client as offer does, unless the subnet
// holds as many offers as it may and the client has no reservation or
// binding of its own: then a is offered without being set aside, and
// offerWithin returns ReasonOfferUnheld rather than ReasonOffer.
func (s *subnet) offerWithin(a netip.Addr, key []byte, req *dhcpv4.Packet, res *reservation, now, hold time.Time) Reason {
	if s.maxOffers == 0 || s.offers < s.maxOffers || res != nil || s.byClient[string(key)] != nil {
		s.offer(a, key, req, now, hold)
		return ReasonOffer
	}
	// choose may have taken a from the pool (Next): give it back. An
	// address held by anyone is never chosen for a client without a
	// binding, so nothing held is freed here.
	if b := s.bindings[a]; b == nil || !b.state.active() {
		s.freeAddr(a)
	}
	return ReasonOfferUnheld
}

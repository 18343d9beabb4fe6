package server

import (
	"fmt"
	"net/netip"
	"time"

	"leased/config"
	"leased/dhcpv4"
)

// Shared networks: several subnets on one link (config.SharedNetwork).
// The engine selects a subnet as ever (giaddr, link selection, the
// arrival interface); when that subnet is in a shared network, a
// DHCPDISCOVER is served from the member that already knows the client
// (a reservation or a binding), else from the selected one, and when that
// has no address left, from the next member that has, in configuration
// order. A DHCPREQUEST for an address in any member is decided by that
// member, so that renewals and INIT-REBOOT in a secondary subnet are not
// refused as "wrong network" (RFC 2131 §4.3.2 asks a NAK only when the
// client is on another link).

// linkShared builds the shared networks of cfg into e's subnets: each
// member gets the list of all members, in configuration order.
func (e *Engine) linkShared(cfg *config.Config) error {
	for i, sn := range cfg.SharedNetworks {
		var members []*subnet
		for _, p := range sn.Subnets {
			s := e.subnetByPrefix(p)
			if s == nil {
				return fmt.Errorf("server: shared-networks[%d] %s: %v is not a subnet", i, sn.Name, p)
			}
			members = append(members, s)
		}
		for _, s := range members {
			s.shared = members
		}
	}
	return nil
}

func (e *Engine) subnetByPrefix(p netip.Prefix) *subnet {
	for _, s := range e.subnets {
		if s.prefix == p.Masked() {
			return s
		}
	}
	return nil
}

// member returns the subnet of s's shared network that contains a: s
// itself when it does, or when s is in no shared network.
func (s *subnet) member(a netip.Addr) *subnet {
	if s.prefix.Contains(a) {
		return s
	}
	for _, m := range s.shared {
		if m.prefix.Contains(a) {
			return m
		}
	}
	return s
}

// sameLink reports whether o is s or in s's shared network. A nil s is
// on no link.
func (s *subnet) sameLink(o *subnet) bool {
	if s == nil || o == nil {
		return false
	}
	return s == o || s.shared != nil && o.shared != nil && &s.shared[0] == &o.shared[0]
}

// onLink reports whether a is in s or in a subnet of its shared network.
func (s *subnet) onLink(a netip.Addr) bool {
	return s.member(a).prefix.Contains(a)
}

// knows reports whether s holds a reservation or a binding (not a
// declined address) for the client.
func (s *subnet) knows(key []byte, req *dhcpv4.Packet, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.reservationFor(key, req) != nil {
		return true
	}
	b := s.clientBinding(key, now)
	return b != nil && b.state != stDeclined
}

// home returns the member of s's shared network that knows the client,
// else s.
func (s *subnet) home(key []byte, req *dhcpv4.Packet, now time.Time) *subnet {
	if s.shared == nil || s.knows(key, req, now) {
		return s
	}
	for _, m := range s.shared {
		if m != s && m.knows(key, req, now) {
			return m
		}
	}
	return s
}

// offerShared offers the client an address from a member of s's shared
// network: home first, then the other members in order. It returns the
// member and the address offered; ok is false when every member is
// exhausted.
func (e *Engine) offerShared(s, home *subnet, key []byte, req *dhcpv4.Packet, cls classSet, now time.Time, out *Outcome) (m *subnet, addr netip.Addr, res *reservation, reason Reason, ok bool) {
	if addr, res, reason, ok = e.tryOffer(home, key, req, cls, now, out); ok {
		return home, addr, res, reason, true
	}
	for _, m := range s.shared {
		if m == home {
			continue
		}
		if addr, res, reason, ok = e.tryOffer(m, key, req, cls, now, out); ok {
			return m, addr, res, reason, true
		}
	}
	return s, netip.Addr{}, nil, ReasonExhausted, false
}

// tryOffer chooses an address in m and offers it (RFC 2131 §4.3.1),
// setting out.Probe for it.
func (e *Engine) tryOffer(m *subnet, key []byte, req *dhcpv4.Packet, cls classSet, now time.Time, out *Outcome) (netip.Addr, *reservation, Reason, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	addr, res, ok := m.choose(key, req, cls, now)
	if !ok {
		return netip.Addr{}, nil, ReasonExhausted, false
	}
	out.Probe = m.probeFor(addr, key, res, now)
	return addr, res, m.offerWithin(addr, key, req, res, now, now.Add(e.offerHold)), true
}

// discoverShared answers a DHCPDISCOVER whose selected subnet s is in a
// shared network, while the store can commit.
func (e *Engine) discoverShared(req *dhcpv4.Packet, in *Arrival, key []byte, s *subnet, cls classSet, now time.Time, reply *dhcpv4.Packet, out *Outcome) {
	s.mu.Lock()
	chose := e.choseOther(s, key, req, now)
	s.mu.Unlock()
	if chose {
		out.Reason = ReasonChoseOther
		return
	}
	m, addr, res, reason, ok := e.offerShared(s, s.home(key, req, now), key, req, cls, now, out)
	if !ok {
		out.Reason = ReasonExhausted
		return
	}
	m.mu.Lock()
	cls = m.noteClasses(addr, key, cls, res)
	m.mu.Unlock()
	e.setClasses(out, cls)
	out.Subnet = m.prefix
	e.fillReply(reply, req, m, res, cls, in, dhcpv4.Offer, addr, m.timesFor(cls))
	out.Action, out.Reason, out.Addr = Reply, reason, addr
}

// withdrawShared returns the client's offer to its pool in every member
// of s's shared network (s alone when it is in none), and returns the
// address withdrawn, if any.
func (s *subnet) withdrawShared(key []byte) netip.Addr {
	var withdrawn netip.Addr
	for _, m := range s.shared {
		if m == s {
			continue
		}
		m.mu.Lock()
		if a := m.withdraw(key); a.IsValid() {
			withdrawn = a
		}
		m.mu.Unlock()
	}
	return withdrawn
}

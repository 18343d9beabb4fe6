package server

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"net/netip"
	"slices"
	"time"

	"leased/config"
	"leased/lease"
)

// This file is the operator's views of the engine: leases by address, by
// client and by range, and the numbers of each subnet and pool. A view is
// a copy made under each subnet's lock, held briefly; it never changes the
// engine's state.

// LeaseView is a copy of one address's lease. It holds no reference into
// the engine.
type LeaseView struct {
	Addr   netip.Addr
	Subnet netip.Prefix
	// ClientID is the client's identity: the bytes of its client
	// identifier, else its hardware type followed by its hardware address
	// (as lease.Lease.ClientID).
	ClientID string
	HW       lease.HardwareAddr
	Hostname string
	State    lease.State
	// Start is when the lease was offered, granted or last changed state.
	Start time.Time
	// Expiry is when an offered, bound or declined lease ends, or when a
	// released or expired one did.
	Expiry time.Time
	// Classes are the client classes of the client's latest request
	// (with those of its reservation), in file order, as the engine saw
	// them since it started or last reloaded its configuration; nil when
	// none or not known.
	Classes []string
	// FQDN is the name the server registers in the DNS for the lease,
	// and DNS its records (lease.Lease.FQDN, DNS); "" and 0 when none.
	FQDN string
	DNS  lease.DNSFlags
}

// view returns b as of now, without changing it: a bound lease past its
// expiry shows as expired, and an offer or a probation that has ended
// shows as nothing (ok false), as the engine would see them next.
func (s *subnet) view(b *binding, now time.Time) (LeaseView, bool) {
	v := LeaseView{
		Addr: b.addr, Subnet: s.prefix, ClientID: b.client, HW: b.hw, Hostname: b.hostname,
		Start: b.start, Expiry: b.expiry, Classes: s.classes.names(b.classes),
		FQDN: b.fqdn, DNS: b.dns,
	}
	lapsed := !now.Before(b.expiry)
	switch b.state {
	case stOffered:
		v.State = lease.Offered
	case stBound:
		v.State = lease.Bound
		if lapsed {
			v.State = lease.Expired
		}
		return v, true
	case stReleased:
		v.State = lease.Released
		return v, true
	case stExpired:
		v.State = lease.Expired
		return v, true
	case stDeclined:
		v.State = lease.Declined
	default:
		return LeaseView{}, false
	}
	return v, !lapsed
}

// rank orders views of one client's leases: the one that matters most to
// an operator is the bound one, then an offer, then a probation, then the
// memory of a previous address.
func (v *LeaseView) rank() int {
	switch v.State {
	case lease.Bound:
		return 4
	case lease.Offered:
		return 3
	case lease.Declined:
		return 2
	}
	return 1
}

// better reports whether v matters more than w (see rank), or as much and
// is more recent.
func (v *LeaseView) better(w *LeaseView) bool {
	if rv, rw := v.rank(), w.rank(); rv != rw {
		return rv > rw
	}
	return v.Start.After(w.Start)
}

// sortedSubnets returns the subnets in ascending order of address.
func (e *Engine) sortedSubnets() []*subnet {
	ss := slices.Clone(e.subnets)
	slices.SortFunc(ss, func(a, b *subnet) int { return a.prefix.Addr().Compare(b.prefix.Addr()) })
	return ss
}

// inSpan reports whether first <= a <= last, where an invalid bound is no
// bound.
func inSpan(a, first, last netip.Addr) bool {
	return (!first.IsValid() || first.Compare(a) <= 0) && (!last.IsValid() || a.Compare(last) <= 0)
}

// Leases calls fn with every lease whose address is between first and last
// inclusive, in ascending order of address, until fn returns false. An
// invalid (zero) first or last leaves that end open. Each subnet's leases
// are copied under its lock and fn runs with no lock held, so fn may call
// the engine; a lease that changes meanwhile is shown as it was when
// copied.
func (e *Engine) Leases(first, last netip.Addr, fn func(LeaseView) bool) {
	now := e.clock()
	var (
		buf   []LeaseView
		order []viewKey
	)
	for _, s := range e.sortedSubnets() {
		if !inSpan(s.prefix.Addr(), netip.Addr{}, last) || !inSpan(s.broadcast, first, netip.Addr{}) {
			continue
		}
		s.mu.Lock()
		if n := len(s.bindings); cap(buf) < n {
			buf = make([]LeaseView, 0, n)
			order = make([]viewKey, 0, n)
		}
		buf, order = buf[:0], order[:0]
		for a, b := range s.bindings {
			if !inSpan(a, first, last) {
				continue
			}
			if v, ok := s.view(b, now); ok {
				a4 := a.As4()
				order = append(order, viewKey{addr: binary.BigEndian.Uint32(a4[:]), index: int32(len(buf))})
				buf = append(buf, v)
			}
		}
		s.mu.Unlock()
		// Sort small keys rather than the views themselves.
		slices.SortFunc(order, func(x, y viewKey) int { return cmp.Compare(x.addr, y.addr) })
		for _, k := range order {
			if !fn(buf[k.index]) {
				return
			}
		}
	}
}

// viewKey is a view's address and its index in a slice of views.
type viewKey struct {
	addr  uint32
	index int32
}

// LeaseByAddr returns the lease of address a. ok is false when a has none
// (or is in no subnet).
func (e *Engine) LeaseByAddr(a netip.Addr) (v LeaseView, ok bool) {
	s := e.subnetContaining(a)
	if s == nil {
		return LeaseView{}, false
	}
	now := e.clock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if b := s.bindings[a]; b != nil {
		return s.view(b, now)
	}
	return LeaseView{}, false
}

// LeaseOfClient returns the lease of the client whose identity is id: its
// client identifier, or its hardware type followed by its hardware
// address (see LeaseView.ClientID). When the client has leases in several
// subnets, the bound one wins, then an offer, then the most recent.
func (e *Engine) LeaseOfClient(id []byte) (LeaseView, bool) {
	now := e.clock()
	var best LeaseView
	found := false
	for _, s := range e.subnets {
		s.mu.Lock()
		b := s.byClient[string(id)]
		var v LeaseView
		ok := false
		if b != nil {
			v, ok = s.view(b, now)
		}
		s.mu.Unlock()
		if ok && (!found || v.better(&best)) {
			best, found = v, true
		}
	}
	return best, found
}

// LeaseOfHardwareAddr returns the lease of the client with hardware
// address hw (chaddr), whatever its client identifier. Several leases are
// ranked as in LeaseOfClient. It looks at every lease: it is meant for
// operators, not for the request path.
func (e *Engine) LeaseOfHardwareAddr(hw []byte) (LeaseView, bool) {
	if len(hw) == 0 {
		return LeaseView{}, false
	}
	now := e.clock()
	var best LeaseView
	found := false
	for _, s := range e.subnets {
		s.mu.Lock()
		for _, b := range s.bindings {
			if !bytes.Equal(b.hw.Bytes(), hw) {
				continue
			}
			if v, ok := s.view(b, now); ok && (!found || v.better(&best)) {
				best, found = v, true
			}
		}
		s.mu.Unlock()
	}
	return best, found
}

// PoolStats are the numbers of one pool: one address range of a subnet.
type PoolStats struct {
	// First and Last bound the range.
	First, Last netip.Addr
	// Match is the relay match that keeps the pool for some clients; the
	// zero RelayMatch serves everyone.
	Match config.RelayMatch
	// Size is the number of addresses in the range. Used are those held
	// (offered, bound or declined) or reserved; Free = Size - Used.
	Size, Used, Free int
	// Bound, Offered and Declined count the leases in the range in each
	// state; Reserved counts the reservations inside the range.
	Bound, Offered, Declined, Reserved int
}

// SubnetStats are the numbers of one subnet.
type SubnetStats struct {
	Prefix netip.Prefix
	// Size, Used and Free add up the subnet's pools.
	Size, Used, Free int
	// Leases counts the subnet's leases by state, reservations included;
	// index it with a lease.State.
	Leases [lease.NumStates]int
	// ReservedConfig and ReservedRuntime count the reservations from the
	// configuration file and those added at run time.
	ReservedConfig, ReservedRuntime int
	// Pools are the subnet's address ranges in ascending order.
	Pools []PoolStats
}

// PoolStats returns the numbers of every subnet and pool, subnets in
// ascending order of address. It looks at every lease, each subnet under
// its lock: call it when asked (a status request, a metrics scrape), not
// per packet.
func (e *Engine) PoolStats() []SubnetStats {
	now := e.clock()
	subnets := e.sortedSubnets()
	out := make([]SubnetStats, 0, len(subnets))
	for _, s := range subnets {
		out = append(out, s.stats(now))
	}
	return out
}

func (s *subnet) stats(now time.Time) SubnetStats {
	st := SubnetStats{Prefix: s.prefix}
	for _, set := range s.pool.sets {
		for _, r := range set.pool.Ranges() {
			st.Pools = append(st.Pools, PoolStats{First: r.First, Last: r.Last, Match: set.match, Size: int(r.Size())})
		}
	}
	slices.SortFunc(st.Pools, func(a, b PoolStats) int { return a.First.Compare(b.First) })
	poolOf := func(a netip.Addr) *PoolStats {
		i, found := slices.BinarySearchFunc(st.Pools, a, func(p PoolStats, a netip.Addr) int { return p.First.Compare(a) })
		if !found {
			i--
		}
		if i >= 0 && a.Compare(st.Pools[i].Last) <= 0 {
			return &st.Pools[i]
		}
		return nil
	}

	s.mu.Lock()
	for a, r := range s.resByAddr {
		if r.runtime {
			st.ReservedRuntime++
		} else {
			st.ReservedConfig++
		}
		if p := poolOf(a); p != nil {
			p.Reserved++
			p.Used++
		}
	}
	for a, b := range s.bindings {
		v, ok := s.view(b, now)
		if !ok {
			continue
		}
		st.Leases[v.State]++
		p := poolOf(a)
		if p == nil {
			continue
		}
		switch v.State {
		case lease.Bound:
			p.Bound++
		case lease.Offered:
			p.Offered++
		case lease.Declined:
			p.Declined++
		default:
			continue
		}
		if s.resByAddr[a] == nil {
			p.Used++
		}
	}
	s.mu.Unlock()

	for i := range st.Pools {
		p := &st.Pools[i]
		p.Free = max(0, p.Size-p.Used)
		st.Size += p.Size
		st.Used += p.Used
		st.Free += p.Free
	}
	return st
}

package server

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"time"

	"leased/config"
	"leased/dhcpv4"
	"leased/lease"
)

// This file is the operator's side of the engine: views of the leases,
// reservations and pools, and the few actions an operator takes on a
// running server (release a lease, add or remove a reservation). Views copy
// what they show under each subnet's lock, held briefly, and never change
// the engine's state; actions take the same locks as the request path and,
// like it, commit to the lease store with no lock held.
//
// A subnet's reservation maps (resByHW, resByID, resByAddr) are guarded by
// its mutex like its bindings, since run-time reservations change them
// while the engine serves. A *reservation itself is never changed once
// made: a reply may still be built from one that was just removed.

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
}

// view returns b as of now, without changing it: a bound lease past its
// expiry shows as expired, and an offer or a probation that has ended
// shows as nothing (ok false), as the engine would see them next.
func (s *subnet) view(b *binding, now time.Time) (LeaseView, bool) {
	v := LeaseView{
		Addr: b.addr, Subnet: s.prefix, ClientID: b.client, HW: b.hw, Hostname: b.hostname,
		Start: b.start, Expiry: b.expiry,
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
		b.state = stReleased
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

// ReservationView is a copy of one reservation.
type ReservationView struct {
	Addr   netip.Addr
	Subnet netip.Prefix
	// The client, by exactly one of these.
	HWAddr   net.HardwareAddr
	ClientID []byte
	Relay    config.RelayMatch
	Hostname string
	// Runtime is true for a reservation added at run time
	// (AddReservation), false for one of the configuration file.
	Runtime bool
}

// Config returns v as a configuration reservation.
func (v *ReservationView) Config() config.Reservation {
	return config.Reservation{
		HWAddr: slices.Clone(v.HWAddr), ClientID: slices.Clone(v.ClientID), Relay: v.Relay,
		Addr: v.Addr, Hostname: v.Hostname,
	}
}

// identities returns the identity of every reservation of s. s.mu must be
// held.
func (s *subnet) identities() (hw, id map[*reservation]string) {
	hw = make(map[*reservation]string, len(s.resByHW))
	for k, r := range s.resByHW {
		hw[r] = k
	}
	id = make(map[*reservation]string, len(s.resByID))
	for k, r := range s.resByID {
		id[r] = k
	}
	return hw, id
}

func (s *subnet) reservationView(r *reservation, hw, id string) ReservationView {
	v := ReservationView{Addr: r.addr, Subnet: s.prefix, Relay: r.relay, Hostname: r.hostname, Runtime: r.runtime}
	if hw != "" {
		v.HWAddr = net.HardwareAddr(hw)
	}
	if id != "" {
		v.ClientID = []byte(id)
	}
	return v
}

// Reservations returns every reservation, from the configuration file and
// added at run time, in ascending order of address.
func (e *Engine) Reservations() []ReservationView {
	var out []ReservationView
	for _, s := range e.subnets {
		s.mu.Lock()
		hw, id := s.identities()
		for _, r := range s.resByAddr {
			out = append(out, s.reservationView(r, hw[r], id[r]))
		}
		s.mu.Unlock()
	}
	slices.SortFunc(out, func(a, b ReservationView) int { return a.Addr.Compare(b.Addr) })
	return out
}

// RuntimeReservations returns the reservations added at run time, in
// ascending order of address, in the form AddReservation takes.
func (e *Engine) RuntimeReservations() []config.Reservation {
	var out []config.Reservation
	for _, v := range e.Reservations() {
		if v.Runtime {
			out = append(out, v.Config())
		}
	}
	return out
}

// AddReservation reserves r.Addr for the client r names, while the engine
// serves, in the subnet that contains the address. From the next
// DHCPDISCOVER on, the client is offered that address (RFC 2131 §4.3.1);
// a client bound elsewhere is refused its renewal (DHCPNAK) so that it
// moves. An address inside a pool leaves the pool while reserved.
//
// The client is named by HWAddr (1 to 16 bytes, matched against chaddr of
// Ethernet clients) or ClientID (2 to 255 bytes), not both; reservations
// by relay agent information, and reservations with options, belong in
// the configuration file. Hostname, if set, must be a valid host name.
//
// Errors wrap ErrInvalidReservation (r is not usable, or names the
// network, broadcast, router or server address), ErrNoSubnet,
// ErrAlreadyReserved (the address, the hardware address or the client
// identifier is reserved already, in any subnet, as in the configuration
// file), or ErrAddressInUse (another client holds the address, or it is
// declined). The engine keeps run-time reservations in memory only: the
// caller persists them (see RuntimeReservations).
func (e *Engine) AddReservation(r config.Reservation) error {
	if err := config.CheckRuntimeReservation(&r); err != nil {
		return fmt.Errorf("server: reserve %v: %w: %v", r.Addr, ErrInvalidReservation, err)
	}
	a := r.Addr
	s := e.subnetContaining(a)
	if s == nil {
		return fmt.Errorf("server: reserve %v: %w", a, ErrNoSubnet)
	}
	if s.prefix.Bits() < 31 && (a == s.prefix.Addr() || a == s.broadcast) {
		return fmt.Errorf("server: reserve %v: %w: it is the network or broadcast address of %v", a, ErrInvalidReservation, s.prefix)
	}
	if a == e.serverID {
		return fmt.Errorf("server: reserve %v: %w: it is the server identifier", a, ErrInvalidReservation)
	}
	if routers, ok := s.option(nil, dhcpv4.OptRouter); ok {
		for i := 0; i+4 <= len(routers); i += 4 {
			if netip.AddrFrom4([4]byte(routers[i:i+4])) == a {
				return fmt.Errorf("server: reserve %v: %w: it is a router of %v", a, ErrInvalidReservation, s.prefix)
			}
		}
	}
	now := e.clock()

	// Identities are unique across subnets, as in the configuration file:
	// hold every subnet's lock, always in the same order, so that two
	// additions cannot both pass the check.
	for _, o := range e.subnets {
		o.mu.Lock()
	}
	defer func() {
		for _, o := range e.subnets {
			o.mu.Unlock()
		}
	}()
	if old := s.resByAddr[a]; old != nil {
		return fmt.Errorf("server: reserve %v: %w: the address is reserved (%s)", a, ErrAlreadyReserved, sourceName(old.runtime))
	}
	for _, o := range e.subnets {
		if len(r.HWAddr) > 0 {
			if old := o.resByHW[string(r.HWAddr)]; old != nil {
				return fmt.Errorf("server: reserve %v: %w: hardware address %v has %v (%s)", a, ErrAlreadyReserved, r.HWAddr, old.addr, sourceName(old.runtime))
			}
		}
		if len(r.ClientID) > 0 {
			if old := o.resByID[string(r.ClientID)]; old != nil {
				return fmt.Errorf("server: reserve %v: %w: client identifier %s has %v (%s)", a, ErrAlreadyReserved, hex.EncodeToString(r.ClientID), old.addr, sourceName(old.runtime))
			}
		}
	}
	if b := s.bindings[a]; b != nil && s.refresh(b, now) && b.state.active() {
		if b.state == stDeclined {
			return fmt.Errorf("server: reserve %v: %w: declined (in use on the network) until %s", a, ErrAddressInUse, b.expiry.UTC().Format(time.RFC3339))
		}
		if !reservationNames(&r, b) {
			st, _ := s.view(b, now)
			return fmt.Errorf("server: reserve %v: %w: %s to client %s until %s", a, ErrAddressInUse, st.State, describeClient(b), b.expiry.UTC().Format(time.RFC3339))
		}
	}

	res := &reservation{addr: a, hostname: r.Hostname, inPool: s.pool.Contains(a), runtime: true}
	if len(r.HWAddr) > 0 {
		s.resByHW[string(r.HWAddr)] = res
	} else {
		s.resByID[string(r.ClientID)] = res
	}
	s.resByAddr[a] = res
	if res.inPool {
		s.pool.Take(a) // a no-op when the client holds it already
	}
	return nil
}

// reservationNames reports whether r names the client of b.
func reservationNames(r *config.Reservation, b *binding) bool {
	if len(r.ClientID) > 0 {
		return b.client == string(r.ClientID)
	}
	return b.hw.Type == 1 && bytes.Equal(b.hw.Bytes(), r.HWAddr)
}

// RemoveReservation removes the run-time reservation of address a and
// returns it. The client keeps a lease it holds on a until the lease ends;
// an address of a pool returns to it when free. Errors wrap
// ErrNoReservation, or ErrConfigReservation for a reservation of the
// configuration file.
func (e *Engine) RemoveReservation(a netip.Addr) (ReservationView, error) {
	s := e.subnetContaining(a)
	if s == nil {
		return ReservationView{}, fmt.Errorf("server: unreserve %v: %w: %w", a, ErrNoReservation, ErrNoSubnet)
	}
	now := e.clock()
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.resByAddr[a]
	if r == nil {
		return ReservationView{}, fmt.Errorf("server: unreserve %v: %w", a, ErrNoReservation)
	}
	if !r.runtime {
		return ReservationView{}, fmt.Errorf("server: unreserve %v: %w", a, ErrConfigReservation)
	}
	hw, id := s.identities()
	v := s.reservationView(r, hw[r], id[r])
	delete(s.resByHW, hw[r])
	delete(s.resByID, id[r])
	delete(s.resByAddr, a)
	if r.inPool {
		if b := s.bindings[a]; b == nil || !s.refresh(b, now) || !b.state.active() {
			s.pool.Free(a)
		}
	}
	return v, nil
}

// adoptReservations applies the run-time reservations of old to e, which
// replaces it: a reload keeps them.
func (e *Engine) adoptReservations(old *Engine) error {
	for _, r := range old.RuntimeReservations() {
		if err := e.AddReservation(r); err != nil {
			return fmt.Errorf("the new configuration conflicts with a run-time reservation (remove it first): %w", err)
		}
	}
	return nil
}

func sourceName(runtime bool) string {
	if runtime {
		return "run-time reservation"
	}
	return "configuration file"
}

// describeClient names b's client in messages: its hardware address, and
// its client identifier in hex when that is not derived from it.
func describeClient(b *binding) string {
	hw := b.hw.String()
	derived := len(b.client) == 1+int(b.hw.Len) && b.client[0] == b.hw.Type && b.client[1:] == string(b.hw.Bytes())
	switch {
	case hw != "" && derived:
		return hw
	case hw != "":
		return hw + " id=" + hex.EncodeToString([]byte(b.client))
	}
	return "id=" + hex.EncodeToString([]byte(b.client))
}

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

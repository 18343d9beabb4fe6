package server

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"time"

	"leased/config"
	"leased/dhcpv4"
)

// This file is the reservations as an operator sees and changes them
// while the engine serves.
//
// A subnet's reservation maps (resByHW, resByID, resByAddr) are guarded by
// its mutex like its bindings, since run-time reservations change them
// while the engine serves. A *reservation itself is never changed once
// made: a reply may still be built from one that was just removed.

// ReservationView is a copy of one reservation.
type ReservationView struct {
	Addr   netip.Addr
	Subnet netip.Prefix
	// The client, by exactly one of these.
	HWAddr   net.HardwareAddr
	ClientID []byte
	Relay    config.RelayMatch
	Hostname string
	// Classes are the client classes the reservation puts its client
	// in, in file order.
	Classes []string
	// Runtime is true for a reservation added at run time
	// (AddReservation), false for one of the configuration file.
	Runtime bool
}

// Config returns v as a configuration reservation.
func (v *ReservationView) Config() config.Reservation {
	return config.Reservation{
		HWAddr: slices.Clone(v.HWAddr), ClientID: slices.Clone(v.ClientID), Relay: v.Relay,
		Addr: v.Addr, Hostname: v.Hostname, Classes: slices.Clone(v.Classes),
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
	v := ReservationView{Addr: r.addr, Subnet: s.prefix, Relay: r.relay, Hostname: r.hostname, Runtime: r.runtime,
		Classes: s.classes.names(r.classes)}
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
// Classes, if set, name client classes of the configuration that the
// client is put in, as a reservation of the file does; not one that
// ignores its clients.
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
	cls, err := e.classes.reservable(r.Classes)
	if err != nil {
		return fmt.Errorf("server: reserve %v: %w: %v", r.Addr, ErrInvalidReservation, err)
	}
	a := r.Addr
	s := e.subnetContaining(a)
	if s == nil {
		return fmt.Errorf("server: reserve %v: %w", a, ErrNoSubnet)
	}
	var routers []netip.Addr
	if o, ok := s.option(nil, classSet{}, nil, dhcpv4.OptRouter); ok {
		for i := 0; i+4 <= len(o); i += 4 {
			routers = append(routers, netip.AddrFrom4([4]byte(o[i:i+4])))
		}
	}
	if why := config.ReservedAddressConflict(a, s.prefix, routers); why != "" {
		return fmt.Errorf("server: reserve %v: %w: it is %s %v", a, ErrInvalidReservation, why, s.prefix)
	}
	if a == e.serverID {
		return fmt.Errorf("server: reserve %v: %w: it is the server identifier", a, ErrInvalidReservation)
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

	res := &reservation{addr: a, hostname: r.Hostname, inPool: s.pool.Contains(a), runtime: true, classes: cls}
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

package lease

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"time"
)

// State is where a lease is in its life.
type State uint8

// The states of a lease. The zero State is invalid. Bound through Free are
// the states a stored record can be in; Offered exists only in a server's
// memory, and is shown to operators with the others.
const (
	// Bound: the address is bound to the client until Expiry.
	Bound State = iota + 1
	// Released: the client gave the address back (DHCPRELEASE). The record
	// is kept so that the client can get the same address again (RFC 2131
	// §4.3.1 "previous address") while nobody else took it.
	Released
	// Expired: the lease ran out without renewal. Kept, like Released, to
	// remember the client's previous address.
	Expired
	// Declined: a client reported the address in use (DHCPDECLINE). The
	// address stays out of the pool until Expiry (the probation time).
	Declined
	// Free: the record is deleted. A store writes it as a tombstone and drops
	// the address from its live set.
	Free
	// Offered: the address is held for a client after a DHCPOFFER until
	// Expiry, the end of the offer's hold (RFC 2131 §4.3.1). A server keeps
	// offers in memory only: a store never holds one, and Valid reports
	// false for it.
	Offered
)

// NumStates is one more than the largest State: an array [NumStates]T has
// an element for every state, indexed by State.
const NumStates = int(Offered) + 1

var stateNames = [NumStates]string{"invalid", "bound", "released", "expired", "declined", "free", "offered"}

// String returns the lower-case name of the state ("bound", "released", ...).
func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("state(%d)", uint8(s))
}

// ParseState is the inverse of State.String.
func ParseState(s string) (State, error) {
	for i, n := range stateNames {
		if i > 0 && n == s {
			return State(i), nil
		}
	}
	return 0, fmt.Errorf("lease: unknown state %q", s)
}

// LiveStates returns the states an operator sees a lease in, in the order
// of a lease's life: Offered, Bound, Released, Expired, Declined. Free, a
// deleted record, is not among them.
func LiveStates() []State {
	return []State{Offered, Bound, Released, Expired, Declined}
}

// ParseLiveState is ParseState for the states of LiveStates only: it
// refuses "free".
func ParseLiveState(s string) (State, error) {
	if st, err := ParseState(s); err == nil && st != Free {
		return st, nil
	}
	return 0, fmt.Errorf("lease: unknown lease state %q (want offered, bound, released, expired or declined)", s)
}

// Valid reports whether s is a state a stored record can be in: one of
// Bound, Released, Expired, Declined and Free. Offered is not.
func (s State) Valid() bool { return s >= Bound && s <= Free }

// HardwareAddr is a client's link-layer address as carried in the BOOTP
// htype, hlen and chaddr fields: up to 16 bytes, kept by value so that a
// Lease holds no pointers for it.
type HardwareAddr struct {
	Type uint8    // ARP hardware type (1 = Ethernet)
	Len  uint8    // number of valid bytes in Addr, at most 16
	Addr [16]byte // the address, zero-padded
}

// Bytes returns the valid part of the address. It aliases h.
func (h *HardwareAddr) Bytes() []byte {
	n := min(int(h.Len), len(h.Addr))
	return h.Addr[:n]
}

// String formats the address as colon-separated hex ("02:00:00:00:00:01"),
// or "" when it is empty.
func (h HardwareAddr) String() string {
	return net.HardwareAddr(h.Bytes()).String()
}

// MaxClientBytes is the most bytes that a Lease's ClientID, Hostname and
// FQDN may hold together: 65,267, all that the options of the largest DHCP
// message can carry (a UDP payload of 65,507 bytes less the 240 bytes of
// the BOOTP header and magic cookie). A client identifier or host name
// longer than 255 bytes arrives split over several options and is joined
// (RFC 3396); a store keeps whatever a client can send, so that a client
// that was offered an address is also acknowledged.
const MaxClientBytes = 65507 - 240

// Lease is one address binding. It is a value: copying it copies everything
// except the immutable strings.
type Lease struct {
	// Addr is the leased IPv4 address; it is the record's key.
	Addr netip.Addr
	// ClientID identifies the client: the bytes of its client identifier
	// (option 61) when it sent one, else its hardware type followed by its
	// hardware address (RFC 2132 §9.14, RFC 4361). Raw bytes, not text.
	ClientID string
	// HW is the hardware address the client last used.
	HW HardwareAddr
	// Hostname is the host name the client sent (option 12) or the one a
	// reservation gave it; may be empty.
	Hostname string
	// State is the lease's state.
	State State
	// Start is when the lease was last granted or changed state.
	Start time.Time
	// Expiry is when a Bound lease ends, or when a Declined address leaves
	// probation. For Released and Expired leases it is the time of that event.
	Expiry time.Time
	// FQDN is the fully qualified domain name the server registers in the
	// DNS for this lease (without the trailing dot), or "" when it
	// registers none. It is recorded with the lease in the same commit:
	// the lease store is the durable queue of DNS updates.
	FQDN string
	// DNS says which DNS records the server keeps for FQDN: the forward
	// (A) record, the reverse (PTR) record, or both. Zero when FQDN is "".
	DNS DNSFlags
	// DNSState is how far the DNS updates of this record have gone: a
	// Commit stores DNSPending, and the DNS updater confirms DNSAdded or
	// DNSRemoved afterwards (DNSConfirmer).
	DNSState DNSState
}

// DNSFlags says which DNS records a lease's FQDN has.
type DNSFlags uint8

// The DNS records of a lease.
const (
	// DNSForward: an A record FQDN -> Addr (and its DHCID record).
	DNSForward DNSFlags = 1 << iota
	// DNSReverse: a PTR record Addr -> FQDN (and its DHCID record).
	DNSReverse
)

// DNSState is how far the DNS updates of a lease record have gone.
type DNSState uint8

// The DNS states. What is wanted follows from the record: a Bound lease
// before its Expiry wants its records present, any other lease wants them
// gone. The record's DNS updates are pending until the state says the
// wanted one was reached.
const (
	// DNSPending: nothing confirmed for this record yet.
	DNSPending DNSState = iota
	// DNSAdded: the records were added (or found already there).
	DNSAdded
	// DNSRemoved: the records were removed (or found already gone).
	DNSRemoved
)

// DNSWanted returns the DNS state that l wants at now: DNSAdded for a
// Bound lease before its Expiry, else DNSRemoved.
func (l *Lease) DNSWanted(now time.Time) DNSState {
	if l.State == Bound && now.Before(l.Expiry) {
		return DNSAdded
	}
	return DNSRemoved
}

// DNSDue reports whether l has DNS updates to make at now: it has an FQDN
// and its DNSState is not the one it wants.
func (l *Lease) DNSDue(now time.Time) bool {
	return l.FQDN != "" && l.DNSState != l.DNSWanted(now)
}

// MaxFQDN is the longest FQDN a Lease may hold: 253 characters, the most
// a domain name written without its trailing dot can have (RFC 1035 §2.3.4).
const MaxFQDN = 253

// DNSConfirmer is implemented by stores that keep the DNS state of their
// records. The DNS updater calls ConfirmDNS when the updates of a record
// are done, so that a restart redoes only what was not confirmed.
type DNSConfirmer interface {
	// ConfirmDNS sets the DNSState of the record of addr to st, if that
	// record still has the given Start (a later commit of the address
	// starts its own DNS updates, and is left alone). It need not be on
	// stable storage when it returns: a confirmation lost in a crash makes
	// a restart redo an update, which is harmless. It reports whether a
	// record was changed.
	ConfirmDNS(ctx context.Context, addr netip.Addr, start time.Time, st DNSState) (bool, error)
}

// Validate reports what is wrong with l as a record to store, or nil.
func (l *Lease) Validate() error {
	switch {
	case !l.Addr.Is4():
		return fmt.Errorf("lease: address %v is not IPv4", l.Addr)
	case !l.State.Valid():
		return fmt.Errorf("lease %v: invalid state %d", l.Addr, l.State)
	case l.HW.Len > 16:
		return fmt.Errorf("lease %v: hardware address length %d > 16", l.Addr, l.HW.Len)
	case len(l.FQDN) > MaxFQDN:
		return fmt.Errorf("lease %v: FQDN of %d bytes > %d", l.Addr, len(l.FQDN), MaxFQDN)
	case l.FQDN == "" && l.DNS != 0:
		return fmt.Errorf("lease %v: DNS records without an FQDN", l.Addr)
	case l.DNS&^(DNSForward|DNSReverse) != 0:
		return fmt.Errorf("lease %v: unknown DNS records %#x", l.Addr, uint8(l.DNS))
	case l.DNSState > DNSRemoved:
		return fmt.Errorf("lease %v: invalid DNS state %d", l.Addr, l.DNSState)
	case len(l.ClientID)+len(l.Hostname)+len(l.FQDN) > MaxClientBytes:
		return fmt.Errorf("lease %v: client identifier of %d bytes, host name of %d bytes and FQDN of %d bytes together > %d",
			l.Addr, len(l.ClientID), len(l.Hostname), len(l.FQDN), MaxClientBytes)
	}
	return nil
}

// Store keeps lease records durably. Implementations are safe for concurrent
// use by many goroutines.
type Store interface {
	// Commit records the leases, each replacing any earlier record for the
	// same address (a Free record deletes it). It returns nil only after all
	// of them are on stable storage. On error none of them may be treated as
	// durable, and the caller must not acknowledge them.
	Commit(ctx context.Context, leases ...Lease) error
	// All calls fn for every live (non-Free) record, in no particular order,
	// until fn returns false.
	All(fn func(Lease) bool)
	// Close flushes and releases the store. Commit after Close fails.
	Close() error
}

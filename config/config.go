package config

import (
	"bytes"
	"cmp"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"leased/dhcpv4"
)

// MaxOptionLen is the longest option value, in bytes, that a configuration
// may hold. Values longer than 255 bytes are sent split into several
// instances (RFC 3396); the bound keeps every configured option small
// enough to fit, with the fixed header, in a DHCP message that needs no IP
// fragmentation on an Ethernet link.
const MaxOptionLen = 1024

// Config is a validated server configuration.
//
// Parse and Load return a Config whose Subnet fields hold effective values:
// what the subnet says, or else what the global defaults say. A Config
// built in Go must hold effective values in its subnets too, and valid
// Defaults (a positive LeaseTime at least; the Default constants are a
// good start); Validate checks it but fills in nothing.
type Config struct {
	// Interfaces are the names of the network interfaces to serve. At
	// least one is required.
	Interfaces []string

	// ServerID is the server identifier (option 54) put in every reply.
	// The zero Addr means "the IPv4 address of the interface the request
	// arrived on", which is what a server with one address per interface
	// wants.
	ServerID netip.Addr

	// LeaseStore is the directory of the durable lease store: the
	// journal's, and with any store the run-time reservations'.
	LeaseStore string

	// Store says which lease store holds the leases: the journal in
	// LeaseStore, or a shared database.
	Store Store

	// CommitDelay lets the lease store, when DHCPREQUESTs come in
	// concurrently, wait up to this long for more leases before it syncs a
	// batch to disk: fewer, larger syncs for a longer average DHCPACK
	// latency. It applies only while DHCPREQUESTs come more often than
	// the delay. 0 syncs as soon as the disk is free. At most
	// MaxCommitDelay; DefaultCommitDelay by default.
	CommitDelay time.Duration

	// ReceiveDelay lets a reader of the DHCP socket, while requests come
	// faster than one per ReceiveDelay, pause this long after each read
	// so that the next read takes several at once rather than the server
	// waking for each: less CPU per lease under load for up to this much
	// more latency. At lower rates it never pauses. 0 never pauses. At
	// most MaxReceiveDelay; DefaultReceiveDelay by default.
	ReceiveDelay time.Duration

	// OfferHold is how long an address offered in a DHCPOFFER stays
	// reserved for the client before it can be offered to another one
	// (RFC 2131 §4.3.1 asks the server to avoid offering it again in the
	// meantime). It must be positive.
	OfferHold time.Duration

	// DeclineProbation is how long an address reported in use by a
	// DHCPDECLINE stays out of the pool (RFC 2131 §4.3.3 asks that it be
	// marked not available). It must be positive. A long probation lets
	// a single faulty client drain a pool by declining every address it
	// is offered, so the default is a modest 10 minutes: long enough for
	// the host squatting on the address to be found, short enough that
	// the pool recovers by itself.
	DeclineProbation time.Duration

	// RateLimits are the token buckets that requests pass before the
	// engine sees them; the zero value limits nothing.
	// DefaultRateLimits by default.
	RateLimits RateLimits

	// Hooks are the lease event hooks; none by default (DefaultHooks).
	Hooks Hooks

	// DDNS is the global dynamic DNS block (see DDNS); updates are off
	// by default (DefaultDDNS). Each subnet holds its effective block.
	DDNS DDNS

	// OfferLimit caps the offers each subnet holds for clients without a
	// reservation or binding of their own, in percent of its pool, so
	// that a flood of DHCPDISCOVERs from random hardware addresses cannot
	// hold the whole pool; beyond it, offers are made without setting the
	// address aside (see package server). 0 or 100 is no limit.
	// DefaultOfferLimit by default.
	OfferLimit int
	// CheckReleaseSource refuses a DHCPRELEASE or DHCPDECLINE that could
	// not have come from the holder of the lease it names: a direct
	// DHCPRELEASE must come from the lease's address, a direct
	// DHCPDECLINE from 0.0.0.0 on the lease's link, a relayed one from a
	// relay of the lease's subnet, and each with the lease's hardware
	// address (package server says exactly). True by default
	// (DefaultCheckReleaseSource); false trusts every such message from
	// the right client, as servers commonly do.
	CheckReleaseSource bool

	// PoolStartPercent is where, in each pool, the server begins looking
	// for a free address to offer: 0 is the first address, 50 the middle.
	// Servers sharing one lease store give each a different start (0 and
	// 50 for two), so that their offers do not meet until the pool is
	// half used: two servers offering one address to two clients cost one
	// of them a DHCPNAK and a new DISCOVER. 0 by default.
	PoolStartPercent int

	// Defaults are the global lease times, authoritative switch and
	// options, as given at the top of the file. Every subnet already has
	// them merged in; they are kept here for reference and so that
	// Validate can tell inherited values from a subnet's own.
	Defaults SubnetDefaults

	// Subnets are the networks served, in file order. They do not
	// overlap.
	Subnets []Subnet

	// SharedNetworks group subnets that share one link, in file order:
	// a client of one is served from the next when the first has no
	// address left. Each subnet is in at most one of them.
	SharedNetworks []SharedNetwork

	// ClientClasses are the client classes, in file order (see
	// ClientClass); at most MaxClientClasses.
	ClientClasses []ClientClass
}

// SubnetDefaults are the settings that subnets inherit from the top of the
// file.
type SubnetDefaults struct {
	// LeaseTime is the lease time given to clients (option 51). It is
	// positive, a whole number of seconds, and at most dhcpv4.Infinite.
	LeaseTime time.Duration

	// T1 and T2 are the renewal (option 58) and rebinding (option 59)
	// times; zero means not configured, in which case the engine uses
	// the RFC 2131 §4.4.5 defaults of 1/2 and 7/8 of the lease time.
	T1, T2 time.Duration

	// Authoritative says whether the server may answer a client it has
	// no record of (RFC 2131 §4.3.2): a DHCPREQUEST in INIT-REBOOT or
	// RENEWING for an address it does not know the client holds gets a
	// DHCPACK when the address is free and a DHCPNAK otherwise. A server
	// that is not authoritative stays silent to such clients, so that
	// servers sharing no lease database can coexist. Requests for an
	// address on the wrong network are refused with DHCPNAK either way.
	Authoritative bool

	// Options are the global options, in increasing code order.
	Options []Option
}

// Subnet is one network that the server hands out addresses on: a prefix,
// the dynamic pools inside it, fixed reservations and the options its
// clients get.
type Subnet struct {
	// Prefix is the subnet, an IPv4 prefix in canonical form
	// (198.18.0.0/24, never 198.18.0.5/24).
	Prefix netip.Prefix

	// Pools are the dynamic address ranges, inside Prefix, apart from
	// each other, and clear of the network and broadcast addresses.
	Pools []Range

	// LeaseTime, T1 and T2 are effective: the subnet's own or else the
	// global ones. T1 and T2 are zero when neither level sets them.
	LeaseTime time.Duration
	T1, T2    time.Duration

	// Authoritative is effective: the subnet's own or else the global
	// switch.
	Authoritative bool

	// ReservationsInPool allows reservation addresses inside the
	// dynamic pools. When false, a reservation inside a pool is an
	// error, so that the address can never be leased to another client
	// first.
	ReservationsInPool bool

	// Options are effective: the global options merged with the
	// subnet's own (the subnet's value wins for a code both set), in
	// increasing code order. The subnet mask (option 1) is not among
	// them unless configured: the engine derives it from Prefix. Values
	// may be shared with Config.Defaults and other subnets: treat them
	// as read-only.
	Options []Option

	// Reservations are the fixed addresses of known clients, in file
	// order.
	Reservations []Reservation

	// IPv6OnlyWait, when positive, offers IPv6-only preferred service
	// (RFC 8925): a client that lists option 108 in its parameter
	// request list gets option 108 with this wait (V6ONLY_WAIT) and no
	// address. It is a whole number of seconds, at least
	// MinIPv6OnlyWait. Zero is off.
	IPv6OnlyWait time.Duration

	// PingCheck, when positive, has the server send an ICMP echo to an
	// address before offering it to a client that did not hold it
	// lately, and wait this long for an answer: an address that answers
	// is in use by a host the server does not know of, and is set aside
	// as a declined one is. At most MaxPingWait. Zero is off.
	PingCheck time.Duration

	// Boot is the subnet's boot fields (siaddr, sname, file); classes
	// and reservations may replace each.
	Boot Boot

	// DDNS is effective: the subnet's ddns keys over the global ones,
	// with the zones filled in (see DDNS). Its zero value is off.
	DDNS DDNS
}

// Reservation binds a fixed address, and optionally a host name and extra
// options, to one client. The client is named by exactly one of HWAddr,
// ClientID (RFC 2132 §9.14 identity) and Relay (the switch port it is on).
type Reservation struct {
	// HWAddr is the client's hardware address (chaddr), 1 to 16 bytes.
	HWAddr net.HardwareAddr

	// Relay names the client by the relay agent information its relay
	// adds (RFC 3046): whoever is behind that circuit gets the address.
	Relay RelayMatch

	// ClientID is the client identifier (option 61) the client sends,
	// type byte included, 2 to 255 bytes.
	ClientID []byte

	// Addr is the reserved address, inside the subnet.
	Addr netip.Addr

	// Hostname, when not empty, is sent as the host name option (12).
	Hostname string

	// Options are the reservation's own options, in increasing code
	// order; the engine applies them over the subnet's (see
	// MergeOptions).
	Options []Option

	// Classes are client classes the client is in, besides those its
	// requests match; none may be an ignore class.
	Classes []string

	// Boot replaces the boot fields it sets for this client.
	Boot Boot
}

// Option is one DHCP option with its value in wire format, as it goes in a
// message after the code and length octets.
type Option struct {
	Code  dhcpv4.OptionCode
	Value []byte
}

// MergeOptions returns base with over applied on top: for a code present in
// both, the value from over wins. The result is a new slice in increasing
// code order; the values are shared with the inputs, not copied. Both
// inputs must hold each code at most once.
func MergeOptions(base, over []Option) []Option {
	out := make([]Option, 0, len(base)+len(over))
	out = append(out, over...)
	for _, o := range base {
		if !slices.ContainsFunc(over, func(v Option) bool { return v.Code == o.Code }) {
			out = append(out, o)
		}
	}
	slices.SortStableFunc(out, func(a, b Option) int { return cmp.Compare(a.Code, b.Code) })
	return out
}

// findOption returns the option of code c in opts.
func findOption(opts []Option, c dhcpv4.OptionCode) (Option, bool) {
	for _, o := range opts {
		if o.Code == c {
			return o, true
		}
	}
	return Option{}, false
}

// sameOption reports whether opts holds option o with the same value.
func sameOption(opts []Option, o Option) bool {
	v, ok := findOption(opts, o.Code)
	return ok && bytes.Equal(v.Value, o.Value)
}

// Range is an inclusive range of IPv4 addresses, First to Last. As a
// subnet's pool it may be kept for some relayed clients only (Match).
type Range struct {
	First, Last netip.Addr
	// Match, when set, keeps the pool for clients whose relay agent
	// information matches it; such a pool is tried before the subnet's
	// pools without a match. Its zero value matches every client.
	Match RelayMatch
	// Classes, when not empty, keeps the pool for clients in at least
	// one of these client classes; DenyClasses keeps it from clients in
	// any of those. Both combine with Match.
	Classes, DenyClasses []string
	// Options are the pool's options, in increasing code order: sent in
	// replies that give an address of the pool, over the subnet's and
	// under a client class's and a reservation's.
	Options []Option
}

// RelayMatch selects relayed clients by the sub-options their relay agent
// added to the relay agent information option (RFC 3046 §2.0): the
// circuit (the port or VLAN the client is on) and the relay's remote
// identifier. The set fields must all be equal; the zero RelayMatch sets
// none and matches every client.
type RelayMatch struct {
	CircuitID string // raw bytes of sub-option 1
	RemoteID  string // raw bytes of sub-option 2
}

// IsZero reports whether m sets nothing.
func (m RelayMatch) IsZero() bool { return m.CircuitID == "" && m.RemoteID == "" }

// Matches reports whether a client whose relay sent circuit and remote
// matches m. The zero RelayMatch matches everyone.
func (m RelayMatch) Matches(circuit, remote []byte) bool {
	return (m.CircuitID == "" || m.CircuitID == string(circuit)) &&
		(m.RemoteID == "" || m.RemoteID == string(remote))
}

// String formats m for messages: circuit-id and remote-id in hex.
func (m RelayMatch) String() string {
	var parts []string
	if m.CircuitID != "" {
		parts = append(parts, "circuit-id "+dhcpv4.FormatHex([]byte(m.CircuitID)))
	}
	if m.RemoteID != "" {
		parts = append(parts, "remote-id "+dhcpv4.FormatHex([]byte(m.RemoteID)))
	}
	return strings.Join(parts, ", ")
}

// ParseRange parses "198.18.0.100-198.18.0.199" (spaces around the dash are
// allowed) or a single address, which is a range of one. It checks the
// syntax only: that both ends are IPv4 addresses. Whether the range is in
// order is for Range.IsValid and Config.Validate to say, so that the
// message can name the range as written.
func ParseRange(s string) (Range, error) {
	first, last, found := strings.Cut(s, "-")
	first = strings.TrimSpace(first)
	last = strings.TrimSpace(last)
	if !found {
		last = first
	}
	a, err := parseAddr4(first)
	if err != nil {
		return Range{}, fmt.Errorf("%q is not an address range such as 198.18.0.100-198.18.0.199: %v", clip(s), err)
	}
	b, err := parseAddr4(last)
	if err != nil {
		return Range{}, fmt.Errorf("%q is not an address range such as 198.18.0.100-198.18.0.199: %v", clip(s), err)
	}
	return Range{First: a, Last: b}, nil
}

// parseAddr4 parses an IPv4 address in dotted-quad form.
func parseAddr4(s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("%q is not an IPv4 address", clip(s))
	}
	if !a.Is4() {
		return netip.Addr{}, fmt.Errorf("%v is not an IPv4 address", a)
	}
	return a, nil
}

// IsValid reports whether both ends are IPv4 addresses and First is not
// after Last.
func (r Range) IsValid() bool {
	return r.First.Is4() && r.Last.Is4() && r.First.Compare(r.Last) <= 0
}

// Contains reports whether a is inside the range.
func (r Range) Contains(a netip.Addr) bool {
	return r.IsValid() && a.Is4() && r.First.Compare(a) <= 0 && a.Compare(r.Last) <= 0
}

// Overlaps reports whether r and o share at least one address. Invalid
// ranges overlap nothing.
func (r Range) Overlaps(o Range) bool {
	return r.IsValid() && o.IsValid() && r.First.Compare(o.Last) <= 0 && o.First.Compare(r.Last) <= 0
}

// String returns "first-last", the form ParseRange reads.
func (r Range) String() string {
	return r.First.String() + "-" + r.Last.String()
}

// Error is one configuration error: where it is and what is wrong.
//
// File and Line are empty for errors found by Validate in a Config built in
// Go, and Line is zero for a key that is missing from the file. Path is the
// key path in the file format, such as "subnets[0].pools[1]"; it is empty
// for errors about the file as a whole.
type Error struct {
	File string
	Line int
	Path string
	Msg  string
}

// Error formats e as "file:line: path: message", leaving out the parts that
// are empty:
//
//	leased.yaml:14: subnets[0].pools[1]: 198.18.1.5-198.18.0.9 is reversed
func (e *Error) Error() string {
	var b strings.Builder
	switch {
	case e.File != "" && e.Line > 0:
		b.WriteString(e.File)
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(e.Line))
		b.WriteString(": ")
	case e.File != "":
		b.WriteString(e.File)
		b.WriteString(": ")
	case e.Line > 0:
		b.WriteString("line ")
		b.WriteString(strconv.Itoa(e.Line))
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

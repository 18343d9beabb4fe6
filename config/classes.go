package config

import (
	"net/netip"
	"time"

	"leased/dhcpv4"
)

// MaxClientClasses is the most client classes a configuration may define:
// the engine keeps the classes a request matched in a fixed-size set.
const MaxClientClasses = 128

// ClientClass is a named kind of client, matched on what its requests
// carry, and what being in it changes: options, lease times, the boot
// fields of the header, or no answer at all. Classes are evaluated in file
// order, once per request.
type ClientClass struct {
	// Name is unique, 1 to 64 characters of a-z, 0-9 and '-'.
	Name string

	// Match says which requests are in the class. A class with the zero
	// Match (MatchNone) is matched by no request: clients join it only
	// by a reservation's Classes.
	Match ClassMatch

	// Options are the class's options, in increasing code order. They
	// win over the subnet's (and the pool's) and lose to a
	// reservation's; of two classes, the later in the file wins.
	Options []Option

	// LeaseTime, T1 and T2, when not zero, replace the subnet's. A class
	// that sets LeaseTime but not T1 (T2) gives 1/2 (7/8) of its lease
	// time.
	LeaseTime, T1, T2 time.Duration

	// Boot sets the boot fields of the header.
	Boot Boot

	// Ignore makes the server stay silent to the class's clients.
	Ignore bool

	// IPv6OnlyWait, when positive, offers the class's clients that ask
	// for it IPv6-only preferred service (RFC 8925) with this wait, over
	// the subnet's; at least MinIPv6OnlyWait. IPv6OnlyOff turns the
	// subnet's off for them instead. Of two classes that set either, the
	// later in the file wins.
	IPv6OnlyWait time.Duration
	IPv6OnlyOff  bool
}

// Boot is what a network-booting client is told: the server to load its
// boot file from (siaddr) and the file (RFC 2131 §2, RFC 2132 §9.4, §9.5).
// Each field, when set, replaces the one from a lower level (subnet <
// class < reservation).
type Boot struct {
	// NextServer is the siaddr field: the TFTP server the boot file is
	// loaded from.
	NextServer netip.Addr
	// ServerName is the sname field, at most 63 bytes; sent as option 66
	// as well when the client asks for it.
	ServerName string
	// File is the file field, at most 127 bytes; sent as option 67 as
	// well when the client asks for it.
	File string
}

// IsZero reports whether b sets nothing.
func (b Boot) IsZero() bool { return !b.NextServer.IsValid() && b.ServerName == "" && b.File == "" }

// Over returns b with the fields o sets replaced by o's.
func (b Boot) Over(o Boot) Boot {
	if o.NextServer.IsValid() {
		b.NextServer = o.NextServer
	}
	if o.ServerName != "" {
		b.ServerName = o.ServerName
	}
	if o.File != "" {
		b.File = o.File
	}
	return b
}

// MatchKind is what a ClassMatch tests.
type MatchKind uint8

// The match kinds; the file's keys are in the comments.
const (
	MatchNone              MatchKind = iota // matches nothing
	MatchVendorClass                        // vendor-class: option 60 equals Text
	MatchVendorClassPrefix                  // vendor-class-prefix: option 60 begins with Text
	MatchUserClass                          // user-class: a user class (option 77) equals Text
	MatchArch                               // arch: option 93 holds one of Values (RFC 4578 §2.1)
	MatchCircuitID                          // circuit-id: option 82 sub-option 1 equals Text
	MatchRemoteID                           // remote-id: option 82 sub-option 2 equals Text
	MatchSubscriberID                       // subscriber-id: option 82 sub-option 6 equals Text
	MatchHWPrefix                           // hw-prefix: an Ethernet chaddr begins with the bytes of Text
	MatchInterface                          // interface: a direct request arrived on the interface Text
	MatchSubnet                             // subnet: the request is served from Prefix
	MatchHostname                           // hostname: option 12 matches the glob Text (path.Match syntax)
	MatchOption                             // option: option Code is in the request
	MatchClass                              // class: the earlier class Text matched
	MatchAllOf                              // all-of: every one of Of matches
	MatchAnyOf                              // any-of: one of Of matches
	MatchNot                                // not: Of[0] does not match
)

// ClassMatch is a test on a request. Which fields count depends on Kind.
type ClassMatch struct {
	Kind   MatchKind
	Text   string // the text or bytes compared, the glob, or the class name
	Values []uint16
	Code   dhcpv4.OptionCode
	Prefix netip.Prefix
	Of     []ClassMatch
}

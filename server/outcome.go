package server

import (
	"net/netip"
	"time"

	"leased/dhcpv4"
	"leased/lease"
)

// Action is what the engine decided to do with a request.
type Action uint8

// The actions.
const (
	// Drop: send nothing. Outcome.Reason says why.
	Drop Action = iota
	// Reply: send the reply packet.
	Reply
)

// Reason says why the engine replied as it did or stayed silent. Each
// reason is a stable lower-case token for logs and metric labels.
type Reason uint8

// Reasons. The first group comes with Reply, the rest with Drop.
const (
	ReasonNone Reason = iota
	// Replies.
	ReasonOffer       // DISCOVER answered with an OFFER
	ReasonAck         // REQUEST acknowledged, lease committed
	ReasonAckKept     // REQUEST acknowledged with the time its durable lease has left, nothing written: the store cannot commit
	ReasonInformAck   // INFORM answered with options
	ReasonNakAddress  // NAK: the requested address is not the client's
	ReasonNakNetwork  // NAK: the requested address is on the wrong network
	ReasonNakUnknown  // NAK: authoritative, no lease for the client and the address is not free
	ReasonOfferUnheld // DISCOVER answered with an OFFER of an address not set aside: the subnet holds as many offers as it may
	ReasonNakConflict // NAK: another server sharing the lease store holds the address
	ReasonIPv6Only    // OFFER or ACK with option 108 and no address: the client prefers IPv6-only (RFC 8925)

	// Silences.
	ReasonMalformed      // not a usable DHCP request (BOOTREPLY, no message type, missing fields)
	ReasonUnsupported    // a message type a server does not answer (OFFER, ACK, ...)
	ReasonNoSubnet       // no configured subnet for the client's network
	ReasonExhausted      // no free address in the pool
	ReasonNotForUs       // addressed to another server (server identifier)
	ReasonOfferWithdrawn // client chose another server; our offer went back to the pool
	ReasonUnknownClient  // no record of the client and not authoritative (RFC 2131 §4.3.2)
	ReasonReleased       // RELEASE processed
	ReasonDeclined       // DECLINE processed
	ReasonNoBinding      // RELEASE or DECLINE for an address the client does not hold
	ReasonCommitFailed   // the lease store failed: no acknowledgement
	ReasonNotWritable    // the lease store cannot commit, and the answer would need a new commitment
	ReasonRateLimited    // dropped before the engine: the client or its relay agent sent more than its rate limit
	ReasonBadGIAddr      // relayed, but giaddr is no unicast relay address (a broadcast, multicast, loopback or our own): a reply would reflect
	ReasonWrongSource    // RELEASE or DECLINE not sent from the lease holder's address, hardware or link
	ReasonChoseOther     // DISCOVER of an exchange in which the client already chose another server
	ReasonPingInUse      // the address about to be offered answered a ping check: set aside, another offered (counted by the caller)
	ReasonIgnoredClass   // the client is in a client class that ignores its clients
	reasonCount
)

var reasonNames = [...]string{
	ReasonNone:           "none",
	ReasonOffer:          "offer",
	ReasonAck:            "ack",
	ReasonAckKept:        "ack-kept",
	ReasonInformAck:      "inform-ack",
	ReasonNakAddress:     "nak-address",
	ReasonNakNetwork:     "nak-network",
	ReasonNakUnknown:     "nak-unknown",
	ReasonOfferUnheld:    "offer-unheld",
	ReasonNakConflict:    "nak-conflict",
	ReasonIPv6Only:       "ipv6-only",
	ReasonMalformed:      "malformed",
	ReasonUnsupported:    "unsupported",
	ReasonNoSubnet:       "no-subnet",
	ReasonExhausted:      "pool-exhausted",
	ReasonNotForUs:       "not-for-us",
	ReasonOfferWithdrawn: "offer-withdrawn",
	ReasonUnknownClient:  "unknown-client",
	ReasonReleased:       "released",
	ReasonDeclined:       "declined",
	ReasonNoBinding:      "no-binding",
	ReasonCommitFailed:   "commit-failed",
	ReasonNotWritable:    "store-not-writable",
	ReasonRateLimited:    "rate-limited",
	ReasonBadGIAddr:      "bad-giaddr",
	ReasonWrongSource:    "wrong-source",
	ReasonChoseOther:     "chose-other",
	ReasonPingInUse:      "ping-in-use",
	ReasonIgnoredClass:   "ignored-class",
}

// String returns the reason's token ("pool-exhausted").
func (r Reason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return "unknown"
}

// Reasons returns every reason, for pre-registering metric labels.
func Reasons() []Reason {
	rs := make([]Reason, 0, reasonCount)
	for r := ReasonNone; r < reasonCount; r++ {
		rs = append(rs, r)
	}
	return rs
}

// Outcome is what Handle decided, for logs and counters. It holds no
// pointers into the request, so it can be kept.
type Outcome struct {
	Action Action
	Reason Reason
	// Type is the request's message type, Reply the reply's (0 when Drop).
	Type  dhcpv4.MessageType
	Reply dhcpv4.MessageType
	// Addr is the address concerned: offered, acknowledged, released,
	// declined or refused. Invalid when none.
	Addr netip.Addr
	// Subnet is the subnet the request was served from; invalid when none.
	Subnet netip.Prefix
	// Renewal, with ReasonAck, says that the client already held a bound
	// lease of Addr: the commit extended it rather than binding anew.
	Renewal bool
	// Err is the store's error for ReasonCommitFailed, and for
	// ReasonAckKept when a commit was tried and failed.
	Err error
	// Probe, when positive, asks for a ping check of the offered Addr
	// before the reply is sent: wait this long for an answer to an ICMP
	// echo, and when one comes, report it (Engine.MarkInUse) and handle
	// the request again instead of sending the reply.
	Probe time.Duration

	// Client classes (classes.go). Classes are the client classes the
	// request matched, with those its reservation puts it in; empty when
	// the engine has no classes or did not classify the request (no
	// subnet, malformed). It refers to the engine's class table, which
	// never changes, so that an Outcome kept names its classes later
	// (Classes.Each) and setting it allocates nothing.
	Classes Classes

	// The lease's DNS name (RFC 4702), in a subnet with dynamic DNS
	// updates on. FQDN is the name of the lease acknowledged (ReasonAck),
	// released or declined, and DNS the records the server keeps for it
	// (lease.Lease.FQDN and DNS); "" and 0 when it has none. OldFQDN and
	// OldDNS, with ReasonAck, are the name and records the address had
	// before, when they were not these: the client's lease was renamed
	// or its records changed, or the address passed from another client
	// whose lease had a name. The strings are the engine's own, shared,
	// never built for the outcome.
	FQDN    string
	DNS     lease.DNSFlags
	OldFQDN string
	OldDNS  lease.DNSFlags
}

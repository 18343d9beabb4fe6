package history

import (
	"net/netip"
	"time"

	"leased/dhcpv4"
	"leased/lease"
	"leased/server"
)

// Record is one decision about one client. It is a fixed-size value with
// no pointers, so that a Book keeps records without allocating.
type Record struct {
	// Time is when the request was handled, in Unix nanoseconds.
	Time int64
	// XID is the request's transaction ID.
	XID uint32
	// Type is the request's message type; Reply is the reply's, or 0 when
	// the server stayed silent.
	Type, Reply dhcpv4.MessageType
	// Reason is the engine's reason (server.Reason), or
	// server.ReasonRateLimited for a request the rate limits dropped.
	Reason server.Reason
	// Foreign is set for a direct request dropped because it arrived on
	// an interface the server does not serve; Reason is then ReasonNone.
	Foreign bool
	// IfName is the arrival interface.
	IfName Short
	// GIAddr is the relay agent's address (zero when direct); Circuit and
	// Remote are its circuit and remote identifiers (option 82), cut to
	// the size of a Short.
	GIAddr          V4
	Circuit, Remote Short
	// CIAddr, Requested (option 50) and ServerID (option 54) are what the
	// client sent.
	CIAddr, Requested, ServerID V4
	// Addr is the address concerned (offered, acknowledged, refused...),
	// and Subnet the subnet chosen; zero when none.
	Addr   V4
	Subnet V4
	Bits   uint8 // Subnet's prefix length
	// HW is the client's hardware address (chaddr).
	HW lease.HardwareAddr
	// Classes are the names of the client classes the request matched,
	// separated by commas and cut to the size of a Short; empty when none
	// matched or no classes are configured.
	Classes Short
}

// Silent reports whether the server sent nothing.
func (r *Record) Silent() bool { return r.Reply == 0 }

// When returns r.Time as a time.Time.
func (r *Record) When() time.Time { return time.Unix(0, r.Time) }

// SubnetPrefix returns the subnet chosen, or the zero Prefix.
func (r *Record) SubnetPrefix() netip.Prefix {
	if r.Subnet.IsZero() {
		return netip.Prefix{}
	}
	return netip.PrefixFrom(r.Subnet.Addr(), int(r.Bits))
}

// ReasonToken is the reason's token for people and scripts: the
// server.Reason's, or "foreign-interface".
func (r *Record) ReasonToken() string {
	if r.Foreign {
		return "foreign-interface"
	}
	return r.Reason.String()
}

// Verdict is what the client got: the reply's message type ("OFFER",
// "ACK", "NAK"), or "silence".
func (r *Record) Verdict() string {
	switch r.Reply {
	case 0:
		return "silence"
	case dhcpv4.Offer:
		return "OFFER"
	case dhcpv4.Ack:
		return "ACK"
	case dhcpv4.Nak:
		return "NAK"
	}
	return r.Reply.String()
}

// V4 is an IPv4 address in 4 bytes; all zeros is none.
type V4 [4]byte

// v4 returns a as a V4, zero for an invalid or non-IPv4 address.
func v4(a netip.Addr) V4 {
	if !a.Is4() {
		return V4{}
	}
	return a.As4()
}

// IsZero reports whether v is 0.0.0.0, which stands for none.
func (v V4) IsZero() bool { return v == V4{} }

// Addr returns v as a netip.Addr; the zero Addr when v is zero.
func (v V4) Addr() netip.Addr {
	if v.IsZero() {
		return netip.Addr{}
	}
	return netip.AddrFrom4(v)
}

// ShortLen is the capacity of a Short.
const ShortLen = 32

// Short is up to ShortLen bytes kept inline; longer values are cut.
type Short struct {
	n uint8
	b [ShortLen]byte
}

// set copies p into s, cut to ShortLen bytes.
func (s *Short) set(p []byte) { s.n = uint8(copy(s.b[:], p)) }

// setString copies t into s, cut to ShortLen bytes.
func (s *Short) setString(t string) { s.n = uint8(copy(s.b[:], t)) }

// Bytes returns the bytes of s. It aliases s.
func (s *Short) Bytes() []byte { return s.b[:s.n] }

// String returns the bytes of s as a string, unescaped.
func (s Short) String() string { return string(s.b[:s.n]) }

// SetClasses records the names of the classes a request matched,
// comma-separated and cut to ShortLen bytes. It does not allocate.
func (r *Record) SetClasses(names []string) {
	r.Classes.n = 0
	for _, name := range names {
		r.addClass(name)
	}
}

// addClass appends name to r.Classes, after a comma when it is not the
// first, cut to ShortLen bytes.
func (r *Record) addClass(name string) {
	n := int(r.Classes.n)
	if n > 0 && n < ShortLen {
		r.Classes.b[n] = ','
		n++
	}
	n += copy(r.Classes.b[n:], name)
	r.Classes.n = uint8(n)
}

// fill sets r from a request, where it arrived and what was decided.
func (r *Record) fill(now time.Time, req *dhcpv4.Packet, in *server.Arrival, out *server.Outcome) {
	*r = Record{} // cleared in place: a literal would be built aside and copied
	r.Time, r.XID, r.Type, r.Reason = now.UnixNano(), req.XID, req.MessageType(), out.Reason
	r.GIAddr, r.CIAddr, r.Addr = v4(req.GIAddr), v4(req.CIAddr), v4(out.Addr)
	if out.Action == server.Reply {
		r.Reply = out.Reply
	}
	r.IfName.setString(in.IfName)
	if a, ok := req.Options.Addr(dhcpv4.OptRequestedIP); ok {
		r.Requested = v4(a)
	}
	if a, ok := req.Options.Addr(dhcpv4.OptServerID); ok {
		r.ServerID = v4(a)
	}
	if out.Subnet.IsValid() && out.Subnet.Addr().Is4() {
		r.Subnet, r.Bits = out.Subnet.Addr().As4(), uint8(out.Subnet.Bits())
	}
	hw := req.HardwareAddr()
	r.HW.Type, r.HW.Len = req.HType, uint8(copy(r.HW.Addr[:], hw))
	if o82, ok := req.Options.Get(dhcpv4.OptRelayAgentInfo); ok {
		r.Circuit.set(subOption(o82, dhcpv4.RelayCircuitID))
		r.Remote.set(subOption(o82, dhcpv4.RelayRemoteID))
	}
	out.Classes.Each(r.addClass)
}

// subOption returns the value of sub-option code in the relay agent
// information b (RFC 3046 §2.0), or nil.
func subOption(b []byte, code uint8) []byte {
	for len(b) >= 2 {
		c, n := b[0], int(b[1])
		if len(b) < 2+n {
			return nil
		}
		if c == code {
			return b[2 : 2+n]
		}
		b = b[2+n:]
	}
	return nil
}

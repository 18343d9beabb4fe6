package relay

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"

	"leased/dhcpv4"
	"leased/udp4"
)

// Defaults and limits of a Config.
const (
	// DefaultMaxHops is the hop count above which requests are dropped
	// when Config.MaxHops is zero: RFC 1542 §4.1.1 says the default of a
	// configurable threshold SHOULD be 4.
	DefaultMaxHops = 4
	// MaxHopsLimit is the largest MaxHops: a relay MUST discard requests
	// whose hops field exceeds 16 (RFC 1542 §4.1.1).
	MaxHopsLimit = 16
	// DefaultMaxSize is the largest message (UDP payload) the relay makes
	// by adding option 82 when Config.MaxSize is zero: an Ethernet MTU of
	// 1500 bytes less the IPv4 and UDP headers, so that adding the option
	// never makes a datagram that needs fragmenting (RFC 3046 §2.1).
	DefaultMaxSize = 1500 - 28
)

// Policy says what the relay does with a request from a client (giaddr
// zero) that already carries a relay agent information option, which a
// device between the client and the relay added, or the client forged
// (RFC 3046 §2.1).
type Policy uint8

// The policies.
const (
	// PolicyDrop drops the request and counts it: the circuit is
	// untrusted, and RFC 3046 §2.1 requires this. The default.
	PolicyDrop Policy = iota
	// PolicyForward forwards the request with the option as it is and
	// without adding ours: the circuit is trusted, and the device that
	// added the option removes it from the reply. Replies that carry an
	// option 82 that is not ours are then delivered as they are.
	PolicyForward
	// PolicyReplace removes the existing option and adds ours (when
	// adding is enabled).
	PolicyReplace
)

var policyNames = [...]string{PolicyDrop: "drop", PolicyForward: "forward", PolicyReplace: "replace"}

// String returns "drop", "forward" or "replace".
func (p Policy) String() string {
	if int(p) < len(policyNames) {
		return policyNames[p]
	}
	return fmt.Sprintf("policy(%d)", p)
}

// ParsePolicy is the inverse of Policy.String.
func ParsePolicy(s string) (Policy, error) {
	for i, n := range policyNames {
		if s == n {
			return Policy(i), nil
		}
	}
	return 0, fmt.Errorf("relay: agent information policy %q: want drop, forward or replace", s)
}

// Interface is a downstream interface: a network whose clients the relay
// serves.
type Interface struct {
	// Name is the interface's name, for logs and the default circuit ID.
	Name string
	// Index is the interface's index, as IP_PKTINFO reports the arrival
	// interface. It is positive and unique.
	Index int
	// Addr is the relay's IPv4 address on the interface: the giaddr of
	// the requests it relays from there (RFC 1542 §4.1.1 asks to use one
	// address consistently), and the value of the link selection and
	// server identifier override sub-options.
	Addr netip.Addr
	// CircuitID is the agent circuit ID sub-option (RFC 3046 §3.1) of
	// requests from this interface; empty means the interface's name.
	// Circuit IDs must be unique: replies are matched to their interface
	// by them.
	CircuitID []byte
}

// Config configures a Relay. Only Downstream is required.
type Config struct {
	// Downstream are the interfaces whose clients are served.
	Downstream []Interface
	// MaxHops is the largest hops field of a request that is relayed,
	// from 1 to 16; 0 means DefaultMaxHops.
	MaxHops int
	// MinSecs holds back requests whose secs field is below it, so that
	// a server on the client's own network can answer first (RFC 1542
	// §4.1.1). Default 0: relay at once.
	MinSecs uint16
	// AgentInfo enables adding the relay agent information option (82)
	// to requests. RFC 3046 §2.1 says it SHOULD be disabled by default.
	AgentInfo bool
	// RemoteID, when not empty, is added as the agent remote ID
	// sub-option (RFC 3046 §3.2), and replies must carry it back to count
	// as ours. It must be globally unique: a host name or a MAC address.
	RemoteID []byte
	// Policy is what to do with requests from clients that already carry
	// option 82. It applies whether or not AgentInfo is set.
	Policy Policy
	// LinkSelection adds the link selection sub-option (RFC 3527) with
	// the downstream interface's address, and sets giaddr to Upstream.
	LinkSelection bool
	// Upstream is the relay's address that the servers reach it by; the
	// giaddr of requests when LinkSelection is set. It is otherwise
	// unused, except that requests whose giaddr is this address are
	// dropped as loops.
	Upstream netip.Addr
	// ServerIDOverride adds the server identifier override sub-option
	// (RFC 5107) with the downstream interface's address.
	ServerIDOverride bool
	// MaxSize is the largest message (UDP payload) the relay makes by
	// adding option 82; a request that would grow larger is forwarded
	// without it (RFC 3046 §2.1). 0 means DefaultMaxSize; at least 300.
	MaxSize int
}

// Reason is the outcome of handling one message: sent on, or dropped and
// why. Every Reason is counted by the Agent.
type Reason uint8

// Reasons. The Forwarded and Delivered ones send a message; the Drop ones
// do not.
const (
	// Forwarded: a client's request, relayed to the servers with giaddr
	// set, and with our option 82 when AgentInfo is set.
	Forwarded Reason = iota + 1
	// ForwardedRelayed: a request that a relay closer to the client
	// already handled (giaddr set), relayed with only hops incremented
	// (RFC 3046 §2.1.1).
	ForwardedRelayed
	// ForwardedAgentInfoKept: a client's request that already carried
	// option 82, relayed with that option as it was (PolicyForward).
	ForwardedAgentInfoKept
	// ForwardedNoRoom: a client's request relayed without our option 82,
	// which would have made it larger than MaxSize (RFC 3046 §2.1).
	ForwardedNoRoom
	// Delivered: a server's reply, delivered to the client with our
	// option 82 removed.
	Delivered
	// DeliveredAgentInfoKept: a server's reply carrying an option 82 that
	// a trusted downstream device added, delivered as it is
	// (PolicyForward).
	DeliveredAgentInfoKept

	// DropMalformed: not a BOOTP message (too short, bad cookie, hlen
	// over 16, an option running past its field).
	DropMalformed
	// DropWrongOp: a reply given to Request or a request given to Reply.
	DropWrongOp
	// DropNotDownstream: a request that arrived on an interface that is
	// not a downstream one.
	DropNotDownstream
	// DropHopLimit: a request whose hops field exceeds MaxHops (RFC 1542
	// §4.1.1).
	DropHopLimit
	// DropSecs: a request whose secs field is below MinSecs.
	DropSecs
	// DropOwnGIAddr: a request whose giaddr is one of the relay's own
	// addresses: a loop, or a forgery (RFC 3046 §2.1.1).
	DropOwnGIAddr
	// DropAgentInfoPresent: a client's request that already carried
	// option 82 (PolicyDrop, RFC 3046 §2.1).
	DropAgentInfoPresent
	// DropNoGIAddr: a reply with giaddr zero, which is not for a relay.
	DropNoGIAddr
	// DropForeignAgentInfo: a reply carrying an option 82 that the relay
	// did not add (unless PolicyForward).
	DropForeignAgentInfo
	// DropUnknownInterface: a reply that matches no downstream interface,
	// by circuit ID or by giaddr.
	DropUnknownInterface

	numReasons
)

var reasonNames = [...]string{
	Forwarded:              "forwarded",
	ForwardedRelayed:       "forwarded-relayed",
	ForwardedAgentInfoKept: "forwarded-agent-info-kept",
	ForwardedNoRoom:        "forwarded-without-agent-info",
	Delivered:              "delivered",
	DeliveredAgentInfoKept: "delivered-agent-info-kept",
	DropMalformed:          "malformed",
	DropWrongOp:            "wrong-op",
	DropNotDownstream:      "not-downstream",
	DropHopLimit:           "hop-limit",
	DropSecs:               "secs-below-minimum",
	DropOwnGIAddr:          "giaddr-is-ours",
	DropAgentInfoPresent:   "agent-info-present",
	DropNoGIAddr:           "reply-without-giaddr",
	DropForeignAgentInfo:   "foreign-agent-info",
	DropUnknownInterface:   "unknown-interface",
}

// String returns the reason's name as the logs and counters show it, such
// as "hop-limit", or "reason(N)".
func (r Reason) String() string {
	if int(r) < len(reasonNames) && reasonNames[r] != "" {
		return reasonNames[r]
	}
	return fmt.Sprintf("reason(%d)", r)
}

// Dropped reports whether r is a reason to drop the message.
func (r Reason) Dropped() bool { return r >= DropMalformed }

// Reasons returns every Reason, in order.
func Reasons() []Reason {
	rs := make([]Reason, 0, numReasons-1)
	for r := Forwarded; r < numReasons; r++ {
		rs = append(rs, r)
	}
	return rs
}

// Destination says where a reply goes: the downstream interface, how the
// reply reaches the client there (RFC 2131 §4.1) and the address.
type Destination struct {
	// Delivery is how the reply reaches the client: ToClientAddr,
	// ToBroadcast or ToHardware (never ToRelay: the reply has reached the
	// relay).
	Delivery dhcpv4.Delivery
	// IfIndex and IfName are the downstream interface to send it on.
	IfIndex int
	IfName  string
	// Src is the relay's address on that interface: the source of a frame
	// built by hand.
	Src netip.Addr
	// Dst is the destination address and port.
	Dst netip.AddrPort
	// HWAddr is the client's hardware address (chaddr), and HType its
	// type (1 for Ethernet).
	HWAddr [16]byte
	HWLen  uint8
	HType  uint8
}

// HardwareAddr returns the valid part of HWAddr.
func (d *Destination) HardwareAddr() []byte { return d.HWAddr[:min(int(d.HWLen), len(d.HWAddr))] }

// Relay is the forwarding logic of a relay agent. It is immutable and safe
// for concurrent use. Create it with New.
type Relay struct {
	ifaces   []iface
	maxHops  int
	minSecs  uint16
	agent    bool
	remoteID []byte
	policy   Policy
	linkSel  bool
	upstream netip.Addr
	maxSize  int
}

// iface is a downstream interface with its option 82 made in advance.
type iface struct {
	Interface
	agentOpt []byte // code, length and value of the option 82 we add
}

// Errors of New wrap ErrConfig.
var ErrConfig = errors.New("invalid relay configuration")

// New checks cfg and returns a Relay. Errors wrap ErrConfig and say which
// setting is at fault.
func New(cfg Config) (*Relay, error) {
	bad := func(format string, a ...any) (*Relay, error) {
		return nil, fmt.Errorf("relay: %s: %w", fmt.Sprintf(format, a...), ErrConfig)
	}
	r := &Relay{
		maxHops:  cfg.MaxHops,
		minSecs:  cfg.MinSecs,
		agent:    cfg.AgentInfo,
		remoteID: bytes.Clone(cfg.RemoteID),
		policy:   cfg.Policy,
		linkSel:  cfg.LinkSelection,
		upstream: cfg.Upstream,
		maxSize:  cfg.MaxSize,
	}
	if len(cfg.Downstream) == 0 {
		return bad("no downstream interface")
	}
	switch {
	case r.maxHops == 0:
		r.maxHops = DefaultMaxHops
	case r.maxHops < 1 || r.maxHops > MaxHopsLimit:
		return bad("maximum hops %d: want 1 to %d", r.maxHops, MaxHopsLimit)
	}
	switch {
	case r.maxSize == 0:
		r.maxSize = DefaultMaxSize
	case r.maxSize < dhcpv4.BOOTPMinLen || r.maxSize > dhcpv4.MaxUDPPayload:
		return bad("maximum message size %d: want %d to %d", r.maxSize, dhcpv4.BOOTPMinLen, dhcpv4.MaxUDPPayload)
	}
	if int(r.policy) >= len(policyNames) {
		return bad("agent information policy %d: unknown", r.policy)
	}
	if !r.agent && (len(r.remoteID) > 0 || cfg.LinkSelection || cfg.ServerIDOverride) {
		return bad("remote ID, link selection and server identifier override are sub-options of the relay agent information option, which is not enabled")
	}
	if len(r.remoteID) > 255 {
		return bad("remote ID of %d bytes: at most 255", len(r.remoteID))
	}
	if cfg.LinkSelection && !(r.upstream.Is4() && isSet(r.upstream)) {
		return bad("link selection needs the relay's upstream IPv4 address, got %v", r.upstream)
	}
	if r.upstream.IsValid() && !r.upstream.Is4() {
		return bad("upstream address %v is not IPv4", r.upstream)
	}
	for i, d := range cfg.Downstream {
		if d.Name == "" {
			return bad("downstream interface %d has no name", i)
		}
		if d.Index <= 0 {
			return bad("downstream interface %s: index %d", d.Name, d.Index)
		}
		if !d.Addr.Is4() || !isSet(d.Addr) || d.Addr.IsMulticast() || d.Addr == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
			return bad("downstream interface %s: %v is not a unicast IPv4 address", d.Name, d.Addr)
		}
		f := iface{Interface: d}
		f.CircuitID = bytes.Clone(d.CircuitID)
		if len(f.CircuitID) == 0 {
			f.CircuitID = []byte(d.Name)
		}
		if len(f.CircuitID) > 255 {
			return bad("downstream interface %s: circuit ID of %d bytes: at most 255", d.Name, len(f.CircuitID))
		}
		for _, g := range r.ifaces {
			switch {
			case g.Name == d.Name:
				return bad("downstream interface %s listed twice", d.Name)
			case g.Index == d.Index:
				return bad("downstream interfaces %s and %s have the same index %d", g.Name, d.Name, d.Index)
			case g.Addr == d.Addr:
				return bad("downstream interfaces %s and %s have the same address %v", g.Name, d.Name, d.Addr)
			case bytes.Equal(g.CircuitID, f.CircuitID):
				return bad("downstream interfaces %s and %s have the same circuit ID %q", g.Name, d.Name, f.CircuitID)
			}
		}
		if r.agent {
			var info []byte
			info = dhcpv4.AppendSubOption(info, dhcpv4.RelayCircuitID, f.CircuitID)
			if len(r.remoteID) > 0 {
				info = dhcpv4.AppendSubOption(info, dhcpv4.RelayRemoteID, r.remoteID)
			}
			a := d.Addr.As4()
			if cfg.LinkSelection {
				info = dhcpv4.AppendSubOption(info, dhcpv4.RelayLinkSelection, a[:])
			}
			if cfg.ServerIDOverride {
				info = dhcpv4.AppendSubOption(info, dhcpv4.RelayServerIDOverride, a[:])
			}
			if len(info) > 255 {
				return bad("downstream interface %s: relay agent information of %d bytes: at most 255 (shorten the circuit or remote ID)", d.Name, len(info))
			}
			f.agentOpt = append([]byte{optAgent, byte(len(info))}, info...)
		}
		r.ifaces = append(r.ifaces, f)
	}
	return r, nil
}

// Interfaces returns the downstream interfaces, circuit IDs filled in.
func (r *Relay) Interfaces() []Interface {
	out := make([]Interface, len(r.ifaces))
	for i, f := range r.ifaces {
		out[i] = f.Interface
		out[i].CircuitID = bytes.Clone(f.CircuitID)
	}
	return out
}

// InterfaceName returns the name of the downstream interface with index
// i, or "" when there is none.
func (r *Relay) InterfaceName(i int) string {
	if f := r.byIndex(i); f != nil {
		return f.Name
	}
	return ""
}

func (r *Relay) byIndex(i int) *iface {
	for k := range r.ifaces {
		if r.ifaces[k].Index == i {
			return &r.ifaces[k]
		}
	}
	return nil
}

func (r *Relay) byAddr(a netip.Addr) *iface {
	for k := range r.ifaces {
		if r.ifaces[k].Addr == a {
			return &r.ifaces[k]
		}
	}
	return nil
}

// isOwn reports whether a is one of the relay's addresses.
func (r *Relay) isOwn(a netip.Addr) bool {
	return r.byAddr(a) != nil || (r.upstream.IsValid() && a == r.upstream)
}

// ours returns the interface whose option 82 info is, or nil: its circuit
// ID must name a downstream interface and, when the relay adds a remote
// ID, its remote ID must be ours.
func (r *Relay) ours(info []byte) *iface {
	if dhcpv4.ValidateSubOptions(info) != nil {
		return nil
	}
	cid, ok := dhcpv4.SubOption(info, dhcpv4.RelayCircuitID)
	if !ok {
		return nil
	}
	if len(r.remoteID) > 0 {
		rid, ok := dhcpv4.SubOption(info, dhcpv4.RelayRemoteID)
		if !ok || !bytes.Equal(rid, r.remoteID) {
			return nil
		}
	}
	for k := range r.ifaces {
		if bytes.Equal(r.ifaces[k].CircuitID, cid) {
			return &r.ifaces[k]
		}
	}
	return nil
}

// Request handles msg, a BOOTREQUEST that arrived on the interface with
// index ifIndex. When it is to be relayed, Request appends the message to
// send to every server to dst and returns it with a Forwarded reason;
// otherwise it returns dst unchanged and the reason to drop msg. msg is
// not modified. Request allocates only when dst lacks the capacity for the
// message, which is at most len(msg)+257 bytes.
func (r *Relay) Request(dst, msg []byte, ifIndex int) ([]byte, Reason) {
	if why := header(msg, dhcpv4.BootRequest); why != 0 {
		return dst, why
	}
	var opts field
	if !walk(msg, offOptions, len(msg), &opts) {
		return dst, DropMalformed
	}
	f := r.byIndex(ifIndex)
	if f == nil {
		return dst, DropNotDownstream
	}
	hops := msg[offHops]
	if int(hops) > r.maxHops {
		return dst, DropHopLimit
	}
	if binary.BigEndian.Uint16(msg[offSecs:]) < r.minSecs {
		return dst, DropSecs
	}
	start := len(dst)
	if giaddr := addr4(msg, offGIAddr); isSet(giaddr) {
		// RFC 3046 §2.1.1: another relay's request, forwarded without
		// adding options and with its giaddr (RFC 1542 §4.1.1).
		if r.isOwn(giaddr) {
			return dst, DropOwnGIAddr
		}
		out := append(dst, msg...)
		out[start+offHops] = hops + 1
		return out, ForwardedRelayed
	}

	// Option 82 may also hide in overloaded file and sname fields.
	var file, sname field
	if opts.overload&dhcpv4.OverloadFile != 0 && !walk(msg, offFile, offCookie, &file) {
		return dst, DropMalformed
	}
	if opts.overload&dhcpv4.OverloadSName != 0 && !walk(msg, offSName, offFile, &sname) {
		return dst, DropMalformed
	}
	reason := Forwarded
	add, strip := r.agent, false
	if opts.nAgent+file.nAgent+sname.nAgent > 0 {
		switch r.policy {
		case PolicyForward:
			add, reason = false, ForwardedAgentInfoKept
		case PolicyReplace:
			strip = true
		default:
			return dst, DropAgentInfoPresent
		}
	}

	out := append(dst, msg[:offOptions]...)
	if strip {
		out = appendWithout(out, msg, offOptions, opts.end, opts.agent[:opts.nAgent])
		for _, fl := range [...]*field{&file, &sname} {
			for _, s := range fl.agent[:fl.nAgent] {
				clear(out[start+s.start : start+s.end]) // Pad, in place
			}
		}
	} else {
		out = append(out, msg[offOptions:opts.end]...)
	}
	if add {
		// RFC 3046 §2.1: last, before End, in the options field; not if
		// the message would grow past the maximum size.
		if n := len(out) - start + len(f.agentOpt) + 1; n > len(msg) && n > r.maxSize {
			add, reason = false, ForwardedNoRoom
		} else {
			out = append(out, f.agentOpt...)
		}
	}
	out = append(out, optEnd)
	// Keep the client's length when there is room in its padding, and
	// the BOOTP minimum (RFC 1542 §3.1.1).
	out = padTo(out, start+max(len(msg), dhcpv4.BOOTPMinLen))

	out[start+offHops] = hops + 1
	giaddr := f.Addr
	if add && r.linkSel {
		// RFC 3527: giaddr is where the server reaches us; the sub-option
		// names the client's link.
		giaddr = r.upstream
	}
	a := giaddr.As4()
	copy(out[start+offGIAddr:], a[:])
	return out, reason
}

// Reply handles msg, a BOOTREPLY from a server. When it is to be
// delivered, Reply appends the message to send to dst and returns it with
// where to send it and a Delivered reason; otherwise it returns dst
// unchanged and the reason to drop msg. msg is not modified. Reply
// allocates only when dst lacks the capacity for the message, which is at
// most max(len(msg), 300) bytes.
func (r *Relay) Reply(dst, msg []byte) ([]byte, Destination, Reason) {
	if why := header(msg, dhcpv4.BootReply); why != 0 {
		return dst, Destination{}, why
	}
	var opts field
	if !walk(msg, offOptions, len(msg), &opts) {
		return dst, Destination{}, DropMalformed
	}
	giaddr := addr4(msg, offGIAddr)
	if !isSet(giaddr) {
		return dst, Destination{}, DropNoGIAddr
	}
	reason := Delivered
	var f *iface
	strip := false
	switch {
	case opts.nAgent == 0:
		// No option 82: the relay added none, or the server does not
		// echo it (RFC 3046 §2.2). giaddr names the interface.
		f = r.byAddr(giaddr)
	case r.agent && opts.nAgent == 1:
		// Ours is one instance (at most 255 bytes), in the options field.
		s := opts.agent[0]
		if f = r.ours(msg[s.start+2 : s.end]); f != nil {
			strip = true
			break
		}
		fallthrough
	default:
		if r.policy != PolicyForward {
			return dst, Destination{}, DropForeignAgentInfo
		}
		f, reason = r.byAddr(giaddr), DeliveredAgentInfoKept
	}
	if f == nil {
		return dst, Destination{}, DropUnknownInterface
	}

	start := len(dst)
	out := append(dst, msg[:offOptions]...)
	if strip {
		out = appendWithout(out, msg, offOptions, opts.end, opts.agent[:opts.nAgent])
	} else {
		out = append(out, msg[offOptions:opts.end]...)
	}
	out = append(out, optEnd)
	out = padTo(out, start+dhcpv4.BOOTPMinLen)

	d := Destination{IfIndex: f.Index, IfName: f.Name, Src: f.Addr, HType: msg[offHType], HWLen: msg[offHLen]}
	copy(d.HWAddr[:], msg[offCHAddr:offCHAddr+16])
	// The reply has reached the relay: giaddr no longer counts.
	bcast := binary.BigEndian.Uint16(msg[offFlags:])&dhcpv4.FlagBroadcast != 0
	how, to := dhcpv4.ReplyDelivery(netip.Addr{}, addr4(msg, offCIAddr), addr4(msg, offYIAddr), bcast, dhcpv4.MessageType(opts.msgType))
	d.Delivery, d.Dst = how, netip.AddrPortFrom(to, udp4.ClientPort)
	return out, d, reason
}

// MessageType returns the DHCP message type of msg (option 53 in the
// options field), or 0 when msg is not a DHCP message or has none. It is
// for logs and counters.
func MessageType(msg []byte) dhcpv4.MessageType {
	if len(msg) < dhcpv4.MinLen || binary.BigEndian.Uint32(msg[offCookie:]) != magicCookie {
		return 0
	}
	var f field
	if !walk(msg, offOptions, len(msg), &f) {
		return 0
	}
	return dhcpv4.MessageType(f.msgType)
}

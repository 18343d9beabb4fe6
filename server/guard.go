package server

import (
	"bytes"
	"net/netip"

	"leased/dhcpv4"
	"leased/prefix"
)

// plausibleRelay reports whether g, the giaddr of a relayed request that
// arrived as in, can be a relay agent's address: a unicast address that
// is not ours. Every reply to a relayed request goes to giaddr, port 67
// (RFC 2131 §4.1), so a request naming a broadcast address there would
// make the server a reflector. Refused: 0.0.0.0/8, loopback (127/8),
// multicast (224/4), the reserved 240/4 with the limited broadcast, the
// network and broadcast addresses of every subnet served and of the
// arrival interface's prefixes, and this host's own addresses (Local,
// the arrival interface's, the configured server identifier).
//
// A datagram from a loopback address or from one of this host's own
// addresses comes from this host (Linux drops such sources arriving from
// the network as martians, unless accept_local is set): a relay agent
// running there may name itself, so the loopback and own-address rules
// do not apply to it.
func (e *Engine) plausibleRelay(g netip.Addr, in *Arrival) bool {
	if !g.Is4() {
		return false
	}
	b := g.As4()
	if b[0] == 0 || b[0] >= 224 { // this network; multicast; reserved and broadcast
		return false
	}
	if !fromHost(in) {
		if g.IsLoopback() || g == e.serverID {
			return false
		}
		for _, a := range in.Local {
			if a == g {
				return false
			}
		}
		for _, p := range in.IfAddrs {
			if p.Addr() == g {
				return false
			}
		}
	}
	if s := e.subnetContaining(g); s != nil && s.prefix.Bits() < 31 && (g == s.prefix.Addr() || g == s.broadcast) {
		return false
	}
	for _, p := range in.IfAddrs {
		if p.Bits() < 31 && p.Contains(g) && (g == p.Masked().Addr() || g == prefix.Last(p)) {
			return false
		}
	}
	return true
}

// fromHost reports whether the datagram in came from this host: its
// source is a loopback address or one of the host's.
func fromHost(in *Arrival) bool {
	src := in.Src.Addr()
	if src.IsLoopback() {
		return true
	}
	for _, a := range in.Local {
		if a == src {
			return true
		}
	}
	return false
}

// The release source check (Config.CheckReleaseSource). DHCP has no
// authentication, but a DHCPRELEASE or DHCPDECLINE that could not have
// come from the lease's holder is refused (ReasonWrongSource):
//
//   - A direct DHCPRELEASE (giaddr zero) is unicast by the client from the
//     address it releases (RFC 2131 §4.4.4, §4.4.6): the IP source must
//     be ciaddr, the lease's address.
//   - A direct DHCPDECLINE is broadcast by a client that does not use the
//     address (RFC 2131 §4.4.4, Table 5: ciaddr 0): its IP source must be
//     0.0.0.0 (or the declined address itself), and it must arrive on an
//     interface with an address in the lease's subnet, the client's link.
//   - A relayed one comes from the relay, whose IP source says nothing of
//     the client: the subnet the relay stands for (giaddr, or its link
//     selection sub-option) must be the lease's.
//   - Either way, the client's hardware address (chaddr) must be the
//     lease's, and so must the frame's source hardware address of a
//     direct one when the reader saw it (Arrival.SrcHW).
//
// The client is matched by its identity first, as ever: a message from
// another client gets ReasonNoBinding.

// releaseFromClient reports whether a DHCPRELEASE of ciaddr, in s, came
// from where the lease's holder would send it.
func (e *Engine) releaseFromClient(req *dhcpv4.Packet, in *Arrival, s *subnet) bool {
	if isSet(req.GIAddr) {
		return e.selectSubnet(req, in).sameLink(s)
	}
	return in.Src.Addr() == req.CIAddr
}

// declineFromClient reports whether a DHCPDECLINE of addr, in s, came from
// where the lease's holder would send it.
func (e *Engine) declineFromClient(req *dhcpv4.Packet, in *Arrival, s *subnet, addr netip.Addr) bool {
	if isSet(req.GIAddr) {
		return e.selectSubnet(req, in).sameLink(s)
	}
	if src := in.Src.Addr(); !src.IsUnspecified() && src != addr {
		return false
	}
	for _, p := range in.IfAddrs {
		if s.onLink(p.Addr()) {
			return true
		}
	}
	return false
}

// sentByHolder reports whether req, a DHCPRELEASE or DHCPDECLINE of a
// from the client key, carries the hardware address of the client's
// binding of a. A binding that is not the client's, or records no
// hardware address, is left to markReleased and markDeclined.
func (s *subnet) sentByHolder(a netip.Addr, key []byte, req *dhcpv4.Packet, in *Arrival) bool {
	b := s.bindings[a]
	if b == nil || b.client != string(key) || b.hw.Len == 0 {
		return true
	}
	hw := b.hw.Bytes()
	if req.HType != b.hw.Type || !bytes.Equal(req.HardwareAddr(), hw) {
		return false
	}
	if !isSet(req.GIAddr) && in.SrcHW.Len > 0 && !bytes.Equal(in.SrcHW.Bytes(), hw) {
		return false
	}
	return true
}

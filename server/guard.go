package server

import (
	"net/netip"

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
// A datagram from a loopback address comes from this host (the kernel
// takes such a source on the loopback interface only): a relay agent
// there may name itself, so the loopback and own-address rules do not
// apply to it.
func (e *Engine) plausibleRelay(g netip.Addr, in *Arrival) bool {
	if !g.Is4() {
		return false
	}
	b := g.As4()
	if b[0] == 0 || b[0] >= 224 { // this network; multicast; reserved and broadcast
		return false
	}
	if fromHost := in.Src.Addr().IsLoopback(); !fromHost {
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

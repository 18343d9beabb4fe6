package server

import (
	"net/netip"
	"time"

	"leased/config"
	"leased/dhcpv4"
)

// IPv6-only preferred (RFC 8925). A client that can live without IPv4
// lists option 108 in its parameter request list; where the subnet
// enables it, the server answers its DHCPDISCOVER with a DHCPOFFER, and
// its DHCPREQUEST with a DHCPACK, that carry option 108 (V6ONLY_WAIT, in
// seconds) and no address: yiaddr 0.0.0.0, no lease time, nothing bound
// or held (§3.3). The client then stops DHCPv4 for that long (§3.2).

// v6OnlyWait returns the IPv6-only wait for a client of s in the classes
// cls (those its request matched) that sent req: zero when the client did
// not ask for option 108, or neither the subnet nor its classes enable it.
// A class's setting (a wait, or off) wins over the subnet's; of two
// classes, the later in the file. The classes of the client's reservation
// count too.
func (s *subnet) v6OnlyWait(req *dhcpv4.Packet, key []byte, cls classSet) time.Duration {
	t := s.classes
	classed := t != nil && !t.v6.isEmpty()
	if s.v6Only <= 0 && !classed || !req.Options.ParameterRequested(config.OptIPv6OnlyPreferred) {
		return 0
	}
	if classed {
		s.mu.Lock()
		cls = cls.with(s.reservationFor(key, req))
		s.mu.Unlock()
		for i := len(t.list) - 1; i >= 0; i-- {
			if cls.has(i) && t.v6.has(i) {
				return t.list[i].v6Only // 0 when the class turns it off
			}
		}
	}
	return s.v6Only
}

// replyV6Only writes the OFFER or ACK (typ) of an IPv6-only preferred
// answer to req into reply: the subnet's options as to a DHCPINFORM (no
// address, no lease time), and option 108 with wait.
func (e *Engine) replyV6Only(reply, req *dhcpv4.Packet, key []byte, s *subnet, cls classSet, in *Arrival, typ dhcpv4.MessageType, wait time.Duration, out *Outcome) {
	s.mu.Lock()
	res := s.reservationFor(key, req)
	s.mu.Unlock()
	e.setClasses(out, cls.with(res))
	e.fillReply(reply, req, s, res, cls, in, typ, netip.Addr{}, leaseTimes{})
	reply.Options.SetUint32(config.OptIPv6OnlyPreferred, uint32(wait/time.Second))
	out.Action, out.Reason, out.Addr = Reply, ReasonIPv6Only, netip.Addr{}
}

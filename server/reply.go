package server

import (
	"net/netip"
	"time"

	"leased/config"
	"leased/dhcpv4"
	"leased/udp4"
)

// leaseTimes are the lease time, renewal (T1) and rebinding (T2) times a
// reply gives. The zero value gives none: the ACK to a DHCPINFORM.
type leaseTimes struct {
	lease, t1, t2 time.Duration
}

// times returns the subnet's configured times, with T1 and T2 at 0.5 and
// 0.875 of the lease time where not configured (RFC 2131 §4.4.5).
func (s *subnet) times() leaseTimes {
	lt := leaseTimes{lease: s.leaseTime, t1: s.t1, t2: s.t2}
	if lt.t1 <= 0 {
		lt.t1 = s.leaseTime / 2
	}
	if lt.t2 <= 0 {
		lt.t2 = s.leaseTime * 7 / 8
	}
	return lt
}

// keptTimes returns the times of a lease that has left to run, T1 and
// T2 at 0.5 and 0.875 of it (RFC 2131 §4.4.5).
func keptTimes(left time.Duration) leaseTimes {
	return leaseTimes{lease: left, t1: left / 2, t2: left * 7 / 8}
}

// fillReply writes an OFFER or ACK (typ) for req into reply, with the
// fields and options of RFC 2131 Table 3 and the lease times lt. lt is
// zero for the ACK to a DHCPINFORM, which carries no lease time and no
// yiaddr (§4.3.5).
func (e *Engine) fillReply(reply, req *dhcpv4.Packet, s *subnet, res *reservation, cls classSet, in *Arrival, typ dhcpv4.MessageType, yiaddr netip.Addr, lt leaseTimes) {
	withLease := lt.lease > 0
	startReply(reply, req)
	if typ == dhcpv4.Ack {
		reply.CIAddr = req.CIAddr
	}
	if withLease {
		reply.YIAddr = yiaddr
	}
	o := &reply.Options
	o.SetMessageType(typ)
	o.SetAddr(dhcpv4.OptServerID, e.serverIDFor(req, s, in))
	if withLease {
		o.SetDuration(dhcpv4.OptLeaseTime, lt.lease)
		o.SetDuration(dhcpv4.OptRenewalTime, lt.t1)
		o.SetDuration(dhcpv4.OptRebindingTime, lt.t2)
	}
	po := s.poolOptionsFor(yiaddr)
	if v, ok := s.option(res, cls, po, dhcpv4.OptSubnetMask); ok {
		o.Set(dhcpv4.OptSubnetMask, v)
	} else {
		o.SetAddr(dhcpv4.OptSubnetMask, s.mask)
	}
	if prl, ok := req.Options.Get(dhcpv4.OptParameterRequestList); ok && len(prl) > 0 {
		// The options the client asked for, in its order (RFC 2131 §4.3.1).
		for _, c := range prl {
			e.addOption(o, s, res, cls, po, dhcpv4.OptionCode(c))
		}
	} else {
		// No list: send everything configured.
		for _, opt := range s.options {
			e.addOption(o, s, res, cls, po, opt.Code)
		}
		if po != nil {
			for _, opt := range po.opts {
				e.addOption(o, s, res, cls, po, opt.Code)
			}
		}
		s.classes.eachOption(cls, func(c dhcpv4.OptionCode) { e.addOption(o, s, res, cls, po, c) })
		if res != nil {
			for _, opt := range res.opts {
				e.addOption(o, s, res, cls, po, opt.Code)
			}
			e.addOption(o, s, res, cls, po, dhcpv4.OptHostName)
		}
	}
	s.setBoot(reply, req, res, cls)
	if withLease {
		s.addClientFQDN(reply, req, res)
	}
	echoOptions(reply, req)
	fitBoot(reply, req)
}

// addOption adds option c to o when it is configured (or derived) and not
// already present, unless it is one the server controls.
func (e *Engine) addOption(o *dhcpv4.Options, s *subnet, res *reservation, cls classSet, po *poolOptions, c dhcpv4.OptionCode) {
	if o.Has(c) || serverControlled(c) {
		return
	}
	if v, ok := s.option(res, cls, po, c); ok {
		o.Set(c, v)
		return
	}
	switch c {
	case dhcpv4.OptBroadcastAddress:
		if s.prefix.Bits() < 31 {
			o.SetAddr(c, s.broadcast)
		}
	case dhcpv4.OptHostName:
		if res != nil && res.hostname != "" {
			o.SetString(c, res.hostname)
		}
	}
}

// serverControlled reports whether c is set by the engine itself or must
// never be sent from configuration.
func serverControlled(c dhcpv4.OptionCode) bool {
	switch c {
	case dhcpv4.OptPad, dhcpv4.OptEnd, dhcpv4.OptMessageType, dhcpv4.OptServerID,
		dhcpv4.OptLeaseTime, dhcpv4.OptRenewalTime, dhcpv4.OptRebindingTime,
		dhcpv4.OptRequestedIP, dhcpv4.OptParameterRequestList, dhcpv4.OptOverload,
		dhcpv4.OptClientID, dhcpv4.OptRelayAgentInfo, dhcpv4.OptMaxMessageSize,
		dhcpv4.OptMessage, config.OptSubnetSelection:
		return true
	}
	return false
}

// option returns the configured value of c for a client in the classes
// cls whose reply gives an address of the pool po (nil: none, or a pool
// without options): its reservation's, else its last class's that sets
// it, else the pool's, else the subnet's. The subnet's options already
// hold the global ones, under the subnet's own (package config merges
// them; a level between, such as a shared network's, is merged there
// too).
func (s *subnet) option(res *reservation, cls classSet, po *poolOptions, c dhcpv4.OptionCode) ([]byte, bool) {
	if res != nil {
		for _, o := range res.opts {
			if o.Code == c {
				return o.Value, true
			}
		}
	}
	if v, ok := s.classes.option(cls, c); ok {
		return v, true
	}
	if v, ok := po.option(c); ok {
		return v, true
	}
	if i := s.optIndex[c]; i > 0 {
		return s.options[i-1].Value, true
	}
	return nil, false
}

// startReply copies the fields every reply takes from its request.
func startReply(reply, req *dhcpv4.Packet) {
	reply.Op = dhcpv4.BootReply
	reply.HType = req.HType
	reply.HLen = req.HLen
	reply.CHAddr = req.CHAddr
	reply.XID = req.XID
	reply.Flags = req.Flags
	reply.GIAddr = req.GIAddr
	reply.CIAddr = netip.IPv4Unspecified()
	reply.YIAddr = netip.IPv4Unspecified()
	reply.SIAddr = netip.IPv4Unspecified()
}

// echoOptions copies the client identifier (RFC 6842 §3), the subnet
// selection option (RFC 3011 §3: a client discards a reply without it)
// and, last, the relay agent information (RFC 3046 §2.2) from req to
// reply.
func echoOptions(reply, req *dhcpv4.Packet) {
	if v, ok := req.Options.Get(dhcpv4.OptClientID); ok {
		reply.Options.Set(dhcpv4.OptClientID, v)
	}
	if v, ok := req.Options.Get(config.OptSubnetSelection); ok {
		reply.Options.Set(config.OptSubnetSelection, v)
	}
	if v, ok := req.Options.Get(dhcpv4.OptRelayAgentInfo); ok {
		reply.Options.Set(dhcpv4.OptRelayAgentInfo, v)
	}
}

// nak writes a DHCPNAK for req into reply (RFC 2131 Table 3): no address,
// no lease, the server identifier, a message, and the echoed options. A
// NAK through a relay has the broadcast bit set so that the relay
// broadcasts it (§4.3.2).
func (e *Engine) nak(reply, req *dhcpv4.Packet, s *subnet, in *Arrival, msg string) {
	startReply(reply, req)
	if isSet(req.GIAddr) {
		reply.Flags |= dhcpv4.FlagBroadcast
	}
	o := &reply.Options
	o.SetMessageType(dhcpv4.Nak)
	o.SetAddr(dhcpv4.OptServerID, e.serverIDFor(req, s, in))
	o.SetString(dhcpv4.OptMessage, msg)
	echoOptions(reply, req)
}

// Destination returns how reply, the answer to req, reaches the client
// and the address and port to send it to, by the rule of RFC 2131 §4.1
// (dhcpv4.ReplyDelivery): giaddr, ciaddr and the broadcast flag are the
// request's, yiaddr and the message type the reply's. A relay agent is
// sent to at the server port, a client at the client port.
func Destination(req, reply *dhcpv4.Packet) (dhcpv4.Delivery, netip.AddrPort) {
	d, to := dhcpv4.ReplyDelivery(req.GIAddr, req.CIAddr, reply.YIAddr, req.Broadcast(), reply.MessageType())
	if d == dhcpv4.ToRelay {
		return d, netip.AddrPortFrom(to, udp4.ServerPort)
	}
	return d, netip.AddrPortFrom(to, udp4.ClientPort)
}

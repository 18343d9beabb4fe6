package events

import (
	"net/netip"
	"time"

	"leased/dhcpv4"
	"leased/lease"
	"leased/server"
)

// FromOutcome sets r to the lease event of the engine's decision out about
// req, answered with reply at now, and reports whether there is one: a
// DHCPACK that committed a lease (Commit, or Renew when out.Renewal), a
// DHCPRELEASE or a DHCPDECLINE processed, with the lease's DNS name and
// records and, for a DHCPACK, those it had before when they changed
// (Outcome.FQDN, DNS, OldFQDN, OldDNS). It allocates nothing.
func FromOutcome(r *Record, now time.Time, req, reply *dhcpv4.Packet, out *server.Outcome) bool {
	switch out.Reason {
	case server.ReasonAck:
		r.Type = Commit
		if out.Renewal {
			r.Type = Renew
		}
		r.Start = now
		if d, ok := reply.Options.Duration(dhcpv4.OptLeaseTime); ok {
			r.Expiry = now.Add(d)
		}
		if a, ok := reply.Options.Addr(dhcpv4.OptServerID); ok {
			r.ServerID = a
		}
	case server.ReasonReleased:
		r.Type, r.Expiry = Release, now
	case server.ReasonDeclined:
		r.Type, r.Expiry = Decline, now
	default:
		return false
	}
	r.Addr, r.Subnet = out.Addr, out.Subnet
	if id, ok := req.Options.Get(dhcpv4.OptClientID); ok && len(id) > 0 {
		r.SetClientID(id)
	} else {
		var b [1 + 16]byte
		b[0] = req.HType
		n := copy(b[1:], req.HardwareAddr())
		r.SetClientID(b[:1+n])
	}
	r.HW.Type = req.HType
	r.HW.Len = uint8(copy(r.HW.Addr[:], req.HardwareAddr()))
	if h, ok := req.Options.Get(dhcpv4.OptHostName); ok {
		r.SetHostname(h)
	}
	r.SetFQDN(out.FQDN)
	r.DNS = out.DNS
	r.SetOldFQDN(out.OldFQDN)
	r.OldDNS = out.OldDNS
	return true
}

// FromLease sets r to the event t of l, a lease of subnet: an expiry the
// engine's sweep found (server.ExpiredFunc), or a release an operator
// made.
func FromLease(r *Record, t Type, subnet netip.Prefix, l *lease.Lease) {
	*r = Record{Type: t, Addr: l.Addr, Subnet: subnet, Start: l.Start, Expiry: l.Expiry, HW: l.HW}
	r.SetClientID([]byte(l.ClientID))
	r.hostLen = uint8(copy(r.host[:], l.Hostname))
	r.SetFQDN(l.FQDN)
	r.DNS = l.DNS
}

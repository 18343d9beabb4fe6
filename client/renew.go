package client

import (
	"time"

	"leased/dhcpv4"
)

// This file is a bound lease's life on the Machine (RFC 2131 §4.4.5): T1
// and RENEWING, a DHCPREQUEST unicast to the server that gave the lease;
// T2 and REBINDING, a DHCPREQUEST to every server; retransmissions at half
// the time left; and the end of the lease.

// boundDeadline is the next lease timer of BOUND: T1, or none for an
// infinite lease.
func (m *Machine) boundDeadline() time.Time {
	return m.lease.RenewAt()
}

// leaseTimer handles the lease's timers in BOUND, RENEWING and REBINDING,
// in order of precedence: expiry, T2, T1, and else a retransmission.
func (m *Machine) leaseTimer(now time.Time) []Action {
	l := m.lease
	if l.Infinite() {
		m.deadline = time.Time{}
		return nil
	}
	switch {
	case !now.Before(l.Expiry()):
		return m.expire(now)
	case !now.Before(l.RebindAt()) && m.state != Rebinding:
		return m.rebind(now)
	case !now.Before(l.RenewAt()) && m.state == Bound:
		return m.renew(now)
	case m.state == Renewing:
		return m.sendRenew(now)
	case m.state == Rebinding:
		return m.sendRebind(now)
	}
	m.deadline = m.boundDeadline()
	return nil
}

// renew enters RENEWING at T1: a DHCPREQUEST unicast to the server that
// gave the lease, with ciaddr set (RFC 2131 §4.4.5).
func (m *Machine) renew(now time.Time) []Action {
	m.state = Renewing
	m.xid = m.cfg.Rand.Uint32()
	m.begun = now
	m.sends = 0
	m.firstSend = now
	return m.sendRenew(now)
}

func (m *Machine) sendRenew(now time.Time) []Action {
	l := m.lease
	m.sends++
	msg := m.message(dhcpv4.Request, m.secs(now))
	msg.CIAddr = l.Addr.Addr()
	m.addParams(msg)
	m.deadline = halfway(now, l.RebindAt(), m.cfg.RenewMin)
	return []Action{Send{Msg: msg, To: l.ServerID}}
}

// rebind enters REBINDING at T2: the DHCPREQUEST goes to every server, by
// broadcast, still with ciaddr.
func (m *Machine) rebind(now time.Time) []Action {
	if m.state == Bound {
		m.begun = now
	}
	m.state = Rebinding
	m.xid = m.cfg.Rand.Uint32()
	m.sends = 0
	m.firstSend = now
	return m.sendRebind(now)
}

func (m *Machine) sendRebind(now time.Time) []Action {
	l := m.lease
	m.sends++
	msg := m.message(dhcpv4.Request, m.secs(now))
	msg.CIAddr = l.Addr.Addr()
	m.addParams(msg)
	m.deadline = halfway(now, l.Expiry(), m.cfg.RenewMin)
	return []Action{Send{Msg: msg}}
}

// halfway returns the next retransmission in RENEWING or REBINDING: half
// the time left until end, but no sooner than minWait from now, and no
// later than end (RFC 2131 §4.4.5).
func halfway(now, end time.Time, minWait time.Duration) time.Time {
	next := now.Add(max(end.Sub(now)/2, minWait))
	if next.After(end) {
		return end
	}
	return next
}

func (m *Machine) ackRenewing(now time.Time, ack *dhcpv4.Packet) []Action {
	old := m.lease
	l, err := leaseFromAck(m.cfg.Interface, ack, m.firstSend, 0)
	if err != nil {
		return nil
	}
	if !l.ServerID.IsValid() {
		l.ServerID = old.ServerID
	}
	why := ReasonRenew
	if m.state == Rebinding {
		why = ReasonRebind
	}
	if l.Addr.Addr() != old.Addr.Addr() {
		why = ReasonBound
	}
	return m.bind(l, why, old)
}

// expire ends the lease: the address is removed, the hook runs with
// EXPIRE, and a new acquisition starts, asking for the same address.
func (m *Machine) expire(now time.Time) []Action {
	l := m.lease
	m.lease = nil
	acts := []Action{Deconfigure{Lease: l}, RunHook{Hook{Reason: ReasonExpire, Lease: l}}}
	m.requested = l.Addr.Addr()
	return append(acts, m.discover(now)...)
}

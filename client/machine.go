package client

import (
	"bytes"
	"net/netip"
	"time"

	"leased/dhcpv4"
)

// maxOffers bounds the offers SELECTING keeps; later ones are dropped.
const maxOffers = 16

// Machine is the client state machine of RFC 2131 §4.4 for one interface.
// Its methods take the current time and return the Actions to perform, in
// order; between calls it holds at most one timer, Deadline. A Machine is
// not safe for concurrent use: one goroutine (the Runner's) feeds it.
type Machine struct {
	cfg      Config
	state    State
	deadline time.Time
	started  bool

	// The exchange in progress.
	xid          uint32
	begun        time.Time // start of the acquisition or renewal, for secs
	discoverSecs uint16    // secs of the last DHCPDISCOVER, repeated by REQUEST
	sends        int       // transmissions of the current message
	firstSend    time.Time // first transmission of the current request: the lease's start
	retransmitAt time.Time // SELECTING: next DHCPDISCOVER
	windowEnd    time.Time // SELECTING: end of the offer collection
	giveUpAt     time.Time // REBOOTING: end of the wait for an answer
	offers       []*dhcpv4.Packet
	chosen       *dhcpv4.Packet // REQUESTING: the offer taken

	requested  netip.Addr // the address to ask for in DHCPDISCOVER
	lease      *Lease     // configured: BOUND, RENEWING, REBINDING
	pending    *Lease     // PROBING: acknowledged, not yet configured
	pendingWhy Reason     // PROBING: BOUND or REBOOT
	remembered *Lease     // INIT-REBOOT, REBOOTING: the saved lease
	stale      *Lease     // the saved lease after REBOOTING gave up: maybe still configured
	naks       int        // DHCPNAKs since the last binding
}

// New returns a Machine in INIT for cfg. It fails when cfg has no usable
// hardware address or an out-of-range option value.
func New(cfg Config) (*Machine, error) {
	c, err := cfg.normalize()
	if err != nil {
		return nil, err
	}
	return &Machine{cfg: c}, nil
}

// State returns the current state.
func (m *Machine) State() State { return m.state }

// Deadline returns when Timer must next be called, or the zero Time when
// no timer is armed. It changes only during the Machine's own calls.
func (m *Machine) Deadline() time.Time { return m.deadline }

// Lease returns the lease configured on the interface (in BOUND, RENEWING
// and REBINDING) or, in INFORMED, the options received; nil otherwise. The
// Lease must not be changed.
func (m *Machine) Lease() *Lease { return m.lease }

// Config returns the configuration in force, defaults filled in.
func (m *Machine) Config() Config { return m.cfg }

// Start begins: in DHCPINFORM mode with a DHCPINFORM; with saved, an
// unexpired lease from the lease file, with INIT-REBOOT (RFC 2131 §4.4.2);
// otherwise from INIT with a DHCPDISCOVER that asks for the saved address,
// if any. With Config.InitDelay the first message waits for the deadline.
// Start does nothing on a Machine already started.
func (m *Machine) Start(now time.Time, saved *Lease) []Action {
	if m.started {
		return nil
	}
	m.started = true
	if m.cfg.Inform.IsValid() {
		return m.inform(now)
	}
	if saved != nil && saved.Addr.IsValid() && usable(saved.Addr.Addr()) {
		m.requested = saved.Addr.Addr()
		if !saved.Expired(now) {
			m.remembered = saved
			if d := m.initDelay(); d > 0 {
				m.state, m.deadline = InitReboot, now.Add(d)
				return nil
			}
			return m.initReboot(now)
		}
	}
	if d := m.initDelay(); d > 0 {
		m.state, m.deadline = Init, now.Add(d)
		return nil
	}
	return m.discover(now)
}

// Resume takes up a lease that is already configured on the interface,
// without asking any server: the machine enters BOUND with lease and its
// timers (a lease past T1 or T2 moves on at the first Timer call). It is
// how "leased client --release" releases the lease of a client that is no
// longer running. Resume does nothing on a Machine already started.
func (m *Machine) Resume(now time.Time, lease *Lease) []Action {
	if m.started || lease == nil || !lease.Addr.IsValid() {
		return nil
	}
	m.started = true
	m.lease = lease
	m.requested = lease.Addr.Addr()
	m.state = Bound
	m.deadline = m.boundDeadline()
	return nil
}

// Receive handles a message that arrived on port 68. Messages that are
// not replies to the exchange in progress (another transaction ID or
// hardware address, another client identifier (RFC 6842), a message type
// the state does not expect) are ignored: Receive returns nil and the
// state is unchanged.
func (m *Machine) Receive(now time.Time, msg *dhcpv4.Packet) []Action {
	if !m.mine(msg) {
		return nil
	}
	switch msg.MessageType() {
	case dhcpv4.Offer:
		if m.state == Selecting {
			return m.offer(now, msg)
		}
	case dhcpv4.Ack:
		switch m.state {
		case Requesting:
			return m.ackRequesting(now, msg)
		case Rebooting:
			return m.ackRebooting(now, msg)
		case Renewing, Rebinding:
			return m.ackRenewing(now, msg)
		case Informing:
			return m.ackInform(now, msg)
		}
	case dhcpv4.Nak:
		return m.nak(now, msg)
	}
	return nil
}

// Timer handles the passing of Deadline: a retransmission, the end of the
// offer window, T1, T2, the end of the lease, or the end of a pause. Called
// before the deadline (a stale timer), it does nothing.
func (m *Machine) Timer(now time.Time) []Action {
	if m.deadline.IsZero() || now.Before(m.deadline) {
		return nil
	}
	switch m.state {
	case Init:
		return m.discover(now)
	case InitReboot:
		return m.initReboot(now)
	case Selecting:
		if len(m.offers) > 0 && !now.Before(m.windowEnd) {
			return m.choose(now, m.offers[0])
		}
		return m.sendDiscover(now)
	case Requesting:
		if m.sends >= m.cfg.RequestAttempts {
			return m.discover(now)
		}
		return m.sendRequest(now)
	case Rebooting:
		if !now.Before(m.giveUpAt) {
			// RFC 2131 §3.2 lets the client keep using the remembered
			// lease meanwhile: whatever the next binding is, it replaces
			// it.
			m.stale, m.remembered = m.remembered, nil
			return m.discover(now)
		}
		return m.sendReboot(now)
	case Bound, Renewing, Rebinding:
		return m.leaseTimer(now)
	case Informing:
		return m.sendInform(now)
	}
	m.deadline = time.Time{}
	return nil
}

// ProbeResult handles the answer to a Probe of addr: conflict reports that
// another host uses it. Without a conflict the lease is bound; with one,
// the machine sends a DHCPDECLINE, forgets the address and starts over
// from INIT after Config.DeclineWait (RFC 2131 §4.4.1). A result for any
// other address, or outside PROBING, is ignored.
func (m *Machine) ProbeResult(now time.Time, addr netip.Addr, conflict bool) []Action {
	if m.state != Probing || m.pending == nil || addr != m.pending.Addr.Addr() {
		return nil
	}
	l := m.pending
	m.pending = nil
	if !conflict {
		return m.bind(l, m.pendingWhy, nil)
	}
	msg := m.message(dhcpv4.Decline, 0)
	msg.Options.SetAddr(dhcpv4.OptRequestedIP, l.Addr.Addr())
	if l.ServerID.IsValid() {
		msg.Options.SetAddr(dhcpv4.OptServerID, l.ServerID)
	}
	msg.Options.SetString(dhcpv4.OptMessage, "address in use")
	acts := []Action{Send{Msg: msg}}
	if m.pendingWhy == ReasonReboot {
		// A client restarted without its interface being reset may
		// still have the remembered lease configured.
		acts = append(acts, Deconfigure{Lease: l})
	}
	m.requested = netip.Addr{}
	m.remembered = nil
	m.state = Init
	m.deadline = now.Add(m.cfg.DeclineWait)
	return append(acts, Forget{})
}

// Release gives the lease back (RFC 2131 §4.4.6): a DHCPRELEASE unicast
// to the server, then the address removed, the hook run with RELEASE and
// the lease file forgotten. An acknowledged lease still being probed is
// released too, without deconfiguring or the hook; so is a remembered
// lease that REBOOTING could not confirm and that has not ended, with
// both. In any case the machine stops: STOPPED, no timer.
func (m *Machine) Release(now time.Time) []Action {
	var acts []Action
	switch {
	case m.state.Configured():
		l := m.lease
		acts = append(acts, m.releaseMessage(l), Deconfigure{Lease: l},
			RunHook{Hook{Reason: ReasonRelease, Lease: l}}, Forget{})
	case m.state == Probing && m.pending != nil:
		acts = append(acts, m.releaseMessage(m.pending), Forget{})
	case m.stale != nil && !m.stale.Expired(now):
		// The remembered lease, which REBOOTING could not confirm, may
		// still be configured and is still the client's.
		l := m.stale
		acts = append(acts, m.releaseMessage(l), Deconfigure{Lease: l},
			RunHook{Hook{Reason: ReasonRelease, Lease: l}}, Forget{})
	}
	m.lease, m.pending, m.remembered, m.stale, m.chosen, m.offers = nil, nil, nil, nil, nil, nil
	m.state = Stopped
	m.deadline = time.Time{}
	return acts
}

func (m *Machine) releaseMessage(l *Lease) Send {
	m.xid = m.cfg.Rand.Uint32()
	msg := m.message(dhcpv4.Release, 0)
	msg.CIAddr = l.Addr.Addr()
	if l.ServerID.IsValid() {
		msg.Options.SetAddr(dhcpv4.OptServerID, l.ServerID)
	}
	return Send{Msg: msg, To: l.ServerID}
}

// mine reports whether msg is a reply to this client's exchange in
// progress.
func (m *Machine) mine(msg *dhcpv4.Packet) bool {
	if msg == nil || msg.Op != dhcpv4.BootReply || msg.XID != m.xid {
		return false
	}
	switch m.state {
	case Selecting, Requesting, Rebooting, Renewing, Rebinding, Informing:
	default:
		return false
	}
	if msg.HType != m.cfg.HardwareType || !bytes.Equal(msg.HardwareAddr(), m.cfg.HardwareAddr) {
		return false
	}
	if id, ok := msg.Options.Get(dhcpv4.OptClientID); ok && !bytes.Equal(id, m.cfg.ClientID) {
		return false
	}
	return true
}

// initDelay returns the random pause before the first message.
func (m *Machine) initDelay() time.Duration {
	if m.cfg.InitDelay <= 0 {
		return 0
	}
	return time.Duration(m.cfg.Rand.Int64N(int64(m.cfg.InitDelay))) + 1
}

// backoff returns the wait after the n-th transmission of a message
// (n ≥ 1): RetransmitBase doubled n-1 times, at most RetransmitMax,
// changed by a uniform random amount within ±Jitter (RFC 2131 §4.1).
func (m *Machine) backoff(n int) time.Duration {
	d := m.cfg.RetransmitBase
	for i := 1; i < n && d < m.cfg.RetransmitMax; i++ {
		d *= 2
	}
	d = min(d, m.cfg.RetransmitMax)
	if j := m.cfg.Jitter; j > 0 {
		d += time.Duration(m.cfg.Rand.Int64N(2*int64(j)+1)) - j
	}
	return max(d, time.Millisecond)
}

// secs returns the secs field: whole seconds since the exchange began.
func (m *Machine) secs(now time.Time) uint16 {
	d := now.Sub(m.begun)
	if d < 0 {
		return 0
	}
	return uint16(min(d/time.Second, 0xffff))
}

// message returns a new request of type t with the current xid, chaddr and
// client identifier.
func (m *Machine) message(t dhcpv4.MessageType, secs uint16) *dhcpv4.Packet {
	p := &dhcpv4.Packet{
		Op:     dhcpv4.BootRequest,
		XID:    m.xid,
		Secs:   secs,
		CIAddr: netip.IPv4Unspecified(),
		YIAddr: netip.IPv4Unspecified(),
		SIAddr: netip.IPv4Unspecified(),
		GIAddr: netip.IPv4Unspecified(),
	}
	p.SetHardwareAddr(m.cfg.HardwareType, m.cfg.HardwareAddr)
	p.Options.SetMessageType(t)
	p.Options.Set(dhcpv4.OptClientID, m.cfg.ClientID)
	return p
}

// addParams adds the options that ask for configuration: maximum message
// size, host name, vendor class and the parameter request list.
func (m *Machine) addParams(p *dhcpv4.Packet) {
	if n := m.cfg.MaxMessageSize; n >= 576 {
		p.Options.SetUint16(dhcpv4.OptMaxMessageSize, uint16(min(n, 0xffff)))
	}
	if m.cfg.Hostname != "" {
		p.Options.SetString(dhcpv4.OptHostName, m.cfg.Hostname)
	}
	if m.cfg.VendorClass != "" {
		p.Options.SetString(dhcpv4.OptVendorClass, m.cfg.VendorClass)
	}
	p.Options.SetParameterRequestList(m.cfg.Params)
}

func (m *Machine) flags() uint16 {
	if m.cfg.Broadcast {
		return dhcpv4.FlagBroadcast
	}
	return 0
}

// discover starts a new acquisition from INIT: SELECTING, first
// DHCPDISCOVER.
func (m *Machine) discover(now time.Time) []Action {
	m.state = Selecting
	m.xid = m.cfg.Rand.Uint32()
	m.begun = now
	m.sends = 0
	m.offers, m.chosen = nil, nil
	if m.cfg.OfferWait > 0 {
		m.windowEnd = now.Add(m.cfg.OfferWait)
	} else {
		m.windowEnd = now
	}
	return m.sendDiscover(now)
}

func (m *Machine) sendDiscover(now time.Time) []Action {
	m.sends++
	m.discoverSecs = m.secs(now)
	msg := m.message(dhcpv4.Discover, m.discoverSecs)
	msg.Flags = m.flags()
	if m.requested.IsValid() {
		msg.Options.SetAddr(dhcpv4.OptRequestedIP, m.requested)
	}
	m.addParams(msg)
	m.retransmitAt = now.Add(m.backoff(m.sends))
	m.deadline = m.retransmitAt
	if len(m.offers) > 0 {
		m.deadline = m.windowEnd
	}
	return []Action{Send{Msg: msg}}
}

// offer handles a DHCPOFFER in SELECTING. An offer of the address asked
// for is taken at once; others are kept until the window ends, and then
// the first is taken.
func (m *Machine) offer(now time.Time, msg *dhcpv4.Packet) []Action {
	sid, ok := msg.Options.Addr(dhcpv4.OptServerID)
	if !ok || !usable(sid) || !usable(msg.YIAddr) {
		return nil
	}
	if m.requested.IsValid() && msg.YIAddr == m.requested {
		return m.choose(now, msg)
	}
	if !now.Before(m.windowEnd) {
		return m.choose(now, msg)
	}
	if len(m.offers) < maxOffers {
		o := new(dhcpv4.Packet)
		o.CopyFrom(msg)
		m.offers = append(m.offers, o)
	}
	m.deadline = m.windowEnd
	return nil
}

// choose takes offer: REQUESTING, broadcast DHCPREQUEST naming its server.
func (m *Machine) choose(now time.Time, offer *dhcpv4.Packet) []Action {
	c := new(dhcpv4.Packet)
	c.CopyFrom(offer)
	m.chosen = c
	m.offers = nil
	m.state = Requesting
	m.sends = 0
	m.firstSend = now
	return m.sendRequest(now)
}

func (m *Machine) sendRequest(now time.Time) []Action {
	m.sends++
	// RFC 2131 §4.4.1: the same secs as the DHCPDISCOVER, and the xid of
	// the offer.
	msg := m.message(dhcpv4.Request, m.discoverSecs)
	msg.Flags = m.flags()
	msg.Options.SetAddr(dhcpv4.OptRequestedIP, m.chosen.YIAddr)
	sid, _ := m.chosen.Options.Addr(dhcpv4.OptServerID)
	msg.Options.SetAddr(dhcpv4.OptServerID, sid)
	m.addParams(msg)
	m.deadline = now.Add(m.backoff(m.sends))
	return []Action{Send{Msg: msg}}
}

func (m *Machine) ackRequesting(now time.Time, ack *dhcpv4.Packet) []Action {
	if ack.YIAddr != m.chosen.YIAddr {
		return nil
	}
	want, _ := m.chosen.Options.Addr(dhcpv4.OptServerID)
	if sid, ok := ack.Options.Addr(dhcpv4.OptServerID); ok && sid != want {
		return nil
	}
	offered, _ := m.chosen.Options.Duration(dhcpv4.OptLeaseTime)
	l, err := leaseFromAck(m.cfg.Interface, ack, m.firstSend, offered)
	if err != nil {
		return nil
	}
	if !l.ServerID.IsValid() {
		l.ServerID = want
	}
	return m.acknowledged(l, ReasonBound)
}

// initReboot asks for the remembered lease: REBOOTING, broadcast
// DHCPREQUEST with the requested address and no server identifier.
func (m *Machine) initReboot(now time.Time) []Action {
	m.state = Rebooting
	m.xid = m.cfg.Rand.Uint32()
	m.begun = now
	m.sends = 0
	m.firstSend = now
	m.giveUpAt = now.Add(m.cfg.RebootTimeout)
	return m.sendReboot(now)
}

func (m *Machine) sendReboot(now time.Time) []Action {
	m.sends++
	msg := m.message(dhcpv4.Request, m.secs(now))
	msg.Flags = m.flags()
	msg.Options.SetAddr(dhcpv4.OptRequestedIP, m.remembered.Addr.Addr())
	m.addParams(msg)
	m.deadline = now.Add(m.backoff(m.sends))
	if m.deadline.After(m.giveUpAt) {
		m.deadline = m.giveUpAt
	}
	return []Action{Send{Msg: msg}}
}

func (m *Machine) ackRebooting(now time.Time, ack *dhcpv4.Packet) []Action {
	if ack.YIAddr != m.remembered.Addr.Addr() {
		return nil
	}
	l, err := leaseFromAck(m.cfg.Interface, ack, m.firstSend, 0)
	if err != nil {
		return nil
	}
	if !l.ServerID.IsValid() {
		l.ServerID = m.remembered.ServerID
	}
	return m.acknowledged(l, ReasonReboot)
}

// acknowledged moves on from an acknowledged new lease: to PROBING, or
// straight to BOUND without probes.
func (m *Machine) acknowledged(l *Lease, why Reason) []Action {
	m.chosen = nil
	if m.cfg.NoProbe {
		return m.bind(l, why, nil)
	}
	m.state = Probing
	m.pending, m.pendingWhy = l, why
	m.deadline = time.Time{}
	return []Action{Probe{Addr: l.Addr.Addr()}}
}

// bind configures l (replacing old, if any), saves it, runs the hook with
// why, and enters BOUND with the timer at T1.
func (m *Machine) bind(l *Lease, why Reason, old *Lease) []Action {
	if old == nil && m.stale != nil {
		old = m.stale
	}
	m.stale = nil
	m.state = Bound
	m.lease = l
	m.requested = l.Addr.Addr()
	m.remembered = nil
	m.naks = 0
	m.deadline = m.boundDeadline()
	return []Action{
		Configure{Lease: l, Old: old},
		Save{Lease: l},
		RunHook{Hook{Reason: why, Lease: l, Old: old}},
	}
}

// nak handles a DHCPNAK: any configured lease is removed, the hook runs
// with NAK, the lease file and the address are forgotten, and the client
// starts over from INIT. It starts over at once after a first DHCPNAK; the
// n-th in a row without a binding in between makes it wait as long as
// the retransmission backoff after the (n-1)-th transmission (4 s, 8 s, ...
// 64 s), so that a server refusing everything is not flooded. A DHCPNAK
// from a server other than the one asked (REQUESTING, RENEWING) is
// ignored.
func (m *Machine) nak(now time.Time, msg *dhcpv4.Packet) []Action {
	sid, hasSID := msg.Options.Addr(dhcpv4.OptServerID)
	switch m.state {
	case Requesting:
		want, _ := m.chosen.Options.Addr(dhcpv4.OptServerID)
		if hasSID && sid != want {
			return nil
		}
	case Renewing:
		if hasSID && m.lease.ServerID.IsValid() && sid != m.lease.ServerID {
			return nil
		}
	case Rebooting, Rebinding:
	default:
		return nil
	}
	var acts []Action
	old := m.lease
	if old == nil && m.state == Rebooting {
		// A client restarted without its interface being reset may
		// still have the remembered lease configured.
		old = m.remembered
	}
	if old != nil {
		acts = append(acts, Deconfigure{Lease: old})
	}
	acts = append(acts, RunHook{Hook{Reason: ReasonNak, Lease: old}}, Forget{})
	m.lease, m.remembered, m.stale, m.chosen = nil, nil, nil, nil
	m.requested = netip.Addr{}
	m.naks++
	if m.naks == 1 {
		return append(acts, m.discover(now)...)
	}
	m.state = Init
	m.deadline = now.Add(m.backoff(m.naks - 1))
	return acts
}

// inform asks for options for the address configured by hand: INFORMING,
// broadcast DHCPINFORM with ciaddr (RFC 2131 §4.4.3).
func (m *Machine) inform(now time.Time) []Action {
	m.state = Informing
	m.xid = m.cfg.Rand.Uint32()
	m.begun = now
	m.sends = 0
	return m.sendInform(now)
}

func (m *Machine) sendInform(now time.Time) []Action {
	m.sends++
	msg := m.message(dhcpv4.Inform, m.secs(now))
	msg.CIAddr = m.cfg.Inform.Addr()
	m.addParams(msg)
	m.deadline = now.Add(m.backoff(m.sends))
	return []Action{Send{Msg: msg}}
}

func (m *Machine) ackInform(now time.Time, ack *dhcpv4.Packet) []Action {
	l := &Lease{Interface: m.cfg.Interface, Addr: m.cfg.Inform, Start: now}
	readOptions(l, &ack.Options)
	m.lease = l
	m.state = Informed
	m.deadline = time.Time{}
	return []Action{RunHook{Hook{Reason: ReasonInform, Lease: l}}}
}

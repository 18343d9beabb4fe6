package server

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"net/netip"
	"sync"
	"time"

	"leased/config"
	"leased/dhcpv4"
	"leased/lease"
	"leased/prefix"
)

// Arrival says where a request arrived.
type Arrival struct {
	// IfIndex and IfName identify the arrival interface.
	IfIndex int
	IfName  string
	// IfAddrs are the IPv4 addresses of the arrival interface with their
	// prefixes. A directly connected client (giaddr zero) is served from the
	// subnet that contains one of them.
	IfAddrs []netip.Prefix
	// Src is the sender's address and port.
	Src netip.AddrPort
	// Dst is the destination address of the datagram: a broadcast address,
	// or one of ours when it was unicast (a renewal or a relay).
	Dst netip.Addr
	// SrcHW is the source hardware address of the frame the request came
	// in, when the reader saw the frame; Len is 0 when it did not (a UDP
	// socket does not show it). The release source check compares it
	// with the lease's.
	SrcHW lease.HardwareAddr
	// Local are the IPv4 addresses of this host, on every interface, when
	// known: a relay agent address (giaddr) among them is refused.
	Local []netip.Addr
}

// unicast reports whether the datagram was sent to one of our addresses
// rather than broadcast.
func (a *Arrival) unicast() bool {
	return a.Dst.IsValid() && !a.Dst.IsUnspecified() && a.Dst != netip.IPv4Unspecified() &&
		a.Dst != broadcastAll && !a.Dst.IsMulticast() && !a.isSubnetBroadcast()
}

func (a *Arrival) isSubnetBroadcast() bool {
	for _, p := range a.IfAddrs {
		if p.Contains(a.Dst) && a.Dst == prefix.Last(p) && p.Bits() < 31 {
			return true
		}
	}
	return false
}

var broadcastAll = netip.AddrFrom4([4]byte{255, 255, 255, 255})

// Engine decides the server's replies. It is safe for concurrent use.
type Engine struct {
	clock            func() time.Time
	store            lease.Store
	writable         writability // the store's, or nil: it can always commit
	serverID         netip.Addr
	offerHold        time.Duration
	declineProbation time.Duration
	checkSource      bool         // cfg.CheckReleaseSource (guard.go)
	seed             maphash.Seed // of the client keys remembered in subnet.chosen
	subnets          []*subnet
	classes          *classTable // client classes (classes.go)
	records          sync.Pool   // of *[2]lease.Lease, the records of one commit
}

// New builds an engine for cfg, recovering the leases in store. clock is
// the engine's only source of time. cfg must have passed validation; New
// sets no defaults (package config does).
func New(cfg *config.Config, store lease.Store, clock func() time.Time) (*Engine, error) {
	if cfg == nil || store == nil || clock == nil {
		return nil, errors.New("server: New needs a configuration, a store and a clock")
	}
	e := &Engine{
		clock:            clock,
		store:            store,
		serverID:         cfg.ServerID,
		offerHold:        cfg.OfferHold,
		declineProbation: cfg.DeclineProbation,
		checkSource:      cfg.CheckReleaseSource,
		seed:             maphash.MakeSeed(),
		classes:          newClassTable(cfg.ClientClasses),
	}
	e.records.New = func() any { return new([2]lease.Lease) }
	if w, ok := store.(writability); ok {
		e.writable = w
	}
	// Package config sets the defaults; a Config that skipped them is not
	// valid.
	if e.offerHold <= 0 || e.declineProbation <= 0 {
		return nil, errors.New("server: New needs a positive OfferHold and DeclineProbation (see config.Validate)")
	}
	for i := range cfg.Subnets {
		s, err := newSubnet(&cfg.Subnets[i], e.classes)
		if err != nil {
			return nil, fmt.Errorf("server: subnets[%d] %v: %w", i, cfg.Subnets[i].Prefix, err)
		}
		s.setOfferLimit(cfg.OfferLimit)
		s.pool.startAt(cfg.PoolStartPercent)
		e.subnets = append(e.subnets, s)
	}
	if err := e.linkShared(cfg); err != nil {
		return nil, err
	}
	now := clock()
	store.All(func(l lease.Lease) bool {
		if s := e.subnetContaining(l.Addr); s != nil {
			s.recover(l, now)
		}
		return true
	})
	return e, nil
}

// writability is what a lease.Store may offer to say whether it can
// commit now (*journal.Store does). Writable must be cheap: the engine
// asks it once per DHCPDISCOVER and DHCPREQUEST.
type writability interface {
	Writable() bool
}

// canCommit reports whether the store can commit now. A store that does
// not say is taken to be able to.
func (e *Engine) canCommit() bool { return e.writable == nil || e.writable.Writable() }

// subnetContaining returns the subnet whose prefix contains a, or nil.
func (e *Engine) subnetContaining(a netip.Addr) *subnet {
	for _, s := range e.subnets {
		if s.prefix.Contains(a) {
			return s
		}
	}
	return nil
}

// selectSubnet chooses the subnet a request is served from: the link
// selection sub-option of a relayed request (RFC 3527 §3), which wins over
// the subnet selection option; else the subnet selection option (RFC 3011
// §3), which wins over giaddr and the arrival interface; else the relay's
// (giaddr) when relayed; the client's own address (ciaddr) when it was
// unicast to us, as in RENEWING or a DHCPINFORM from a routed network;
// else the arrival interface's. Every message of a client goes through
// here, so that its DISCOVER, REQUEST, renewal and any NAK agree.
func (e *Engine) selectSubnet(req *dhcpv4.Packet, in *Arrival) *subnet {
	if isSet(req.GIAddr) {
		if info, ok := req.Options.Get(dhcpv4.OptRelayAgentInfo); ok {
			if a, ok := dhcpv4.LinkSelection(info); ok {
				return e.subnetContaining(a)
			}
		}
	}
	if a, ok := subnetSelection(req); ok {
		return e.subnetContaining(a)
	}
	if isSet(req.GIAddr) {
		return e.subnetContaining(req.GIAddr)
	}
	if isSet(req.CIAddr) && in.unicast() {
		return e.subnetContaining(req.CIAddr)
	}
	for _, p := range in.IfAddrs {
		if s := e.subnetContaining(p.Addr()); s != nil {
			return s
		}
	}
	return nil
}

// subnetSelection returns the address of the subnet selection option
// (RFC 3011 §3): four bytes, an address in the subnet the client wants to
// be served from.
func subnetSelection(req *dhcpv4.Packet) (netip.Addr, bool) {
	v, ok := req.Options.Get(config.OptSubnetSelection)
	if !ok || len(v) != 4 {
		return netip.Addr{}, false
	}
	return netip.AddrFrom4([4]byte(v)), true
}

// serverIDFor returns the server identifier to put in replies from s to
// req, which arrived as in: the relay's server identifier override
// (RFC 5107), so that renewals go through the relay; else the configured
// one; else the address the request was unicast to; else our interface
// address in s; else the interface's first address.
func (e *Engine) serverIDFor(req *dhcpv4.Packet, s *subnet, in *Arrival) netip.Addr {
	if a, ok := serverIDOverride(req); ok {
		return a
	}
	if e.serverID.IsValid() {
		return e.serverID
	}
	if in.unicast() {
		return in.Dst
	}
	for _, p := range in.IfAddrs {
		if s != nil && s.prefix.Contains(p.Addr()) {
			return p.Addr()
		}
	}
	for _, p := range in.IfAddrs {
		if p.Addr().Is4() {
			return p.Addr()
		}
	}
	return netip.Addr{}
}

// serverIDOverride returns the server identifier override sub-option of a
// relayed request (RFC 5107 §4).
func serverIDOverride(req *dhcpv4.Packet) (netip.Addr, bool) {
	if !isSet(req.GIAddr) {
		return netip.Addr{}, false
	}
	info, ok := req.Options.Get(dhcpv4.OptRelayAgentInfo)
	if !ok {
		return netip.Addr{}, false
	}
	return dhcpv4.ServerIDOverride(info)
}

// isOurs reports whether sid, the server identifier in req, names this
// server: the one we would put in a reply, the configured one, or an
// address of the arrival interface.
func (e *Engine) isOurs(sid netip.Addr, req *dhcpv4.Packet, s *subnet, in *Arrival) bool {
	if sid == e.serverIDFor(req, s, in) || (e.serverID.IsValid() && sid == e.serverID) {
		return true
	}
	for _, p := range in.IfAddrs {
		if p.Addr() == sid {
			return true
		}
	}
	return false
}

func isSet(a netip.Addr) bool { return a.IsValid() && !a.IsUnspecified() }

// Handle decides the reply to req, which arrived as described by in. When
// the outcome's Action is Reply, reply holds the message to send (see
// Destination for where); otherwise reply is to be ignored. ctx bounds the
// lease store commit that precedes every DHCPACK.
//
// req must have been parsed by dhcpv4.Parse. Handle does not keep req,
// reply or in.
func (e *Engine) Handle(ctx context.Context, req *dhcpv4.Packet, in Arrival, reply *dhcpv4.Packet) Outcome {
	reply.Reset()
	out := Outcome{Type: req.MessageType()}
	if req.Op != dhcpv4.BootRequest || out.Type == 0 {
		out.Reason = ReasonMalformed
		return out
	}
	if isSet(req.GIAddr) && !e.plausibleRelay(req.GIAddr, &in) {
		// A reply would go to giaddr, port 67: never let it be a
		// broadcast, a multicast group or ourselves.
		out.Reason = ReasonBadGIAddr
		return out
	}
	var kbuf [keyBufLen]byte
	key := clientKey(req, &kbuf)
	switch out.Type {
	case dhcpv4.Discover:
		e.discover(req, &in, key, reply, &out)
	case dhcpv4.Request:
		e.request(ctx, req, &in, key, reply, &out)
	case dhcpv4.Decline:
		e.decline(ctx, req, &in, key, &out)
	case dhcpv4.Release:
		e.release(ctx, req, &in, key, &out)
	case dhcpv4.Inform:
		e.inform(req, &in, key, reply, &out)
	default:
		out.Reason = ReasonUnsupported
	}
	if out.Action == Reply {
		out.Reply = reply.MessageType()
	}
	return out
}

// keyBufLen holds the longest client key: a 255-byte client identifier.
const keyBufLen = 256

// clientKey returns the client's identity (RFC 2132 §9.14, RFC 4361): its
// client identifier when present, else its hardware type followed by its
// hardware address. The result aliases req or buf.
func clientKey(req *dhcpv4.Packet, buf *[keyBufLen]byte) []byte {
	if id, ok := req.Options.Get(dhcpv4.OptClientID); ok && len(id) > 0 {
		return id
	}
	buf[0] = req.HType
	n := copy(buf[1:], req.HardwareAddr())
	return buf[:1+n]
}

func (e *Engine) discover(req *dhcpv4.Packet, in *Arrival, key []byte, reply *dhcpv4.Packet, out *Outcome) {
	s := e.selectSubnet(req, in)
	if s == nil {
		out.Reason = ReasonNoSubnet
		return
	}
	out.Subnet = s.prefix
	cls, ignored := e.classify(req, in, s, out)
	if ignored {
		return
	}
	if w := s.v6OnlyWait(req, key, cls); w > 0 {
		e.replyV6Only(reply, req, key, s, cls, in, dhcpv4.Offer, w, out)
		return
	}
	now := e.clock()
	if !e.canCommit() {
		// Offer only what needs no new commitment, so that the client
		// picks a server that can commit.
		s.mu.Lock()
		chose := e.choseOther(s, key, req, now)
		s.mu.Unlock()
		if chose {
			out.Reason = ReasonChoseOther
			return
		}
		h := s.home(key, req, now)
		h.mu.Lock()
		addr, res, left, ok := h.keptOffer(key, req, now)
		cls = h.noteClasses(addr, key, cls, res)
		h.mu.Unlock()
		e.setClasses(out, cls)
		if !ok {
			out.Reason = ReasonNotWritable
			return
		}
		out.Subnet = h.prefix
		e.fillReply(reply, req, h, res, cls, in, dhcpv4.Offer, addr, keptTimes(left))
		out.Action, out.Reason, out.Addr = Reply, ReasonOffer, addr
		return
	}
	if s.shared != nil {
		e.discoverShared(req, in, key, s, cls, now, reply, out)
		return
	}
	s.mu.Lock()
	if e.choseOther(s, key, req, now) {
		s.mu.Unlock()
		out.Reason = ReasonChoseOther
		return
	}
	addr, res, ok := s.choose(key, req, cls, now)
	if !ok {
		s.mu.Unlock()
		out.Reason = ReasonExhausted
		return
	}
	out.Probe = s.probeFor(addr, key, res, now)
	reason := s.offerWithin(addr, key, req, res, now, now.Add(e.offerHold))
	cls = s.noteClasses(addr, key, cls, res)
	s.mu.Unlock()
	e.setClasses(out, cls)
	e.fillReply(reply, req, s, res, cls, in, dhcpv4.Offer, addr, s.timesFor(cls))
	out.Action, out.Reason, out.Addr = Reply, reason, addr
}

func (e *Engine) request(ctx context.Context, req *dhcpv4.Packet, in *Arrival, key []byte, reply *dhcpv4.Packet, out *Outcome) {
	sid, hasSID := req.Options.Addr(dhcpv4.OptServerID)
	reqAddr, hasReq := req.Options.Addr(dhcpv4.OptRequestedIP)
	s := e.selectSubnet(req, in)
	if s == nil {
		out.Reason = ReasonNoSubnet
		return
	}
	out.Subnet = s.prefix
	cls, ignored := e.classify(req, in, s, out)
	if ignored {
		return
	}
	now := e.clock()
	writable := e.canCommit()

	var st clientState
	switch {
	case hasSID:
		st = selecting
		if !e.isOurs(sid, req, s, in) {
			// The client chose another server: return our offer to the
			// pool at once (RFC 2131 §3.1 step 4).
			s.mu.Lock()
			withdrawn := s.withdraw(key)
			// Its DISCOVER may not have been handled yet (another
			// reader has it): remember, so that it gets no offer.
			s.chosen.note(maphash.Bytes(e.seed, key), req.XID, now)
			s.mu.Unlock()
			if other := s.withdrawShared(key); other.IsValid() {
				withdrawn = other
			}
			out.Reason = ReasonNotForUs
			if withdrawn.IsValid() {
				out.Reason, out.Addr = ReasonOfferWithdrawn, withdrawn
			}
			return
		}
		if !hasReq {
			out.Reason = ReasonMalformed
			return
		}
	case hasReq && !isSet(req.CIAddr):
		st = initReboot
	case isSet(req.CIAddr):
		st = renewing
		reqAddr = req.CIAddr
	default:
		out.Reason = ReasonMalformed
		return
	}
	if w := s.v6OnlyWait(req, key, cls); w > 0 {
		e.replyV6Only(reply, req, key, s, cls, in, dhcpv4.Ack, w, out)
		return
	}
	out.Addr = reqAddr
	s = s.member(reqAddr)
	out.Subnet = s.prefix
	if !s.prefix.Contains(reqAddr) {
		e.nak(reply, req, s, in, "requested address is not on this network")
		out.Action, out.Reason = Reply, ReasonNakNetwork
		return
	}

	s.mu.Lock()
	d := s.decideRequest(st, key, req, cls, reqAddr, now)
	switch d.verdict {
	case verdictSilent:
		s.mu.Unlock()
		out.Reason = ReasonUnknownClient
		return
	case verdictNak:
		s.mu.Unlock()
		e.nak(reply, req, s, in, d.message)
		out.Action, out.Reason = Reply, d.reason
		return
	}
	if !writable {
		// Acknowledge only the lease the client already holds on stable
		// storage, for the time it has left; anything else would need
		// a commitment, and gets what a failed commit gets: silence.
		left, kept := s.keptLease(key, reqAddr, now)
		s.mu.Unlock()
		e.ackKept(reply, req, s, d.res, cls, in, reqAddr, left, kept, ReasonNotWritable, out)
		return
	}
	cls = cls.with(d.res)
	e.setClasses(out, cls)
	lt := s.timesFor(cls)
	recs := e.records.Get().(*[2]lease.Lease)
	var name fqdnChoice
	s.chooseName(req, d.res, &name)
	n, token := s.bind(recs, reqAddr, key, req, d.res, &name, now, now.Add(lt.lease))
	s.mu.Unlock()

	err := e.store.Commit(ctx, recs[:n]...)
	bound := recs[n-1]
	*recs = [2]lease.Lease{}
	e.records.Put(recs)
	if conflict := conflictOf(err); conflict != nil {
		// Another server sharing the store holds the address: learn who,
		// and refuse; the client starts over and is offered another.
		s.mu.Lock()
		s.rollback(token)
		s.apply(conflict.Holder, e.clock())
		s.mu.Unlock()
		out.Err = err
		e.nak(reply, req, s, in, "requested address is in use")
		out.Action, out.Reason = Reply, ReasonNakConflict
		return
	}
	if err != nil {
		// The lease the client held on stable storage before, if any,
		// is still there: acknowledge it for the time it has left, as
		// when the store said at once that it could not commit.
		s.mu.Lock()
		s.rollback(token)
		left, kept := s.keptLease(key, reqAddr, e.clock())
		s.mu.Unlock()
		out.Err = err
		e.ackKept(reply, req, s, d.res, cls, in, reqAddr, left, kept, ReasonCommitFailed, out)
		return
	}
	s.mu.Lock()
	if !s.committed(token) {
		// A change another server made crossed this commit and replaced
		// the binding; the store took this one after it.
		s.replace(bound, e.clock())
	}
	s.noteClasses(reqAddr, key, cls, nil)
	s.mu.Unlock()
	e.fillReply(reply, req, s, d.res, cls, in, dhcpv4.Ack, reqAddr, lt)
	out.Action, out.Reason = Reply, ReasonAck
	out.Renewal = !token.isNew && token.prev.state == stBound
	out.FQDN, out.DNS, out.OldFQDN, out.OldDNS = name.fqdn, bound.DNS, name.oldFQDN, name.oldDNS
}

// ackKept answers a DHCPREQUEST whose lease cannot be committed: when
// the client holds addr on stable storage (kept), with a DHCPACK for the
// time left, which needs no new commitment; otherwise with silence for
// reason.
func (e *Engine) ackKept(reply, req *dhcpv4.Packet, s *subnet, res *reservation, cls classSet, in *Arrival, addr netip.Addr, left time.Duration, kept bool, reason Reason, out *Outcome) {
	e.setClasses(out, cls.with(res))
	if !kept {
		out.Reason = reason
		return
	}
	e.fillReply(reply, req, s, res, cls, in, dhcpv4.Ack, addr, keptTimes(left))
	out.Action, out.Reason = Reply, ReasonAckKept
}

func (e *Engine) decline(ctx context.Context, req *dhcpv4.Packet, in *Arrival, key []byte, out *Outcome) {
	addr, ok := req.Options.Addr(dhcpv4.OptRequestedIP)
	if !ok {
		out.Reason = ReasonMalformed
		return
	}
	s := e.subnetOf(addr, req, in, out)
	if s == nil {
		return
	}
	if e.checkSource && !e.declineFromClient(req, in, s, addr) {
		out.Reason = ReasonWrongSource
		return
	}
	now := e.clock()
	s.mu.Lock()
	if e.checkSource && !s.sentByHolder(addr, key, req, in) {
		s.mu.Unlock()
		out.Reason = ReasonWrongSource
		return
	}
	rec, ok := s.markDeclined(addr, key, now, now.Add(e.declineProbation))
	s.mu.Unlock()
	if !ok {
		out.Reason = ReasonNoBinding
		return
	}
	out.Reason, out.FQDN, out.DNS = ReasonDeclined, rec.FQDN, rec.DNS
	if err := e.store.Commit(ctx, rec); err != nil {
		// The address stays out of the pool in memory either way; only
		// its survival across a restart is lost.
		out.Err = err
	}
}

// subnetOf returns the subnet of addr, the address a DHCPDECLINE or
// DHCPRELEASE is about, when the message is for us; else it records why
// not in out and returns nil.
func (e *Engine) subnetOf(addr netip.Addr, req *dhcpv4.Packet, in *Arrival, out *Outcome) *subnet {
	out.Addr = addr
	s := e.subnetContaining(addr)
	if s == nil {
		out.Reason = ReasonNoSubnet
		return nil
	}
	out.Subnet = s.prefix
	if sid, ok := req.Options.Addr(dhcpv4.OptServerID); ok && !e.isOurs(sid, req, s, in) {
		out.Reason = ReasonNotForUs
		return nil
	}
	return s
}

func (e *Engine) release(ctx context.Context, req *dhcpv4.Packet, in *Arrival, key []byte, out *Outcome) {
	addr := req.CIAddr
	s := e.subnetOf(addr, req, in, out)
	if s == nil {
		return
	}
	if e.checkSource && !e.releaseFromClient(req, in, s) {
		out.Reason = ReasonWrongSource
		return
	}
	now := e.clock()
	s.mu.Lock()
	if e.checkSource && !s.sentByHolder(addr, key, req, in) {
		s.mu.Unlock()
		out.Reason = ReasonWrongSource
		return
	}
	rec, ok := s.markReleased(addr, key, now)
	s.mu.Unlock()
	if !ok {
		out.Reason = ReasonNoBinding
		return
	}
	out.Reason, out.FQDN, out.DNS = ReasonReleased, rec.FQDN, rec.DNS
	if err := e.store.Commit(ctx, rec); err != nil {
		// The store still holds the lease as bound until it expires: safe,
		// since memory already treats the address as free only for us.
		out.Err = err
	}
}

func (e *Engine) inform(req *dhcpv4.Packet, in *Arrival, key []byte, reply *dhcpv4.Packet, out *Outcome) {
	s := e.selectSubnet(req, in)
	if s == nil && isSet(req.CIAddr) {
		s = e.subnetContaining(req.CIAddr)
	}
	if s == nil {
		out.Reason = ReasonNoSubnet
		return
	}
	if isSet(req.CIAddr) {
		s = s.member(req.CIAddr) // its own subnet, when on a shared network
	}
	out.Subnet = s.prefix
	cls, ignored := e.classify(req, in, s, out)
	if ignored {
		return
	}
	s.mu.Lock()
	res := s.reservationFor(key, req)
	s.mu.Unlock()
	cls = cls.with(res)
	e.setClasses(out, cls)
	e.fillReply(reply, req, s, res, cls, in, dhcpv4.Ack, netip.Addr{}, leaseTimes{})
	out.Action, out.Reason, out.Addr = Reply, ReasonInformAck, req.CIAddr
}

// Sweep returns to their pools the addresses of leases that expired,
// offers whose hold ended and declined addresses whose probation ended, as
// of the clock's now. It returns how many it reclaimed. Call it
// periodically; work is done in bounded steps so that requests interleave.
func (e *Engine) Sweep() int { return e.SweepExpired(nil) }

// ExpiredFunc is told of a bound lease that expired, in subnet. It is
// called with the subnet locked: it must not block nor call the engine,
// and must not keep l, which is valid only during the call.
type ExpiredFunc func(subnet netip.Prefix, l *lease.Lease)

// SweepExpired is Sweep, telling expired of each bound lease it finds
// expired (nil tells nothing). Leases that a request found expired before
// the sweep came are not told.
func (e *Engine) SweepExpired(expired ExpiredFunc) int {
	now := e.clock()
	total := 0
	for _, s := range e.subnets {
		for {
			s.mu.Lock()
			n, more := s.sweep(now, 4096, expired)
			s.mu.Unlock()
			total += n
			if !more {
				break
			}
		}
	}
	return total
}

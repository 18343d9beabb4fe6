package server

import (
	"net/netip"
	"sync"
	"time"

	"leased/config"
	"leased/dhcpv4"
	"leased/lease"
	"leased/prefix"
)

// bindState is the engine's view of an address bound to a client.
type bindState uint8

const (
	stOffered  bindState = iota + 1 // held for the client until expiry (offer hold)
	stBound                         // leased until expiry
	stReleased                      // given back; remembered as the client's previous address
	stExpired                       // ran out; remembered as the client's previous address
	stDeclined                      // reported in use; out of the pool until expiry
)

// active reports whether the state keeps the address from everyone else.
func (st bindState) active() bool { return st == stOffered || st == stBound || st == stDeclined }

// binding is one address's state. Released and expired bindings are kept
// only as the client's memory of its previous address: their address is
// free in the pool.
type binding struct {
	addr     netip.Addr
	client   string // clientKey
	hw       lease.HardwareAddr
	hostname string
	// fqdn and dns are the lease's DNS name and the records the server
	// keeps for it (ddns.go); "" and 0 when none.
	fqdn   string
	dns    lease.DNSFlags
	state  bindState
	start  time.Time
	expiry time.Time
	// durable is the expiry of the client's bound lease on stable
	// storage, as far as the engine knows; zero when none is. It lags
	// expiry while a renewal's commit is in flight.
	durable time.Time
	gen     uint64 // bumped on every change, for rollback
	timerAt int64  // when its queued timer fires (Unix ns), 0 if none

	classes classSet // of the client's latest request (classes.go)
}

// reservation is a configured fixed address.
type reservation struct {
	addr     netip.Addr
	hostname string
	opts     []config.Option
	inPool   bool
	relay    config.RelayMatch
	runtime  bool // added while serving (admin.go), not from the configuration file

	classes classSet // classes the reservation puts its client in
	boot    config.Boot
}

// subnet is one configured subnet and its state, guarded by mu.
type subnet struct {
	// Immutable after newSubnet, except resByHW, resByID and resByAddr,
	// which mu guards: run-time reservations change them (admin.go).
	prefix        netip.Prefix
	mask          netip.Addr
	broadcast     netip.Addr
	leaseTime     time.Duration
	t1, t2        time.Duration
	authoritative bool
	options       []config.Option
	optIndex      [256]int16 // index+1 into options, 0 = absent
	resByHW       map[string]*reservation
	resByID       map[string]*reservation
	resByAddr     map[netip.Addr]*reservation
	resByRelay    []*reservation // by relay match, in configuration order
	boot          config.Boot
	classes       *classTable
	poolOpts      []poolOptions // the pools that have options (pools.go)

	mu       sync.Mutex
	pool     pools
	bindings map[netip.Addr]*binding
	byClient map[string]*binding // the client's current or latest binding
	timers   expiryHeap
	gen      uint64
	// offers is the number of bindings in state stOffered; maxOffers
	// caps it for clients without a binding (offers.go), 0: no cap.
	offers, maxOffers int
	chosen            choices // clients that chose another server (chosen.go)

	// shared are the members of the subnet's shared network, itself
	// included, in configuration order; nil when it is in none
	// (sharednet.go). Set by New, immutable after.
	shared []*subnet
	// v6Only is the IPv6-only preferred wait (RFC 8925), 0 when off
	// (v6only.go).
	v6Only time.Duration
	// pingWait is the subnet's ping check wait, 0 when off (ping.go).
	pingWait time.Duration
	// ddns says how the subnet names its clients in the DNS (ddns.go).
	ddns ddnsConf
}

func newSubnet(c *config.Subnet, ct *classTable) (*subnet, error) {
	pool, err := newPools(c.Pools, ct)
	if err != nil {
		return nil, err
	}
	s := &subnet{
		prefix:        c.Prefix.Masked(),
		leaseTime:     c.LeaseTime,
		t1:            c.T1,
		t2:            c.T2,
		authoritative: c.Authoritative,
		options:       c.Options,
		boot:          c.Boot,
		classes:       ct,
		poolOpts:      newPoolOptions(c.Pools),
		resByHW:       make(map[string]*reservation),
		resByID:       make(map[string]*reservation),
		resByAddr:     make(map[netip.Addr]*reservation),
		pool:          pool,
		bindings:      make(map[netip.Addr]*binding),
		byClient:      make(map[string]*binding),
		v6Only:        c.IPv6OnlyWait,
		pingWait:      c.PingCheck,
		ddns:          newDDNSConf(&c.DDNS),
	}
	if s.leaseTime <= 0 {
		s.leaseTime = time.Hour
	}
	s.mask = prefixMask(s.prefix)
	s.broadcast = prefix.Last(s.prefix)
	for i, o := range c.Options {
		s.optIndex[o.Code] = int16(i + 1)
	}
	for i := range c.Reservations {
		r := &c.Reservations[i]
		res := &reservation{addr: r.Addr, hostname: r.Hostname, opts: r.Options, inPool: pool.Contains(r.Addr), relay: r.Relay,
			classes: ct.set(r.Classes), boot: r.Boot}
		if !r.Relay.IsZero() {
			s.resByRelay = append(s.resByRelay, res)
		}
		if len(r.HWAddr) > 0 {
			s.resByHW[string(r.HWAddr)] = res
		}
		if len(r.ClientID) > 0 {
			s.resByID[string(r.ClientID)] = res
		}
		s.resByAddr[r.Addr] = res
		if res.inPool {
			pool.Take(r.Addr) // never handed out dynamically
		}
	}
	return s, nil
}

func prefixMask(p netip.Prefix) netip.Addr {
	m := ^uint32(0) << (32 - p.Bits())
	if p.Bits() == 0 {
		m = 0
	}
	return netip.AddrFrom4([4]byte{byte(m >> 24), byte(m >> 16), byte(m >> 8), byte(m)})
}

// reservationFor returns the client's reservation in s, or nil. A client is
// matched by its client identifier, then by its hardware address even when
// it sends a client identifier of another form (a DUID, RFC 4361), so that
// reservations by MAC keep working for such clients, then by the relay
// agent information its relay added (the port it is on).
func (s *subnet) reservationFor(key []byte, req *dhcpv4.Packet) *reservation {
	if len(s.resByID) > 0 {
		if r := s.resByID[string(key)]; r != nil {
			return r
		}
	}
	if len(s.resByHW) > 0 && req.HType == 1 {
		if r := s.resByHW[string(req.HardwareAddr())]; r != nil {
			return r
		}
	}
	if len(s.resByRelay) > 0 {
		rel := relayOf(req, classSet{})
		for _, r := range s.resByRelay {
			if r.relay.Matches(rel.circuit, rel.remote) {
				return r
			}
		}
	}
	return nil
}

// refresh moves b out of an active state whose time has passed, returning
// its address to the pool. It reports whether b still exists.
func (s *subnet) refresh(b *binding, now time.Time) bool {
	if !b.state.active() || now.Before(b.expiry) {
		return true
	}
	switch b.state {
	case stBound:
		b.state = stExpired
		b.gen = s.nextGen()
		s.freeAddr(b.addr)
		return true
	default: // a lapsed offer or the end of a decline's probation
		s.forget(b)
		s.freeAddr(b.addr)
		return false
	}
}

// freeAddr returns addr to the pool unless it is reserved.
func (s *subnet) freeAddr(a netip.Addr) {
	if _, reserved := s.resByAddr[a]; !reserved {
		s.pool.Free(a)
	}
}

// forget drops b from the indexes.
func (s *subnet) forget(b *binding) {
	if s.bindings[b.addr] == b {
		delete(s.bindings, b.addr)
		s.countOffers(b.state, 0)
	}
	if s.byClient[b.client] == b {
		delete(s.byClient, b.client)
	}
}

func (s *subnet) nextGen() uint64 { s.gen++; return s.gen }

// clientBinding returns the client's current or latest binding, refreshed.
func (s *subnet) clientBinding(key []byte, now time.Time) *binding {
	b := s.byClient[string(key)]
	if b == nil || !s.refresh(b, now) {
		return nil
	}
	return b
}

// availableTo reports whether a can be given to the client: nobody else
// holds it, and it is free in the pool or reserved for this client.
func (s *subnet) availableTo(a netip.Addr, key []byte, res *reservation, now time.Time) bool {
	if b := s.bindings[a]; b != nil && s.refresh(b, now) && b.state.active() && b.client != string(key) {
		return false
	}
	if r := s.resByAddr[a]; r != nil {
		return r == res
	}
	if b := s.bindings[a]; b != nil && b.client == string(key) && b.state.active() {
		return true
	}
	return s.pool.IsFree(a)
}

// choose picks the address to offer (RFC 2131 §4.3.1). ok is false when
// the pool is exhausted.
func (s *subnet) choose(key []byte, req *dhcpv4.Packet, cls classSet, now time.Time) (netip.Addr, *reservation, bool) {
	res := s.reservationFor(key, req)
	if res != nil && s.availableTo(res.addr, key, res, now) {
		return res.addr, res, true
	}
	rel := relayOf(req, cls.with(res))
	if b := s.clientBinding(key, now); b != nil && b.state != stDeclined && s.resByAddr[b.addr] == nil {
		if b.state.active() {
			return b.addr, res, true // its current binding
		}
		if s.bindings[b.addr] == b && s.pool.IsFree(b.addr) && s.pool.eligible(b.addr, rel) {
			return b.addr, res, true // its previous address, still free
		}
	}
	if a, ok := req.Options.Addr(dhcpv4.OptRequestedIP); ok && s.pool.eligible(a, rel) && s.availableTo(a, key, nil, now) {
		return a, res, true
	}
	// A free address: Next takes it, and offer claims it.
	if a, ok := s.pool.Next(rel); ok {
		return a, res, true
	}
	// Reclaim what has lapsed, then try once more.
	if n, _ := s.sweep(now, 1<<30, nil); n > 0 {
		if a, ok := s.pool.Next(rel); ok {
			return a, res, true
		}
	}
	return netip.Addr{}, nil, false
}

// claim gives a to the client: it drops another client's memory of a, and
// the client's own other offer or previous address, and returns the
// binding to update. It marks a taken in the pool.
func (s *subnet) claim(a netip.Addr, key []byte, req *dhcpv4.Packet) *binding {
	b := s.bindings[a]
	var prev *binding
	if b != nil && b.client != string(key) {
		// Another client's released or expired address (active ones were
		// ruled out by the caller): the address is ours now.
		s.forget(b)
		prev, b = b, nil
	}
	if old := s.byClient[string(key)]; old != nil && old != b {
		switch old.state {
		case stOffered:
			s.forget(old)
			s.freeAddr(old.addr)
		case stReleased, stExpired:
			s.forget(old)
		}
		// A bound lease elsewhere is released by bind; a declined address
		// stays in probation.
	}
	if b == nil {
		b = &binding{addr: a, client: string(key)}
		if prev != nil {
			// The name of its last holder, which the DNS may still
			// have: its end is told with the new lease (nameBinding).
			b.fqdn, b.dns = prev.fqdn, prev.dns
		}
		s.bindings[a] = b
	}
	if s.byClient[b.client] != b {
		s.byClient[b.client] = b
	}
	if s.resByAddr[a] == nil {
		s.pool.Take(a)
	}
	if n := req.HLen; n <= 16 {
		b.hw = lease.HardwareAddr{Type: req.HType, Len: n, Addr: req.CHAddr}
	}
	return b
}

// offer holds a for the client until hold.
func (s *subnet) offer(a netip.Addr, key []byte, req *dhcpv4.Packet, now, hold time.Time) {
	if cur := s.bindings[a]; cur != nil && cur.client == string(key) && cur.state == stBound {
		return // its current lease: nothing to hold
	}
	b := s.claim(a, key, req)
	s.setState(b, stOffered)
	b.start = now
	b.expiry = hold
	b.gen = s.nextGen()
	s.arm(b)
}

// withdraw returns the client's outstanding offer to the pool, returning
// its address, or the zero Addr when there was none.
func (s *subnet) withdraw(key []byte) netip.Addr {
	b := s.byClient[string(key)]
	if b == nil || b.state != stOffered {
		return netip.Addr{}
	}
	s.forget(b)
	s.freeAddr(b.addr)
	return b.addr
}

// clientState is the client state a DHCPREQUEST comes from (RFC 2131 §4.3.2).
type clientState uint8

const (
	selecting clientState = iota + 1
	initReboot
	renewing // RENEWING or REBINDING: ciaddr is set
)

type verdict uint8

const (
	verdictAck verdict = iota + 1
	verdictNak
	verdictSilent
)

type decision struct {
	verdict verdict
	reason  Reason
	message string
	res     *reservation
}

// decideRequest applies RFC 2131 §4.3.2 to a DHCPREQUEST for a.
func (s *subnet) decideRequest(st clientState, key []byte, req *dhcpv4.Packet, cls classSet, a netip.Addr, now time.Time) decision {
	res := s.reservationFor(key, req)
	if res != nil && res.addr != a && s.availableTo(res.addr, key, res, now) {
		// The client has a reservation elsewhere: send it there.
		return decision{verdict: verdictNak, reason: ReasonNakAddress, message: "address is reserved for this client elsewhere"}
	}
	ack := decision{verdict: verdictAck, reason: ReasonAck, res: res}
	b := s.clientBinding(key, now)
	if b != nil && b.addr == a {
		switch b.state {
		case stOffered, stBound:
			return ack
		case stReleased, stExpired:
			if s.availableTo(a, key, res, now) {
				return ack
			}
			return decision{verdict: verdictNak, reason: ReasonNakAddress, message: "address is no longer available"}
		}
	}
	switch st {
	case selecting:
		// Our offer lapsed or was never made: grant the address if it is
		// still free, else refuse.
		if s.availableTo(a, key, res, now) && (s.pool.eligible(a, relayOf(req, cls)) || res != nil) {
			return ack
		}
		return decision{verdict: verdictNak, reason: ReasonNakAddress, message: "requested address is not available"}
	default:
		if b != nil && b.state != stDeclined {
			// We know the client, at another address.
			return decision{verdict: verdictNak, reason: ReasonNakAddress, message: "requested address is not this client's"}
		}
		if held := s.bindings[a]; held != nil && s.refresh(held, now) && held.state.active() && held.client != string(key) {
			return decision{verdict: verdictNak, reason: ReasonNakAddress, message: "requested address is in use"}
		}
		if !s.authoritative {
			// RFC 2131 §4.3.2: no record of the client, so stay silent
			// for peaceful coexistence with other servers.
			return decision{verdict: verdictSilent}
		}
		if s.availableTo(a, key, res, now) && (s.pool.eligible(a, relayOf(req, cls)) || res != nil) {
			return ack // authoritative and free: grant it
		}
		return decision{verdict: verdictNak, reason: ReasonNakUnknown, message: "requested address is not available"}
	}
}

// rollbackToken restores a binding whose commit failed.
type rollbackToken struct {
	b     *binding
	prev  binding
	gen   uint64
	isNew bool
}

// bind makes a the client's bound lease until expiry, named as name
// says, and returns the records to commit: the lease, and the release of
// the client's other bound address when it moved.
func (s *subnet) bind(recs *[2]lease.Lease, a netip.Addr, key []byte, req *dhcpv4.Packet, res *reservation, name *fqdnChoice, now, expiry time.Time) (int, rollbackToken) {
	n := 0
	if old := s.byClient[string(key)]; old != nil && old.addr != a && old.state == stBound {
		old.state = stReleased
		old.expiry = now
		old.gen = s.nextGen()
		s.freeAddr(old.addr)
		recs[n] = old.record(lease.Released)
		n++
	}
	existing := s.bindings[a]
	tok := rollbackToken{isNew: existing == nil || existing.client != string(key)}
	if !tok.isNew {
		tok.prev = *existing
	}
	b := s.claim(a, key, req)
	if b.state != stBound {
		b.durable = time.Time{} // what is stored is not a bound lease of the client's
	}
	s.setState(b, stBound)
	b.start = now
	b.expiry = expiry
	if res != nil && res.hostname != "" {
		b.hostname = res.hostname
	} else if h, ok := req.Options.Get(dhcpv4.OptHostName); ok && string(h) != b.hostname {
		b.hostname = string(h)
	}
	s.nameBinding(b, name)
	b.gen = s.nextGen()
	s.arm(b)
	tok.b, tok.gen = b, b.gen
	recs[n] = b.record(lease.Bound)
	n++
	return n, tok
}

// committed notes that the records of bind are on stable storage, unless
// the binding changed since: then what is durable is not known better
// than before, and durable stays as it was (too early, never too late).
// It reports false when the binding is no longer in the indexes (a shared
// store's change replaced it, see apply).
func (s *subnet) committed(t rollbackToken) bool {
	b := t.b
	if b.gen == t.gen {
		b.durable = b.expiry
	}
	return s.bindings[b.addr] == b
}

// minKept is the shortest lease the engine gives from what is left of a
// durable one; a lease with less left is not given again.
const minKept = time.Second

// keptLease returns the time left, in whole seconds, of the client's bound
// lease of a as it is on stable storage, when there is at least minKept
// of it: the lease the engine can acknowledge without committing.
func (s *subnet) keptLease(key []byte, a netip.Addr, now time.Time) (time.Duration, bool) {
	b := s.clientBinding(key, now)
	if b == nil || b.addr != a || b.state != stBound {
		return 0, false
	}
	if s.leaseTime >= dhcpv4.Infinite && !b.durable.IsZero() {
		return dhcpv4.Infinite, true // a lease that never ends
	}
	end := b.durable
	if b.expiry.Before(end) {
		end = b.expiry
	}
	left := end.Sub(now).Truncate(time.Second)
	return left, left >= minKept
}

// keptOffer chooses the address to offer when nothing can be committed:
// the client's durable bound lease (keptLease), if it would be chosen
// anyway (RFC 2131 §4.3.1: no reservation of the client's elsewhere, nor
// of another client's there). ok is false when there is none.
func (s *subnet) keptOffer(key []byte, req *dhcpv4.Packet, now time.Time) (a netip.Addr, res *reservation, left time.Duration, ok bool) {
	b := s.clientBinding(key, now)
	if b == nil || b.state != stBound {
		return netip.Addr{}, nil, 0, false
	}
	res = s.reservationFor(key, req)
	if (res != nil && res.addr != b.addr) || (s.resByAddr[b.addr] != nil && s.resByAddr[b.addr] != res) {
		return netip.Addr{}, nil, 0, false
	}
	if left, ok = s.keptLease(key, b.addr, now); !ok {
		return netip.Addr{}, nil, 0, false
	}
	return b.addr, res, left, true
}

// rollback undoes bind after a failed commit, unless the binding changed
// since.
func (s *subnet) rollback(t rollbackToken) {
	b := t.b
	if b.gen != t.gen {
		return
	}
	if t.isNew {
		s.forget(b)
		s.freeAddr(b.addr)
		return
	}
	queued, was := b.timerAt, b.state
	*b = t.prev
	s.countOffers(was, b.state)
	b.timerAt = queued // the heap holds the timer of now, not of then
	b.gen = s.nextGen()
	if b.state.active() {
		s.arm(b)
	} else {
		s.freeAddr(b.addr)
	}
}

func (b *binding) record(st lease.State) lease.Lease {
	return lease.Lease{
		Addr: b.addr, ClientID: b.client, HW: b.hw, Hostname: b.hostname,
		State: st, Start: b.start, Expiry: b.expiry,
		FQDN: b.fqdn, DNS: b.dns, DNSState: lease.DNSPending,
	}
}

// markDeclined puts a, offered or bound to the client, in probation until
// until (RFC 2131 §4.3.3).
func (s *subnet) markDeclined(a netip.Addr, key []byte, now, until time.Time) (lease.Lease, bool) {
	b := s.bindings[a]
	if b == nil || b.client != string(key) || !s.refresh(b, now) || (b.state != stOffered && b.state != stBound) {
		return lease.Lease{}, false
	}
	s.setState(b, stDeclined)
	b.start = now
	b.expiry = until
	b.gen = s.nextGen()
	if s.resByAddr[a] == nil {
		s.pool.Take(a)
	}
	s.arm(b)
	if s.byClient[b.client] == b {
		delete(s.byClient, b.client)
	}
	return b.record(lease.Declined), true
}

// markReleased ends the client's lease on a (RFC 2131 §4.3.4).
func (s *subnet) markReleased(a netip.Addr, key []byte, now time.Time) (lease.Lease, bool) {
	b := s.bindings[a]
	if b == nil || b.client != string(key) || !s.refresh(b, now) || b.state != stBound {
		return lease.Lease{}, false
	}
	b.state = stReleased
	b.expiry = now
	b.gen = s.nextGen()
	s.freeAddr(a)
	return b.record(lease.Released), true
}

// recover loads one stored lease at start.
func (s *subnet) recover(l lease.Lease, now time.Time) {
	b := &binding{addr: l.Addr, client: l.ClientID, hw: l.HW, hostname: l.Hostname, fqdn: l.FQDN, dns: l.DNS, start: l.Start, expiry: l.Expiry}
	switch {
	case l.State == lease.Bound && now.Before(l.Expiry):
		b.state = stBound
		b.durable = l.Expiry
	case l.State == lease.Declined && now.Before(l.Expiry):
		b.state = stDeclined
	case l.State == lease.Bound || l.State == lease.Expired:
		b.state = stExpired
	case l.State == lease.Released:
		b.state = stReleased
	default:
		return
	}
	b.gen = s.nextGen()
	s.bindings[l.Addr] = b
	if b.state.active() {
		if s.resByAddr[l.Addr] == nil {
			s.pool.Take(l.Addr)
		}
		s.arm(b)
	}
	if b.state == stDeclined {
		return
	}
	// The client's binding is its bound one, else its most recent.
	if cur := s.byClient[b.client]; cur == nil ||
		(b.state == stBound && cur.state != stBound) ||
		(b.state == cur.state && b.start.After(cur.start)) ||
		(cur.state != stBound && b.start.After(cur.start)) {
		s.byClient[b.client] = b
	}
}

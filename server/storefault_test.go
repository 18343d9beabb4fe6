package server

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"leased/dhcpv4"
	"leased/lease"
)

// unwritableStore is a memory store that can be told it cannot commit,
// as *journal.Store says while its disk is full or failing.
type unwritableStore struct {
	*lease.Memory
	down    atomic.Bool
	commits atomic.Int64 // Commit calls while down
}

var errDown = errors.New("store is not writable")

func (s *unwritableStore) Writable() bool { return !s.down.Load() }

func (s *unwritableStore) Commit(ctx context.Context, leases ...lease.Lease) error {
	if s.down.Load() {
		s.commits.Add(1)
		return errDown
	}
	return s.Memory.Commit(ctx, leases...)
}

// newOutageEnv is newEnv with an engine over an unwritableStore around
// the env's memory store. restart rebuilds it over the same store.
func newOutageEnv(t *testing.T) (*env, *unwritableStore, func()) {
	t.Helper()
	e := newEnv(t, nil)
	st := &unwritableStore{Memory: e.store}
	restart := func() {
		t.Helper()
		eng, err := New(e.cfg, st, func() time.Time { return e.now })
		if err != nil {
			t.Fatal(err)
		}
		e.eng = eng
	}
	restart()
	return e, st, restart
}

// freeInPool counts the free addresses of the first subnet's pool.
func freeInPool(e *env) int {
	n := 0
	s := e.eng.subnets[0]
	s.mu.Lock()
	defer s.mu.Unlock()
	for a := mustAddr("198.18.0.10"); a.Compare(mustAddr("198.18.0.19")) <= 0; a = a.Next() {
		if s.pool.IsFree(a) {
			n++
		}
	}
	return n
}

// leaseTimesOf returns the lease time, T1 and T2 of reply.
func leaseTimesOf(t *testing.T, reply *dhcpv4.Packet) (lt, t1, t2 time.Duration) {
	t.Helper()
	get := func(c dhcpv4.OptionCode) time.Duration {
		v, ok := reply.Options.Uint32(c)
		if !ok {
			t.Fatalf("reply has no option %v", c)
		}
		return time.Duration(v) * time.Second
	}
	return get(dhcpv4.OptLeaseTime), get(dhcpv4.OptRenewalTime), get(dhcpv4.OptRebindingTime)
}

func TestStoreNotWritableKeepsDurableLeases(t *testing.T) {
	// The client's lease of an hour was granted at t0; the store stops
	// taking writes; 30m10s later the client asks again in each way.
	// 29m49.7s are left, given in whole seconds (RFC 2132 §9.2).
	const left = 29*time.Minute + 49*time.Second
	renewing := func(c *client, a Arrival, addr string) *dhcpv4.Packet {
		p := c.packet(dhcpv4.Request)
		p.CIAddr = mustAddr(addr)
		return p
	}
	for _, tc := range []struct {
		name string
		req  func(c *client, addr string) (*dhcpv4.Packet, Arrival)
	}{
		{"RFC2131 4.3.2 RENEWING while not writable -> ACK for the time left", func(c *client, addr string) (*dhcpv4.Packet, Arrival) {
			return renewing(c, direct(), addr), unicastTo(mustAddr(addr))
		}},
		{"RFC2131 4.3.2 REBINDING while not writable -> ACK for the time left", func(c *client, addr string) (*dhcpv4.Packet, Arrival) {
			return renewing(c, direct(), addr), direct()
		}},
		{"RFC2131 4.3.2 INIT-REBOOT while not writable -> ACK for the time left", func(c *client, addr string) (*dhcpv4.Packet, Arrival) {
			return c.packet(dhcpv4.Request, optAddr(dhcpv4.OptRequestedIP, addr)), direct()
		}},
		{"RFC2131 4.3.2 SELECTING its own lease while not writable -> ACK for the time left", func(c *client, addr string) (*dhcpv4.Packet, Arrival) {
			return c.packet(dhcpv4.Request, optAddr(dhcpv4.OptServerID, "198.18.0.1"), optAddr(dhcpv4.OptRequestedIP, addr)), direct()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, st, _ := newOutageEnv(t)
			c := newClient(1)
			a := e.dora(c, direct())
			before, _ := e.stored(a)
			st.down.Store(true)
			e.now = e.now.Add(30*time.Minute + 10*time.Second + 300*time.Millisecond)
			req, in := tc.req(c, a.String())
			out, ack := e.handle(req, in)
			if out.Action != Reply || out.Reason != ReasonAckKept || ack.MessageType() != dhcpv4.Ack || ack.YIAddr != a {
				t.Fatalf("got %v %v, want an ACK of %v (ack-kept)", out.Action, out.Reason, a)
			}
			lt, t1, t2 := leaseTimesOf(t, ack)
			wt1, wt2 := (left / 2).Truncate(time.Second), (left * 7 / 8).Truncate(time.Second)
			if lt != left || t1 != wt1 || t2 != wt2 {
				t.Errorf("RFC2131 4.4.5 lease %v T1 %v T2 %v, want %v %v %v", lt, t1, t2, left, wt1, wt2)
			}
			if n := st.commits.Load(); n != 0 {
				t.Errorf("%d commits tried, want none", n)
			}
			if after, _ := e.stored(a); after != before {
				t.Errorf("stored lease changed: %+v, was %+v", after, before)
			}
		})
	}
}

func TestStoreNotWritableOffersNothingNew(t *testing.T) {
	e, st, restart := newOutageEnv(t)
	holder, leaver := newClient(1), newClient(2)
	a := e.dora(holder, direct())
	b := e.dora(leaver, direct())
	rel := leaver.packet(dhcpv4.Release)
	rel.CIAddr = b
	if out, _ := e.handle(rel, unicastTo(b)); out.Reason != ReasonReleased {
		t.Fatalf("RELEASE: %v", out.Reason)
	}
	st.down.Store(true)
	e.now = e.now.Add(10 * time.Minute)
	free := freeInPool(e)

	// A client without a durable lease gets no OFFER, and no address is
	// held for it.
	for _, c := range []*client{newClient(3), leaver} {
		out, reply := e.handle(c.packet(dhcpv4.Discover), direct())
		if out.Action != Drop || out.Reason != ReasonNotWritable || reply != nil {
			t.Errorf("DISCOVER of %v: got %v %v, want silence (store-not-writable)", c.mac, out.Action, out.Reason)
		}
	}
	// A reserved client without a lease, likewise.
	printer := &client{mac: []byte{2, 0, 0, 0, 0, 0x50}, xid: 7}
	if out, _ := e.handle(printer.packet(dhcpv4.Discover), direct()); out.Reason != ReasonNotWritable {
		t.Errorf("DISCOVER of a reserved client: got %v, want store-not-writable", out.Reason)
	}
	if n := freeInPool(e); n != free {
		t.Errorf("free addresses %d, want %d: an address was held", n, free)
	}
	// A REQUEST that would need a commitment gets what a failed commit
	// gets: silence, and nothing is tried.
	newcomer := newClient(4)
	for _, tc := range []struct {
		name string
		req  *dhcpv4.Packet
		want Reason
	}{
		{"SELECTING an address never offered", newcomer.packet(dhcpv4.Request, optAddr(dhcpv4.OptServerID, "198.18.0.1"), optAddr(dhcpv4.OptRequestedIP, "198.18.0.17")), ReasonNotWritable},
		{"INIT-REBOOT of a released address", leaver.packet(dhcpv4.Request, option{dhcpv4.OptRequestedIP, b.AsSlice()}), ReasonNotWritable},
		// Not authoritative: silent as ever (RFC 2131 §4.3.2).
		{"INIT-REBOOT of an unknown client", newcomer.packet(dhcpv4.Request, optAddr(dhcpv4.OptRequestedIP, "198.18.0.17")), ReasonUnknownClient},
	} {
		out, reply := e.handle(tc.req, direct())
		if out.Action != Drop || out.Reason != tc.want || reply != nil {
			t.Errorf("%s: got %v %v, want silence (%v)", tc.name, out.Action, out.Reason, tc.want)
		}
	}
	if n := st.commits.Load(); n != 0 {
		t.Errorf("%d commits tried, want none", n)
	}
	// What needs no commitment is answered as ever: a NAK.
	wrong := newcomer.packet(dhcpv4.Request, optAddr(dhcpv4.OptRequestedIP, "198.19.0.100"))
	if out, _ := e.handle(wrong, direct()); out.Reason != ReasonNakNetwork {
		t.Errorf("INIT-REBOOT on the wrong network: got %v, want nak-network", out.Reason)
	}

	// The holder is offered its own lease, for the time it has left.
	out, offer := e.handle(holder.packet(dhcpv4.Discover), direct())
	if out.Reason != ReasonOffer || offer.YIAddr != a {
		t.Fatalf("DISCOVER of the holder: got %v %v, want an offer of %v", out.Reason, offer, a)
	}
	if lt, _, _ := leaseTimesOf(t, offer); lt != 50*time.Minute {
		t.Errorf("offered lease time %v, want 50m", lt)
	}

	// After a restart on the unwritable store, the same.
	restart()
	p := holder.packet(dhcpv4.Request)
	p.CIAddr = a
	if out, _ := e.handle(p, unicastTo(a)); out.Reason != ReasonAckKept {
		t.Errorf("renewal after a restart: got %v, want ack-kept", out.Reason)
	}
	if out, _ := e.handle(newClient(5).packet(dhcpv4.Discover), direct()); out.Reason != ReasonNotWritable {
		t.Errorf("DISCOVER after a restart: got %v, want store-not-writable", out.Reason)
	}

	// Less than a second left: not given again.
	e.now = t0.Add(time.Hour - 500*time.Millisecond)
	if out, _ := e.handle(p, unicastTo(a)); out.Reason != ReasonNotWritable {
		t.Errorf("renewal with 0.5 s left: got %v, want store-not-writable", out.Reason)
	}

	// Writable again: served as ever.
	st.down.Store(false)
	if out, _ := e.handle(newClient(6).packet(dhcpv4.Discover), direct()); out.Reason != ReasonOffer {
		t.Errorf("DISCOVER once writable: got %v, want offer", out.Reason)
	}
	if out, _ := e.handle(p, unicastTo(a)); out.Reason != ReasonAck {
		t.Errorf("renewal once writable: got %v, want ack", out.Reason)
	}
}

func TestStoreNotWritableGivesOnlyWhatIsDurable(t *testing.T) {
	e, st, _ := newOutageEnv(t)
	c := newClient(1)
	a := e.dora(c, direct()) // durable until t0+1h
	p := c.packet(dhcpv4.Request)
	p.CIAddr = a

	// A renewal whose commit fails (the store had not yet said so) is
	// rolled back, and acknowledged for the time the lease on disk has
	// left: what is durable stays t0+1h.
	e.now = t0.Add(20 * time.Minute)
	e.store.Fail = errDown
	out, ack := e.handle(p, unicastTo(a))
	if out.Reason != ReasonAckKept || out.Err == nil {
		t.Fatalf("renewal with a failing commit: got %v %v, want ack-kept with the error", out.Reason, out.Err)
	}
	if lt, _, _ := leaseTimesOf(t, ack); lt != 40*time.Minute {
		t.Errorf("lease time %v after a failed commit, want the 40m left on disk", lt)
	}
	e.store.Fail = nil
	st.down.Store(true)
	e.now = t0.Add(40 * time.Minute)
	out, ack = e.handle(p, unicastTo(a))
	if out.Reason != ReasonAckKept {
		t.Fatalf("renewal while not writable: got %v", out.Reason)
	}
	if lt, _, _ := leaseTimesOf(t, ack); lt != 20*time.Minute {
		t.Errorf("lease time %v, want the 20m left on disk", lt)
	}

	// A renewal bound in memory whose commit has not returned is not
	// durable: if the binding changes before it returns, what is
	// durable is not taken to have grown.
	s := e.eng.subnets[0]
	var recs [2]lease.Lease
	s.mu.Lock()
	b := s.bindings[a]
	_, tok1 := s.bind(&recs, a, []byte(b.client), c.packet(dhcpv4.Request), nil, new(fqdnChoice), e.now, e.now.Add(time.Hour))
	_, tok2 := s.bind(&recs, a, []byte(b.client), c.packet(dhcpv4.Request), nil, new(fqdnChoice), e.now, e.now.Add(2*time.Hour))
	if !b.durable.Equal(t0.Add(time.Hour)) {
		t.Errorf("durable %v before any commit returned, want %v", b.durable, t0.Add(time.Hour))
	}
	s.committed(tok1)
	if !b.durable.Equal(t0.Add(time.Hour)) {
		t.Errorf("durable %v after a superseded commit, want %v", b.durable, t0.Add(time.Hour))
	}
	s.committed(tok2)
	if !b.durable.Equal(e.now.Add(2 * time.Hour)) {
		t.Errorf("durable %v after the last commit, want %v", b.durable, e.now.Add(2*time.Hour))
	}
	s.mu.Unlock()
}

func TestStoreNotWritableAllocatesNothing(t *testing.T) {
	e, st, _ := newOutageEnv(t)
	c := newClient(1)
	a := e.dora(c, direct())
	st.down.Store(true)
	renew := c.packet(dhcpv4.Request)
	renew.CIAddr = a
	discover := newClient(2).packet(dhcpv4.Discover)
	var reply dhcpv4.Packet
	ctx := context.Background()
	in := unicastTo(a)
	for _, tc := range []struct {
		name string
		req  *dhcpv4.Packet
		want Reason
	}{{"renewal", renew, ReasonAckKept}, {"new client", discover, ReasonNotWritable}} {
		n := testing.AllocsPerRun(100, func() {
			if out := e.eng.Handle(ctx, tc.req, in, &reply); out.Reason != tc.want {
				t.Fatalf("%s: got %v, want %v", tc.name, out.Reason, tc.want)
			}
		})
		if n != 0 {
			t.Errorf("%s: %v allocations per request, want 0", tc.name, n)
		}
	}
}

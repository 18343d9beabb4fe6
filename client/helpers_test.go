package client

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"leased/dhcpv4"
)

// t0 is the start of every test's clock.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

var (
	testMAC    = []byte{0x02, 0xc6, 0x12, 0x00, 0x00, 0x01}
	otherMAC   = []byte{0x02, 0xc6, 0x12, 0x00, 0x00, 0x02}
	serverA    = netip.MustParseAddr("198.18.0.1")
	serverB    = netip.MustParseAddr("198.18.0.2")
	addrA      = netip.MustParseAddr("198.18.0.100")
	addrB      = netip.MustParseAddr("198.18.0.150")
	addrPrev   = netip.MustParseAddr("198.18.0.120")
	routerAddr = netip.MustParseAddr("198.18.0.1")
)

// fakeRand returns transaction IDs 0x1001, 0x1002, ... and, for
// Int64N(n), the value of pick (default n/2: no jitter at all, since the
// machine subtracts the jitter bound).
type fakeRand struct {
	xid  uint32
	pick func(n int64) int64
}

func (r *fakeRand) Uint32() uint32 { r.xid++; return 0x1000 + r.xid }

func (r *fakeRand) Int64N(n int64) int64 {
	if r.pick != nil {
		return r.pick(n)
	}
	return n / 2
}

// harness is a Machine with a clock that the test moves by hand.
type harness struct {
	t   *testing.T
	m   *Machine
	now time.Time
	rnd *fakeRand
}

func newHarness(t *testing.T, edit func(*Config)) *harness {
	t.Helper()
	rnd := &fakeRand{}
	cfg := Config{Interface: "eth0", HardwareAddr: testMAC, Rand: rnd}
	if edit != nil {
		edit(&cfg)
	}
	m, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return &harness{t: t, m: m, now: t0, rnd: rnd}
}

// at moves the clock to t0+d.
func (h *harness) at(d time.Duration) *harness { h.now = t0.Add(d); return h }

func (h *harness) start(saved *Lease) []Action { return h.m.Start(h.now, saved) }

func (h *harness) timer() []Action { return h.m.Timer(h.now) }

// fire moves the clock to the deadline and calls Timer.
func (h *harness) fire() []Action {
	h.t.Helper()
	d := h.m.Deadline()
	if d.IsZero() {
		h.t.Fatalf("fire: no deadline in %v", h.m.State())
	}
	h.now = d
	return h.m.Timer(h.now)
}

// fireUntil fires timers until the machine is in state s.
func (h *harness) fireUntil(s State) {
	h.t.Helper()
	for i := 0; h.m.State() != s; i++ {
		if i > 50 {
			h.t.Fatalf("never reached %v: in %v", s, h.m.State())
		}
		h.fire()
	}
}

// recv passes msg through the wire format and hands it to the machine.
func (h *harness) recv(msg *dhcpv4.Packet) []Action {
	h.t.Helper()
	return h.m.Receive(h.now, wire(h.t, msg))
}

func (h *harness) probe(addr netip.Addr, conflict bool) []Action {
	return h.m.ProbeResult(h.now, addr, conflict)
}

func (h *harness) wantState(s State) {
	h.t.Helper()
	if got := h.m.State(); got != s {
		h.t.Fatalf("state %v, want %v", got, s)
	}
}

func (h *harness) wantDeadline(d time.Duration) {
	h.t.Helper()
	if got, want := h.m.Deadline(), t0.Add(d); !got.Equal(want) {
		h.t.Fatalf("deadline t0+%v, want t0+%v", got.Sub(t0), d)
	}
}

func (h *harness) wantNoDeadline() {
	h.t.Helper()
	if d := h.m.Deadline(); !d.IsZero() {
		h.t.Fatalf("deadline t0+%v, want none", d.Sub(t0))
	}
}

// wire encodes p and parses it back, as the link would.
func wire(t testing.TB, p *dhcpv4.Packet) *dhcpv4.Packet {
	t.Helper()
	b, err := p.Append(nil, 1500)
	if err != nil {
		t.Fatalf("Append %v: %v", p, err)
	}
	q := new(dhcpv4.Packet)
	if err := dhcpv4.Parse(b, q); err != nil {
		t.Fatalf("Parse of %v: %v", p, err)
	}
	return q
}

// kinds lists the actions' types, for comparing sequences.
func kinds(acts []Action) string {
	var ks []string
	for _, a := range acts {
		switch a := a.(type) {
		case Send:
			k := "send-" + strings.TrimPrefix(a.Msg.MessageType().String(), "DHCP")
			if a.To.IsValid() {
				k += "@" + a.To.String()
			}
			ks = append(ks, k)
		case Probe:
			ks = append(ks, "probe")
		case Configure:
			ks = append(ks, "configure")
		case Deconfigure:
			ks = append(ks, "deconfigure")
		case RunHook:
			ks = append(ks, "hook-"+string(a.Hook.Reason))
		case Save:
			ks = append(ks, "save")
		case Forget:
			ks = append(ks, "forget")
		default:
			ks = append(ks, fmt.Sprintf("%T", a))
		}
	}
	return strings.Join(ks, " ")
}

func wantKinds(t *testing.T, acts []Action, want string) {
	t.Helper()
	if got := kinds(acts); got != want {
		t.Fatalf("actions %q, want %q", got, want)
	}
}

// sent returns the one message sent by acts, through the wire format, and
// where to.
func sent(t *testing.T, acts []Action) (*dhcpv4.Packet, netip.Addr) {
	t.Helper()
	var msgs []Send
	for _, a := range acts {
		if s, ok := a.(Send); ok {
			msgs = append(msgs, s)
		}
	}
	if len(msgs) != 1 {
		t.Fatalf("actions %q: want exactly one send", kinds(acts))
	}
	return wire(t, msgs[0].Msg), msgs[0].To
}

func find[A Action](t *testing.T, acts []Action) A {
	t.Helper()
	for _, a := range acts {
		if x, ok := a.(A); ok {
			return x
		}
	}
	var zero A
	t.Fatalf("actions %q: no %T", kinds(acts), zero)
	return zero
}

// reply builds a server's answer of type typ to req.
func reply(req *dhcpv4.Packet, typ dhcpv4.MessageType, yiaddr, server netip.Addr, opts ...func(*dhcpv4.Options)) *dhcpv4.Packet {
	p := &dhcpv4.Packet{
		Op:     dhcpv4.BootReply,
		XID:    req.XID,
		HType:  req.HType,
		HLen:   req.HLen,
		CHAddr: req.CHAddr,
		CIAddr: req.CIAddr,
		YIAddr: yiaddr,
	}
	p.Options.SetMessageType(typ)
	if server.IsValid() {
		p.Options.SetAddr(dhcpv4.OptServerID, server)
	}
	for _, o := range opts {
		o(&p.Options)
	}
	return p
}

// leaseOpts are the options of a typical offer or acknowledgement: /24,
// one router, two DNS servers, a domain, the lease time.
func leaseOpts(lt time.Duration) func(*dhcpv4.Options) {
	return func(o *dhcpv4.Options) {
		o.SetAddr(dhcpv4.OptSubnetMask, netip.MustParseAddr("255.255.255.0"))
		o.SetAddrs(dhcpv4.OptRouter, []netip.Addr{routerAddr})
		o.SetAddrs(dhcpv4.OptDNSServers, []netip.Addr{netip.MustParseAddr("198.18.0.53"), netip.MustParseAddr("198.18.0.54")})
		o.SetString(dhcpv4.OptDomainName, "example.net")
		o.SetDuration(dhcpv4.OptLeaseTime, lt)
	}
}

func opt(c dhcpv4.OptionCode, v []byte) func(*dhcpv4.Options) {
	return func(o *dhcpv4.Options) { o.Set(c, v) }
}

func withDuration(c dhcpv4.OptionCode, d time.Duration) func(*dhcpv4.Options) {
	return func(o *dhcpv4.Options) { o.SetDuration(c, d) }
}

// bound runs the harness through DISCOVER, OFFER, REQUEST, ACK and a clean
// probe to BOUND with addrA from serverA, lease lt, the ACK arriving at
// t0+1s. It returns the lease.
func (h *harness) bound(lt time.Duration, ackOpts ...func(*dhcpv4.Options)) *Lease {
	h.t.Helper()
	disc, _ := sent(h.t, h.start(nil))
	h.recv(reply(disc, dhcpv4.Offer, addrA, serverA, leaseOpts(lt)))
	acts := h.fire() // end of the offer window: REQUEST
	req, _ := sent(h.t, acts)
	h.at(time.Second)
	acts = h.recv(reply(req, dhcpv4.Ack, addrA, serverA, append([]func(*dhcpv4.Options){leaseOpts(lt)}, ackOpts...)...))
	if m := h.m.Config(); !m.NoProbe {
		wantKinds(h.t, acts, "probe")
		acts = h.probe(addrA, false)
	}
	wantKinds(h.t, acts, "configure save hook-BOUND")
	h.wantState(Bound)
	return h.m.Lease()
}

func addrs(ss ...string) []netip.Addr {
	var as []netip.Addr
	for _, s := range ss {
		as = append(as, netip.MustParseAddr(s))
	}
	return as
}

func equalAddrs(a, b []netip.Addr) bool { return slices.Equal(a, b) }

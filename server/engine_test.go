package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"leased/config"
	"leased/dhcpv4"
	"leased/lease"
)

var (
	serverAddr = netip.MustParseAddr("198.18.0.1")
	relayAddr  = netip.MustParseAddr("198.19.0.1")
	t0         = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
)

// env is an engine over a memory store with a hand-driven clock.
type env struct {
	t     *testing.T
	now   time.Time
	store *lease.Memory
	cfg   *config.Config
	eng   *Engine
}

func addrs(s ...string) []byte {
	var b []byte
	for _, a := range s {
		v := netip.MustParseAddr(a).As4()
		b = append(b, v[:]...)
	}
	return b
}

func testConfig() *config.Config {
	return &config.Config{
		OfferHold:        30 * time.Second,
		DeclineProbation: 10 * time.Minute,
		Subnets: []config.Subnet{
			{
				Prefix:    netip.MustParsePrefix("198.18.0.0/24"),
				Pools:     []config.Range{{First: netip.MustParseAddr("198.18.0.10"), Last: netip.MustParseAddr("198.18.0.19")}},
				LeaseTime: time.Hour,
				Options: []config.Option{
					{Code: dhcpv4.OptRouter, Value: addrs("198.18.0.1")},
					{Code: dhcpv4.OptDNSServers, Value: addrs("198.18.0.53", "198.18.0.54")},
					{Code: dhcpv4.OptDomainName, Value: []byte("example.net")},
					{Code: dhcpv4.OptNTPServers, Value: addrs("198.18.0.123")},
				},
				Reservations: []config.Reservation{
					{HWAddr: net.HardwareAddr{2, 0, 0, 0, 0, 0x50}, Addr: netip.MustParseAddr("198.18.0.50"), Hostname: "printer"},
					{ClientID: []byte("\x00named-client"), Addr: netip.MustParseAddr("198.18.0.51")},
				},
			},
			{
				Prefix:    netip.MustParsePrefix("198.19.0.0/24"),
				Pools:     []config.Range{{First: netip.MustParseAddr("198.19.0.100"), Last: netip.MustParseAddr("198.19.0.101")}},
				LeaseTime: 10 * time.Minute,
				T1:        4 * time.Minute,
				T2:        8 * time.Minute,
				Options:   []config.Option{{Code: dhcpv4.OptRouter, Value: addrs("198.19.0.1")}},
			},
		},
	}
}

func newEnv(t *testing.T, mutate func(*config.Config)) *env {
	t.Helper()
	e := &env{t: t, now: t0, store: &lease.Memory{}, cfg: testConfig()}
	if mutate != nil {
		mutate(e.cfg)
	}
	e.restart()
	return e
}

// restart builds a new engine over the same store, as after a crash.
func (e *env) restart() {
	e.t.Helper()
	eng, err := New(e.cfg, e.store, func() time.Time { return e.now })
	if err != nil {
		e.t.Fatal(err)
	}
	e.eng = eng
}

// direct is an arrival on the server's interface, broadcast.
func direct() Arrival {
	return Arrival{IfIndex: 2, IfName: "eth0", IfAddrs: []netip.Prefix{netip.MustParsePrefix("198.18.0.1/24")},
		Src: netip.MustParseAddrPort("0.0.0.0:68"), Dst: broadcastAll}
}

// unicastTo is an arrival unicast to the server's address.
func unicastTo(src netip.Addr) Arrival {
	a := direct()
	a.Src, a.Dst = netip.AddrPortFrom(src, 68), serverAddr
	return a
}

// relayed is an arrival from a relay, unicast to the server.
func relayed() Arrival {
	a := direct()
	a.Src, a.Dst = netip.AddrPortFrom(relayAddr, 67), serverAddr
	return a
}

type client struct {
	mac  net.HardwareAddr
	cid  []byte // option 61, if any
	xid  uint32
	prl  []byte
	opts []option
}

type option struct {
	code dhcpv4.OptionCode
	val  []byte
}

func newClient(n byte) *client {
	return &client{mac: net.HardwareAddr{2, 0, 0, 0, 0, n}, xid: 0x1000 + uint32(n),
		prl: []byte{1, 3, 6, 15, 51, 54}}
}

func (c *client) packet(t dhcpv4.MessageType, extra ...option) *dhcpv4.Packet {
	p := &dhcpv4.Packet{Op: dhcpv4.BootRequest, XID: c.xid}
	p.SetHardwareAddr(1, c.mac)
	p.CIAddr, p.YIAddr, p.SIAddr, p.GIAddr = netip.IPv4Unspecified(), netip.IPv4Unspecified(), netip.IPv4Unspecified(), netip.IPv4Unspecified()
	p.Options.SetMessageType(t)
	if c.cid != nil {
		p.Options.Set(dhcpv4.OptClientID, c.cid)
	}
	if len(c.prl) > 0 {
		p.Options.Set(dhcpv4.OptParameterRequestList, c.prl)
	}
	for _, o := range append(c.opts, extra...) {
		p.Options.Set(o.code, o.val)
	}
	return p
}

func optAddr(c dhcpv4.OptionCode, a string) option { return option{c, addrs(a)} }

func (e *env) handle(req *dhcpv4.Packet, in Arrival) (Outcome, *dhcpv4.Packet) {
	e.t.Helper()
	// Round-trip the request through the wire format, as the server does.
	b, err := req.Append(nil, 1500)
	if err != nil {
		e.t.Fatal(err)
	}
	var parsed, reply dhcpv4.Packet
	if err := dhcpv4.Parse(b, &parsed); err != nil {
		e.t.Fatal(err)
	}
	out := e.eng.Handle(context.Background(), &parsed, in, &reply)
	if out.Action == Reply {
		wire, err := reply.Append(nil, parsed.MaxMessageSize())
		if err != nil {
			e.t.Fatalf("building reply: %v", err)
		}
		var back dhcpv4.Packet
		if err := dhcpv4.Parse(wire, &back); err != nil {
			e.t.Fatalf("reply does not parse: %v", err)
		}
		return out, &back
	}
	return out, nil
}

// dora runs DISCOVER, OFFER, REQUEST, ACK and returns the acknowledged address.
func (e *env) dora(c *client, in Arrival) netip.Addr {
	e.t.Helper()
	out, offer := e.handle(c.packet(dhcpv4.Discover), in)
	if out.Reason != ReasonOffer {
		e.t.Fatalf("DISCOVER: got %v, want offer", out.Reason)
	}
	sid, _ := offer.Options.Addr(dhcpv4.OptServerID)
	out, ack := e.handle(c.packet(dhcpv4.Request,
		option{dhcpv4.OptServerID, sid.AsSlice()}, option{dhcpv4.OptRequestedIP, offer.YIAddr.AsSlice()}), in)
	if out.Reason != ReasonAck || ack.MessageType() != dhcpv4.Ack {
		e.t.Fatalf("REQUEST: got %v, want ack", out.Reason)
	}
	if ack.YIAddr != offer.YIAddr {
		e.t.Fatalf("ACK yiaddr %v, offer %v", ack.YIAddr, offer.YIAddr)
	}
	return ack.YIAddr
}

func (e *env) stored(a netip.Addr) (lease.Lease, bool) { return e.store.Get(a) }

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

func TestDiscoverOffer(t *testing.T) {
	e := newEnv(t, nil)
	c := newClient(1)
	out, offer := e.handle(c.packet(dhcpv4.Discover), direct())
	if out.Action != Reply || out.Reason != ReasonOffer || offer.MessageType() != dhcpv4.Offer {
		t.Fatalf("outcome %+v", out)
	}
	pool := e.cfg.Subnets[0].Pools[0]
	if offer.YIAddr.Less(pool.First) || pool.Last.Less(offer.YIAddr) {
		t.Errorf("offered %v outside the pool", offer.YIAddr)
	}
	checks := []struct {
		name string
		code dhcpv4.OptionCode
		want []byte
	}{
		{"RFC2132 9.14 server identifier", dhcpv4.OptServerID, addrs("198.18.0.1")},
		{"RFC2131 table 3 lease time", dhcpv4.OptLeaseTime, []byte{0, 0, 0x0e, 0x10}},
		{"RFC2131 4.4.5 T1 default 1/2", dhcpv4.OptRenewalTime, []byte{0, 0, 0x07, 0x08}},
		{"RFC2131 4.4.5 T2 default 7/8", dhcpv4.OptRebindingTime, []byte{0, 0, 0x0c, 0x4e}},
		{"subnet mask from the prefix", dhcpv4.OptSubnetMask, addrs("255.255.255.0")},
		{"router", dhcpv4.OptRouter, addrs("198.18.0.1")},
		{"dns servers", dhcpv4.OptDNSServers, addrs("198.18.0.53", "198.18.0.54")},
		{"domain name", dhcpv4.OptDomainName, []byte("example.net")},
	}
	for _, ck := range checks {
		got, ok := offer.Options.Get(ck.code)
		if !ok || !bytes.Equal(got, ck.want) {
			t.Errorf("%s: option %v = %x (present %v), want %x", ck.name, ck.code, got, ok, ck.want)
		}
	}
	if offer.Options.Has(dhcpv4.OptNTPServers) {
		t.Error("RFC2131 4.3.1: NTP servers sent though not in the parameter request list")
	}
	if _, ok := e.stored(offer.YIAddr); ok {
		t.Error("an offer was committed to the store; only ACKs are")
	}
	if d, to := Destination(c.packet(dhcpv4.Discover), offer); d != dhcpv4.ToHardware || to.Addr() != offer.YIAddr {
		t.Errorf("RFC2131 4.1 unicast to yiaddr at chaddr: got %v %v", d, to)
	}
}

func TestParameterRequestListOrder(t *testing.T) {
	e := newEnv(t, nil)
	c := newClient(1)
	c.prl = []byte{42, 15, 6, 3, 28}
	_, offer := e.handle(c.packet(dhcpv4.Discover), direct())
	var got []dhcpv4.OptionCode
	for code := range offer.Options.All() {
		got = append(got, code)
	}
	want := []dhcpv4.OptionCode{53, 54, 51, 58, 59, 1, 42, 15, 6, 3, 28}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("RFC2131 4.3.1 options in the client's order: got %v, want %v", got, want)
	}
	if b, _ := offer.Options.Addr(dhcpv4.OptBroadcastAddress); b != mustAddr("198.18.0.255") {
		t.Errorf("derived broadcast address %v", b)
	}
}

func TestNoParameterRequestListSendsAllConfigured(t *testing.T) {
	e := newEnv(t, nil)
	c := newClient(1)
	c.prl = nil
	_, offer := e.handle(c.packet(dhcpv4.Discover), direct())
	for _, code := range []dhcpv4.OptionCode{3, 6, 15, 42} {
		if !offer.Options.Has(code) {
			t.Errorf("option %v missing", code)
		}
	}
}

func TestAddressChoice(t *testing.T) {
	tests := []struct {
		name  string
		setup func(e *env, c *client) // before the DISCOVER
		req   []option
		want  string
	}{
		{
			name: "RFC2131 4.3.1 reservation by hardware address",
			setup: func(e *env, c *client) {
				c.mac = net.HardwareAddr{2, 0, 0, 0, 0, 0x50}
			},
			want: "198.18.0.50",
		},
		{
			name: "reservation by hardware address matches a client sending a DUID client identifier",
			setup: func(e *env, c *client) {
				c.mac = net.HardwareAddr{2, 0, 0, 0, 0, 0x50}
				c.cid = []byte{0xff, 0, 0, 0, 1, 0, 2, 0, 0, 0, 1, 2, 3, 4, 5, 6}
			},
			want: "198.18.0.50",
		},
		{
			name:  "reservation by client identifier",
			setup: func(e *env, c *client) { c.cid = []byte("\x00named-client") },
			want:  "198.18.0.51",
		},
		{
			name: "reservation wins over the requested address",
			setup: func(e *env, c *client) {
				c.mac = net.HardwareAddr{2, 0, 0, 0, 0, 0x50}
			},
			req:  []option{optAddr(dhcpv4.OptRequestedIP, "198.18.0.15")},
			want: "198.18.0.50",
		},
		{
			name:  "RFC2131 4.3.1 requested address when valid and free",
			setup: func(e *env, c *client) {},
			req:   []option{optAddr(dhcpv4.OptRequestedIP, "198.18.0.17")},
			want:  "198.18.0.17",
		},
		{
			name: "RFC2131 4.3.1 current binding before the requested address",
			setup: func(e *env, c *client) {
				got := e.dora(c, direct())
				if got == mustAddr("198.18.0.17") {
					e.t.Fatal("test needs a different first address")
				}
				c.opts = nil
			},
			req:  []option{optAddr(dhcpv4.OptRequestedIP, "198.18.0.17")},
			want: "bound",
		},
		{
			name: "RFC2131 4.3.1 previous address after release, if still free",
			setup: func(e *env, c *client) {
				a := e.dora(c, direct())
				rel := c.packet(dhcpv4.Release, optAddr(dhcpv4.OptServerID, "198.18.0.1"))
				rel.CIAddr = a
				if out, _ := e.handle(rel, unicastTo(a)); out.Reason != ReasonReleased {
					e.t.Fatalf("release: %v", out.Reason)
				}
				// Another client takes the next address meanwhile.
				e.dora(newClient(9), direct())
			},
			want: "bound",
		},
		{
			name: "requested address outside the pool is ignored",
			req:  []option{optAddr(dhcpv4.OptRequestedIP, "198.18.0.200")},
			want: "198.18.0.10",
		},
		{
			name: "requested address reserved for another client is ignored",
			req:  []option{optAddr(dhcpv4.OptRequestedIP, "198.18.0.50")},
			want: "198.18.0.10",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(c *config.Config) {
				// The reservation is inside the pool for the "requested
				// address reserved" case to mean something.
				c.Subnets[0].Pools[0].Last = mustAddr("198.18.0.60")
			})
			c := newClient(1)
			var bound netip.Addr
			if tc.setup != nil {
				tc.setup(e, c)
				if b := e.eng.subnets[0].byClient[string(append([]byte{1}, c.mac...))]; b != nil {
					bound = b.addr
				}
				if c.cid != nil {
					if b := e.eng.subnets[0].byClient[string(c.cid)]; b != nil {
						bound = b.addr
					}
				}
			}
			out, offer := e.handle(c.packet(dhcpv4.Discover, tc.req...), direct())
			if out.Reason != ReasonOffer {
				t.Fatalf("got %v", out.Reason)
			}
			want := tc.want
			if want == "bound" {
				want = bound.String()
			}
			if offer.YIAddr.String() != want {
				t.Errorf("offered %v, want %v", offer.YIAddr, want)
			}
		})
	}
}

func TestReservationHostName(t *testing.T) {
	e := newEnv(t, nil)
	c := newClient(0x50)
	c.prl = []byte{1, 12}
	_, offer := e.handle(c.packet(dhcpv4.Discover), direct())
	if h, _ := offer.Options.Get(dhcpv4.OptHostName); string(h) != "printer" {
		t.Errorf("host name %q, want printer", h)
	}
}

func TestPoolExhaustedAndNoSubnet(t *testing.T) {
	e := newEnv(t, nil)
	// The relayed subnet has two addresses.
	in := relayed()
	for i := byte(1); i <= 2; i++ {
		c := newClient(i)
		p := c.packet(dhcpv4.Discover)
		p.GIAddr = relayAddr
		if out, _ := e.handle(p, in); out.Reason != ReasonOffer {
			t.Fatalf("client %d: %v", i, out.Reason)
		}
	}
	p := newClient(3).packet(dhcpv4.Discover)
	p.GIAddr = relayAddr
	if out, reply := e.handle(p, in); out.Action != Drop || out.Reason != ReasonExhausted || reply != nil {
		t.Errorf("third client: got %v %v, want silence (pool-exhausted)", out.Action, out.Reason)
	}
	// Offers lapse after the hold time: the pool serves again.
	e.now = e.now.Add(31 * time.Second)
	if out, _ := e.handle(p, in); out.Reason != ReasonOffer {
		t.Errorf("after the offer hold: got %v, want offer", out.Reason)
	}

	q := newClient(4).packet(dhcpv4.Discover)
	q.GIAddr = mustAddr("198.20.0.1")
	if out, _ := e.handle(q, in); out.Action != Drop || out.Reason != ReasonNoSubnet {
		t.Errorf("unknown relay network: got %v, want no-subnet", out.Reason)
	}
	other := direct()
	other.IfAddrs = []netip.Prefix{netip.MustParsePrefix("198.20.0.1/24")}
	if out, _ := e.handle(newClient(5).packet(dhcpv4.Discover), other); out.Reason != ReasonNoSubnet {
		t.Errorf("interface without subnet: got %v, want no-subnet", out.Reason)
	}
}

func TestRelayedService(t *testing.T) {
	e := newEnv(t, nil)
	c := newClient(1)
	info := dhcpv4.AppendSubOption(nil, dhcpv4.RelayCircuitID, []byte("port7"))
	info = dhcpv4.AppendSubOption(info, dhcpv4.RelayRemoteID, []byte("switch1"))
	p := c.packet(dhcpv4.Discover, option{dhcpv4.OptRelayAgentInfo, info})
	p.GIAddr = relayAddr
	p.Hops = 1
	out, offer := e.handle(p, relayed())
	if out.Reason != ReasonOffer {
		t.Fatalf("got %v", out.Reason)
	}
	if !netip.MustParsePrefix("198.19.0.0/24").Contains(offer.YIAddr) {
		t.Errorf("relayed client got %v, want the relay's subnet", offer.YIAddr)
	}
	if offer.GIAddr != relayAddr {
		t.Errorf("giaddr %v not copied", offer.GIAddr)
	}
	codes := offer.Options.Codes()
	if codes[len(codes)-1] != dhcpv4.OptRelayAgentInfo {
		t.Errorf("RFC3046 2.2: option 82 must be echoed last, got order %v", codes)
	}
	if v, _ := offer.Options.Get(dhcpv4.OptRelayAgentInfo); !bytes.Equal(v, info) {
		t.Errorf("RFC3046 2.2: option 82 echoed as %x, want %x", v, info)
	}
	if sid, _ := offer.Options.Addr(dhcpv4.OptServerID); sid != serverAddr {
		t.Errorf("server id %v, want the address the relay reached", sid)
	}
	if d, to := Destination(p, offer); d != dhcpv4.ToRelay || to != netip.AddrPortFrom(relayAddr, 67) {
		t.Errorf("RFC2131 4.1 reply to the relay at port 67: got %v %v", d, to)
	}
	if lt, _ := offer.Options.Duration(dhcpv4.OptRenewalTime); lt != 4*time.Minute {
		t.Errorf("configured T1 %v", lt)
	}
}

func TestLinkSelection(t *testing.T) {
	e := newEnv(t, nil)
	c := newClient(1)
	info := dhcpv4.AppendSubOption(nil, dhcpv4.RelayLinkSelection, addrs("198.19.0.0"))
	p := c.packet(dhcpv4.Discover, option{dhcpv4.OptRelayAgentInfo, info})
	p.GIAddr = mustAddr("198.18.0.254") // the relay's own address elsewhere
	_, offer := e.handle(p, relayed())
	if offer == nil || !netip.MustParsePrefix("198.19.0.0/24").Contains(offer.YIAddr) {
		t.Errorf("RFC3527 link selection: got %v", offer)
	}
}

func TestClientIdentifierEcho(t *testing.T) {
	e := newEnv(t, nil)
	c := newClient(1)
	c.cid = []byte{1, 2, 0, 0, 0, 0, 1}
	_, offer := e.handle(c.packet(dhcpv4.Discover), direct())
	if v, _ := offer.Options.Get(dhcpv4.OptClientID); !bytes.Equal(v, c.cid) {
		t.Errorf("RFC6842: client identifier echoed as %x", v)
	}
}

func TestSelecting(t *testing.T) {
	e := newEnv(t, nil)
	c := newClient(1)
	_, offer := e.handle(c.packet(dhcpv4.Discover), direct())

	// Another server was chosen: the offer returns to the pool at once.
	out, reply := e.handle(c.packet(dhcpv4.Request, optAddr(dhcpv4.OptServerID, "198.18.0.2"),
		option{dhcpv4.OptRequestedIP, offer.YIAddr.AsSlice()}), direct())
	if out.Action != Drop || out.Reason != ReasonOfferWithdrawn || reply != nil || out.Addr != offer.YIAddr {
		t.Fatalf("RFC2131 4.3.2 other server selected: got %v %v %v", out.Action, out.Reason, out.Addr)
	}
	if !e.eng.subnets[0].pool.IsFree(offer.YIAddr) {
		t.Error("withdrawn offer's address is not free")
	}

	// Our server chosen, for an address nobody holds: ACK (offer lapsed).
	out, ack := e.handle(c.packet(dhcpv4.Request, optAddr(dhcpv4.OptServerID, "198.18.0.1"),
		option{dhcpv4.OptRequestedIP, offer.YIAddr.AsSlice()}), direct())
	if out.Reason != ReasonAck || ack.YIAddr != offer.YIAddr {
		t.Fatalf("got %v", out.Reason)
	}
	l, ok := e.stored(offer.YIAddr)
	if !ok || l.State != lease.Bound || !l.Expiry.Equal(t0.Add(time.Hour)) || l.ClientID != "\x01\x02\x00\x00\x00\x00\x01" {
		t.Errorf("committed lease %+v (present %v)", l, ok)
	}

	// A second client asks for the first client's address: NAK.
	c2 := newClient(2)
	out, nak := e.handle(c2.packet(dhcpv4.Request, optAddr(dhcpv4.OptServerID, "198.18.0.1"),
		option{dhcpv4.OptRequestedIP, offer.YIAddr.AsSlice()}), direct())
	if out.Reason != ReasonNakAddress || nak.MessageType() != dhcpv4.Nak {
		t.Fatalf("RFC2131 4.3.2 address of another client: got %v", out.Reason)
	}
	if isSet(nak.YIAddr) || nak.Options.Has(dhcpv4.OptLeaseTime) || !nak.Options.Has(dhcpv4.OptServerID) {
		t.Errorf("RFC2131 table 3 NAK fields: %v", nak)
	}
	if d, _ := Destination(c2.packet(dhcpv4.Request), nak); d != dhcpv4.ToBroadcast {
		t.Errorf("RFC2131 4.1 NAK is broadcast, got %v", d)
	}
}

func TestInitReboot(t *testing.T) {
	tests := []struct {
		name          string
		authoritative bool
		known         bool   // the client did DORA first
		ask           string // requested address; "bound" = its lease
		want          Reason
	}{
		{"RFC2131 4.3.2 INIT-REBOOT own lease -> ACK", false, true, "bound", ReasonAck},
		{"RFC2131 4.3.2 INIT-REBOOT wrong address -> NAK", false, true, "198.18.0.18", ReasonNakAddress},
		{"RFC2131 4.3.2 INIT-REBOOT wrong network -> NAK", false, true, "198.30.0.5", ReasonNakNetwork},
		{"RFC2131 4.3.2 INIT-REBOOT unknown client -> silence", false, false, "198.18.0.18", ReasonUnknownClient},
		{"INIT-REBOOT unknown client, authoritative, free -> ACK", true, false, "198.18.0.18", ReasonAck},
		{"INIT-REBOOT unknown client, authoritative, in use -> NAK", true, false, "taken", ReasonNakAddress},
		{"INIT-REBOOT unknown client, wrong network -> NAK even when not authoritative", false, false, "198.30.0.5", ReasonNakNetwork},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(c *config.Config) { c.Subnets[0].Authoritative = tc.authoritative })
			c := newClient(1)
			var bound netip.Addr
			if tc.known {
				bound = e.dora(c, direct())
			}
			ask := tc.ask
			switch ask {
			case "bound":
				ask = bound.String()
			case "taken":
				ask = e.dora(newClient(7), direct()).String()
			}
			out, reply := e.handle(c.packet(dhcpv4.Request, optAddr(dhcpv4.OptRequestedIP, ask)), direct())
			if out.Reason != tc.want {
				t.Fatalf("got %v, want %v", out.Reason, tc.want)
			}
			switch tc.want {
			case ReasonAck:
				if reply.YIAddr.String() != ask {
					t.Errorf("ACK for %v, asked %v", reply.YIAddr, ask)
				}
				if l, ok := e.stored(reply.YIAddr); !ok || l.State != lease.Bound {
					t.Error("ACKed lease not committed")
				}
			case ReasonUnknownClient:
				if reply != nil {
					t.Error("silence expected")
				}
			default:
				if reply.MessageType() != dhcpv4.Nak {
					t.Errorf("got %v, want NAK", reply.MessageType())
				}
			}
		})
	}
}

func TestRenewRebind(t *testing.T) {
	e := newEnv(t, nil)
	c := newClient(1)
	a := e.dora(c, direct())

	// RENEWING at T1: unicast with ciaddr, no server id, no requested address.
	e.now = e.now.Add(30 * time.Minute)
	p := c.packet(dhcpv4.Request)
	p.CIAddr = a
	out, ack := e.handle(p, unicastTo(a))
	if out.Reason != ReasonAck || ack.YIAddr != a || ack.CIAddr != a {
		t.Fatalf("RFC2131 4.3.2 RENEWING: got %v yiaddr %v ciaddr %v", out.Reason, ack.YIAddr, ack.CIAddr)
	}
	if l, _ := e.stored(a); !l.Expiry.Equal(e.now.Add(time.Hour)) {
		t.Errorf("renewed expiry %v, want %v", l.Expiry, e.now.Add(time.Hour))
	}
	if d, to := Destination(p, ack); d != dhcpv4.ToClientAddr || to.Addr() != a {
		t.Errorf("RFC2131 4.1 reply to ciaddr: %v %v", d, to)
	}

	// REBINDING at T2: broadcast with ciaddr.
	e.now = e.now.Add(53 * time.Minute)
	out, ack = e.handle(p, direct())
	if out.Reason != ReasonAck || ack.YIAddr != a {
		t.Fatalf("RFC2131 4.3.2 REBINDING: got %v", out.Reason)
	}

	// REBINDING on the wrong network: NAK.
	q := c.packet(dhcpv4.Request)
	q.CIAddr = mustAddr("198.19.0.100")
	if out, _ := e.handle(q, direct()); out.Reason != ReasonNakNetwork {
		t.Errorf("REBINDING on the wrong network: got %v", out.Reason)
	}

	// After expiry another client takes the address; the late renewal is refused.
	e.now = e.now.Add(2 * time.Hour)
	if n := e.eng.Sweep(); n != 1 {
		t.Errorf("sweep reclaimed %d, want 1", n)
	}
	other := newClient(2)
	_, offer := e.handle(other.packet(dhcpv4.Discover, option{dhcpv4.OptRequestedIP, a.AsSlice()}), direct())
	if offer.YIAddr != a {
		t.Fatalf("expired address not reusable: got %v", offer.YIAddr)
	}
	e.dora(other, direct())
	if out, _ := e.handle(p, unicastTo(a)); out.Reason != ReasonNakAddress {
		t.Errorf("renewal of an address now leased to another: got %v, want NAK", out.Reason)
	}
}

func TestExpiredLeaseStaysSticky(t *testing.T) {
	e := newEnv(t, nil)
	c := newClient(1)
	a := e.dora(c, direct())
	e.now = e.now.Add(2 * time.Hour)
	e.eng.Sweep()
	_, offer := e.handle(c.packet(dhcpv4.Discover), direct())
	if offer.YIAddr != a {
		t.Errorf("after expiry the client got %v, want its previous %v", offer.YIAddr, a)
	}
}

func TestRelease(t *testing.T) {
	e := newEnv(t, func(c *config.Config) {
		c.Subnets[0].Pools[0].Last = c.Subnets[0].Pools[0].First // a pool of one
	})
	c1, c2 := newClient(1), newClient(2)
	a := e.dora(c1, direct())
	if out, _ := e.handle(c2.packet(dhcpv4.Discover), direct()); out.Reason != ReasonExhausted {
		t.Fatalf("pool of one: second client got %v", out.Reason)
	}
	// A RELEASE from someone else does nothing.
	fake := c2.packet(dhcpv4.Release)
	fake.CIAddr = a
	if out, _ := e.handle(fake, unicastTo(a)); out.Reason != ReasonNoBinding {
		t.Errorf("release by another client: got %v", out.Reason)
	}
	rel := c1.packet(dhcpv4.Release, optAddr(dhcpv4.OptServerID, "198.18.0.1"))
	rel.CIAddr = a
	out, reply := e.handle(rel, unicastTo(a))
	if out.Reason != ReasonReleased || reply != nil {
		t.Fatalf("RFC2131 4.3.4 RELEASE: got %v", out.Reason)
	}
	if l, _ := e.stored(a); l.State != lease.Released {
		t.Errorf("store holds %v, want released", l.State)
	}
	if got := e.dora(c2, direct()); got != a {
		t.Errorf("after release the second client got %v, want %v", got, a)
	}
}

func TestDecline(t *testing.T) {
	e := newEnv(t, func(c *config.Config) {
		c.Subnets[0].Pools[0].Last = mustAddr("198.18.0.11") // two addresses
	})
	c := newClient(1)
	a := e.dora(c, direct())
	out, reply := e.handle(c.packet(dhcpv4.Decline, option{dhcpv4.OptRequestedIP, a.AsSlice()},
		optAddr(dhcpv4.OptServerID, "198.18.0.1")), direct())
	if out.Reason != ReasonDeclined || reply != nil {
		t.Fatalf("RFC2131 4.3.3 DECLINE: got %v", out.Reason)
	}
	if l, _ := e.stored(a); l.State != lease.Declined || !l.Expiry.Equal(e.now.Add(10*time.Minute)) {
		t.Errorf("stored %+v, want declined until probation end", l)
	}
	// During probation nobody gets it: the client gets the other address,
	// and a third client finds the pool exhausted.
	_, offer := e.handle(c.packet(dhcpv4.Discover), direct())
	if offer.YIAddr == a {
		t.Fatal("declined address offered again during probation")
	}
	e.dora(c, direct())
	if out, _ := e.handle(newClient(3).packet(dhcpv4.Discover), direct()); out.Reason != ReasonExhausted {
		t.Errorf("got %v, want exhausted during probation", out.Reason)
	}
	// After probation it returns.
	e.now = e.now.Add(11 * time.Minute)
	if _, offer := e.handle(newClient(3).packet(dhcpv4.Discover), direct()); offer == nil || offer.YIAddr != a {
		t.Errorf("after probation: got %v, want %v", offer, a)
	}
	// A DECLINE for an address the client does not hold is ignored.
	if out, _ := e.handle(newClient(4).packet(dhcpv4.Decline, optAddr(dhcpv4.OptRequestedIP, "198.18.0.11")), direct()); out.Reason != ReasonNoBinding {
		t.Errorf("stray DECLINE: got %v", out.Reason)
	}
}

func TestDeclineSurvivesRestart(t *testing.T) {
	e := newEnv(t, func(c *config.Config) { c.Subnets[0].Pools[0].Last = mustAddr("198.18.0.10") })
	c := newClient(1)
	a := e.dora(c, direct())
	e.handle(c.packet(dhcpv4.Decline, option{dhcpv4.OptRequestedIP, a.AsSlice()}), direct())
	e.restart()
	if out, _ := e.handle(newClient(2).packet(dhcpv4.Discover), direct()); out.Reason != ReasonExhausted {
		t.Errorf("declined address offered after restart: %v", out.Reason)
	}
}

func TestInform(t *testing.T) {
	e := newEnv(t, nil)
	c := newClient(1)
	p := c.packet(dhcpv4.Inform)
	p.CIAddr = mustAddr("198.18.0.200") // a static address
	out, ack := e.handle(p, unicastTo(p.CIAddr))
	if out.Reason != ReasonInformAck || ack.MessageType() != dhcpv4.Ack {
		t.Fatalf("RFC2131 4.3.5 INFORM: got %v", out.Reason)
	}
	if isSet(ack.YIAddr) || ack.Options.Has(dhcpv4.OptLeaseTime) || ack.Options.Has(dhcpv4.OptRenewalTime) {
		t.Errorf("RFC2131 4.3.5: no yiaddr and no lease time in the ACK to INFORM: %v", ack)
	}
	if !ack.Options.Has(dhcpv4.OptDNSServers) || ack.CIAddr != p.CIAddr {
		t.Errorf("INFORM ACK lacks options or ciaddr: %v", ack)
	}
	if d, to := Destination(p, ack); d != dhcpv4.ToClientAddr || to.Addr() != p.CIAddr {
		t.Errorf("INFORM reply to ciaddr: %v %v", d, to)
	}
	if e.store.Len() != 0 {
		t.Error("INFORM created a lease")
	}
}

func TestNakThroughRelaySetsBroadcast(t *testing.T) {
	e := newEnv(t, nil)
	c := newClient(1)
	p := c.packet(dhcpv4.Request, optAddr(dhcpv4.OptRequestedIP, "198.18.0.10"))
	p.GIAddr = relayAddr
	out, nak := e.handle(p, relayed())
	if out.Reason != ReasonNakNetwork || !nak.Broadcast() {
		t.Errorf("RFC2131 4.3.2 NAK via relay with broadcast bit: %v %v", out.Reason, nak)
	}
}

func TestCommitFailureMeansNoAck(t *testing.T) {
	e := newEnv(t, nil)
	c := newClient(1)
	_, offer := e.handle(c.packet(dhcpv4.Discover), direct())
	e.store.Fail = errors.New("disk full")
	req := c.packet(dhcpv4.Request, optAddr(dhcpv4.OptServerID, "198.18.0.1"), option{dhcpv4.OptRequestedIP, offer.YIAddr.AsSlice()})
	out, reply := e.handle(req, direct())
	if out.Action != Drop || out.Reason != ReasonCommitFailed || reply != nil || out.Err == nil {
		t.Fatalf("commit failure: got %v %v", out.Action, out.Reason)
	}
	// The offer is restored, so the retransmitted REQUEST succeeds once the
	// disk recovers.
	if b := e.eng.subnets[0].bindings[offer.YIAddr]; b == nil || b.state != stOffered {
		t.Errorf("binding after failed commit: %+v", b)
	}
	e.store.Fail = nil
	if out, _ := e.handle(req, direct()); out.Reason != ReasonAck {
		t.Errorf("after recovery: %v", out.Reason)
	}
}

func TestRestartKeepsLeases(t *testing.T) {
	e := newEnv(t, nil)
	c := newClient(1)
	a := e.dora(c, direct())
	e.restart()
	// Another client cannot get it.
	other := newClient(2)
	_, offer := e.handle(other.packet(dhcpv4.Discover, option{dhcpv4.OptRequestedIP, a.AsSlice()}), direct())
	if offer.YIAddr == a {
		t.Fatal("after restart a leased address was offered to another client")
	}
	// The owner renews it.
	p := c.packet(dhcpv4.Request)
	p.CIAddr = a
	if out, _ := e.handle(p, unicastTo(a)); out.Reason != ReasonAck {
		t.Errorf("renewal after restart: %v", out.Reason)
	}
	// INIT-REBOOT after restart.
	if out, _ := e.handle(c.packet(dhcpv4.Request, option{dhcpv4.OptRequestedIP, a.AsSlice()}), direct()); out.Reason != ReasonAck {
		t.Errorf("INIT-REBOOT after restart: %v", out.Reason)
	}
}

func TestMalformedAndUnsupported(t *testing.T) {
	e := newEnv(t, nil)
	c := newClient(1)
	reply := c.packet(dhcpv4.Offer)
	reply.Op = dhcpv4.BootReply
	bootp := c.packet(dhcpv4.Discover)
	bootp.Options.Del(dhcpv4.OptMessageType)
	noAddr := c.packet(dhcpv4.Request) // no server id, no requested address, no ciaddr
	tests := []struct {
		name string
		p    *dhcpv4.Packet
		want Reason
	}{
		{"BOOTREPLY from a client is dropped", reply, ReasonMalformed},
		{"plain BOOTP without message type is dropped", bootp, ReasonMalformed},
		{"REQUEST without any address is dropped", noAddr, ReasonMalformed},
		{"a server message type from a client is dropped", c.packet(dhcpv4.Ack), ReasonUnsupported},
	}
	for _, tc := range tests {
		if out, r := e.handle(tc.p, direct()); out.Action != Drop || out.Reason != tc.want || r != nil {
			t.Errorf("%s: got %v %v", tc.name, out.Action, out.Reason)
		}
	}
}

func TestDestination(t *testing.T) {
	c := newClient(1)
	mk := func(f func(p *dhcpv4.Packet)) *dhcpv4.Packet { p := c.packet(dhcpv4.Discover); f(p); return p }
	offer := &dhcpv4.Packet{YIAddr: mustAddr("198.18.0.10")}
	offer.Options.SetMessageType(dhcpv4.Offer)
	nak := &dhcpv4.Packet{YIAddr: netip.IPv4Unspecified()}
	nak.Options.SetMessageType(dhcpv4.Nak)
	tests := []struct {
		name  string
		req   *dhcpv4.Packet
		reply *dhcpv4.Packet
		want  dhcpv4.Delivery
		to    string
	}{
		{"RFC2131 4.1 giaddr set -> relay port 67", mk(func(p *dhcpv4.Packet) { p.GIAddr = relayAddr }), offer, dhcpv4.ToRelay, "198.19.0.1:67"},
		{"RFC2131 4.1 NAK via relay -> relay", mk(func(p *dhcpv4.Packet) { p.GIAddr = relayAddr }), nak, dhcpv4.ToRelay, "198.19.0.1:67"},
		{"RFC2131 4.1 NAK direct -> broadcast", mk(func(p *dhcpv4.Packet) { p.CIAddr = mustAddr("198.18.0.5") }), nak, dhcpv4.ToBroadcast, "255.255.255.255:68"},
		{"RFC2131 4.1 ciaddr set -> unicast ciaddr", mk(func(p *dhcpv4.Packet) { p.CIAddr = mustAddr("198.18.0.5") }), offer, dhcpv4.ToClientAddr, "198.18.0.5:68"},
		{"RFC2131 4.1 broadcast bit -> broadcast", mk(func(p *dhcpv4.Packet) { p.Flags = dhcpv4.FlagBroadcast }), offer, dhcpv4.ToBroadcast, "255.255.255.255:68"},
		{"RFC2131 4.1 otherwise -> yiaddr at chaddr", mk(func(p *dhcpv4.Packet) {}), offer, dhcpv4.ToHardware, "198.18.0.10:68"},
	}
	for _, tc := range tests {
		d, to := Destination(tc.req, tc.reply)
		if d != tc.want || to.String() != tc.to {
			t.Errorf("%s: got %v %v, want %v %v", tc.name, d, to, tc.want, tc.to)
		}
	}
}

func TestConcurrentClientsGetDistinctAddresses(t *testing.T) {
	e := newEnv(t, func(c *config.Config) {
		c.Subnets[0].Pools[0] = config.Range{First: mustAddr("198.18.0.10"), Last: mustAddr("198.18.0.249")}
		c.Subnets[0].Reservations = nil
	})
	const clients = 200
	var wg sync.WaitGroup
	got := make([]netip.Addr, clients)
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &client{mac: net.HardwareAddr{2, 0, 0, 1, byte(i >> 8), byte(i)}, xid: uint32(i)}
			var req, reply dhcpv4.Packet
			for range 3 { // DORA, then two renewals of the bound address
				out := e.eng.Handle(context.Background(), c.packet(dhcpv4.Discover), direct(), &reply)
				if out.Reason != ReasonOffer {
					t.Errorf("client %d: %v", i, out.Reason)
					return
				}
				req = *c.packet(dhcpv4.Request, optAddr(dhcpv4.OptServerID, "198.18.0.1"), option{dhcpv4.OptRequestedIP, reply.YIAddr.AsSlice()})
				if out := e.eng.Handle(context.Background(), &req, direct(), &reply); out.Reason != ReasonAck {
					t.Errorf("client %d: %v", i, out.Reason)
					return
				}
				got[i] = reply.YIAddr
			}
		}()
	}
	wg.Wait()
	seen := map[netip.Addr]int{}
	for i, a := range got {
		if j, dup := seen[a]; dup {
			t.Fatalf("clients %d and %d both got %v", j, i, a)
		}
		seen[a] = i
	}
	if e.store.Len() != clients {
		t.Errorf("store holds %d leases, want %d", e.store.Len(), clients)
	}
}

func TestRenewalsKeepOneTimerPerBinding(t *testing.T) {
	e := newEnv(t, nil)
	c := newClient(1)
	a := e.dora(c, direct())
	p := c.packet(dhcpv4.Request)
	p.CIAddr = a
	for range 1000 {
		e.now = e.now.Add(time.Second)
		if out, _ := e.handle(p, unicastTo(a)); out.Reason != ReasonAck {
			t.Fatal(out.Reason)
		}
	}
	if n := e.eng.subnets[0].timers.len(); n > 2 {
		t.Errorf("%d timers queued for one binding after 1000 renewals", n)
	}
	// The early timer re-arms instead of expiring the renewed lease.
	e.now = e.now.Add(59 * time.Minute)
	if n := e.eng.Sweep(); n != 0 {
		t.Errorf("sweep expired %d renewed leases", n)
	}
	if out, _ := e.handle(newClient(2).packet(dhcpv4.Discover, option{dhcpv4.OptRequestedIP, a.AsSlice()}), direct()); out.Addr == a {
		t.Error("renewed address offered to another client")
	}
	e.now = e.now.Add(2 * time.Minute)
	if n := e.eng.Sweep(); n != 2 {
		t.Errorf("sweep after the renewed expiry reclaimed %d, want 2 (the lease and the other client's lapsed offer)", n)
	}
	if !e.eng.subnets[0].pool.IsFree(a) {
		t.Error("expired lease's address not back in the pool")
	}
}

func TestRelayMatchPoolsAndReservations(t *testing.T) {
	e := newEnv(t, func(c *config.Config) {
		s := &c.Subnets[1]
		s.Pools = []config.Range{
			{First: mustAddr("198.19.0.100"), Last: mustAddr("198.19.0.101")},
			{First: mustAddr("198.19.0.150"), Last: mustAddr("198.19.0.150"), Match: config.RelayMatch{CircuitID: "port7"}},
			{First: mustAddr("198.19.0.160"), Last: mustAddr("198.19.0.160"), Match: config.RelayMatch{RemoteID: "sw2"}},
		}
		s.Reservations = []config.Reservation{{Relay: config.RelayMatch{CircuitID: "port9"}, Addr: mustAddr("198.19.0.9")}}
	})
	discover := func(n byte, circuit, remote string) Outcome {
		c := newClient(n)
		var extra []option
		if circuit != "" || remote != "" {
			var info []byte
			if circuit != "" {
				info = dhcpv4.AppendSubOption(info, dhcpv4.RelayCircuitID, []byte(circuit))
			}
			if remote != "" {
				info = dhcpv4.AppendSubOption(info, dhcpv4.RelayRemoteID, []byte(remote))
			}
			extra = append(extra, option{dhcpv4.OptRelayAgentInfo, info})
		}
		p := c.packet(dhcpv4.Discover, extra...)
		p.GIAddr = relayAddr
		out, _ := e.handle(p, relayed())
		return out
	}
	tests := []struct {
		name            string
		n               byte
		circuit, remote string
		want            string
	}{
		{"RFC3046 circuit-id selects the pool kept for it", 1, "port7", "", "198.19.0.150"},
		{"remote-id selects the pool kept for it", 2, "x", "sw2", "198.19.0.160"},
		{"reservation by circuit-id", 3, "port9", "", "198.19.0.9"},
		{"a kept pool that is full falls back to the open pools", 4, "port7", "", "198.19.0.100"},
		{"an unmatched client never gets a kept pool's address", 5, "", "", "198.19.0.101"},
		{"and finds the open pools exhausted", 6, "port8", "", ""},
	}
	for _, tc := range tests {
		out := discover(tc.n, tc.circuit, tc.remote)
		got := ""
		if out.Reason == ReasonOffer {
			got = out.Addr.String()
		}
		if got != tc.want {
			t.Errorf("%s: got %q (%v), want %q", tc.name, got, out.Reason, tc.want)
		}
	}
	// A client may not REQUEST an address from a pool kept for others.
	c := newClient(7)
	p := c.packet(dhcpv4.Request, optAddr(dhcpv4.OptServerID, "198.18.0.1"), optAddr(dhcpv4.OptRequestedIP, "198.19.0.160"))
	p.GIAddr = relayAddr
	e.now = e.now.Add(time.Minute) // all offers lapsed
	if out, _ := e.handle(p, relayed()); out.Reason != ReasonNakAddress {
		t.Errorf("REQUEST for a kept pool's address from an unmatched client: %v", out.Reason)
	}
}

func TestServerIDOverride(t *testing.T) {
	e := newEnv(t, nil)
	c := newClient(1)
	info := dhcpv4.AppendSubOption(nil, dhcpv4.RelayServerIDOverride, addrs("198.19.0.1"))
	p := c.packet(dhcpv4.Discover, option{dhcpv4.OptRelayAgentInfo, info})
	p.GIAddr = relayAddr
	_, offer := e.handle(p, relayed())
	if sid, _ := offer.Options.Addr(dhcpv4.OptServerID); sid != relayAddr {
		t.Fatalf("RFC5107 4: server identifier %v, want the override %v", sid, relayAddr)
	}
	// The client's REQUEST names the override; it is ours.
	q := c.packet(dhcpv4.Request, option{dhcpv4.OptRelayAgentInfo, info}, optAddr(dhcpv4.OptServerID, "198.19.0.1"),
		option{dhcpv4.OptRequestedIP, offer.YIAddr.AsSlice()})
	q.GIAddr = relayAddr
	if out, _ := e.handle(q, relayed()); out.Reason != ReasonAck {
		t.Errorf("RFC5107: REQUEST naming the override: %v", out.Reason)
	}
}

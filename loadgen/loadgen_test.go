package loadgen

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"

	"leased/config"
	"leased/dhcpv4"
	"leased/lease"
	"leased/netio"
	"leased/server"
	"leased/udp4"
)

// testTimeout is long, so that a slow shared machine cannot turn a late
// reply into a failure: these tests check counts, never speed.
const testTimeout = 10 * time.Second

// loopbackServer runs leased's sockets and engine on 127.0.0.1 with the
// store given, serving the relayed subnet 127.0.0.0/16 from pool, and
// replying to relays on relayPort. It returns the server's address.
func loopbackServer(t testing.TB, store lease.Store, pool config.Range, relayPort uint16) netip.AddrPort {
	t.Helper()
	cfg := &config.Config{
		OfferHold:        30 * time.Second,
		DeclineProbation: time.Minute,
		Subnets: []config.Subnet{{
			Prefix:    netip.MustParsePrefix("127.0.0.0/16"),
			Pools:     []config.Range{pool},
			LeaseTime: 300 * time.Second,
		}},
	}
	eng, err := server.New(cfg, store, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := netio.Listen(netio.Options{Addr: netip.MustParseAddrPort("127.0.0.1:0"), RelayPort: relayPort})
	if err != nil {
		t.Skipf("cannot listen on loopback: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, eng) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Error(err)
			}
		case <-time.After(testTimeout):
			t.Error("server did not stop")
		}
	})
	return srv.LocalAddr()
}

// newLoopback opens a generator on 127.0.0.1 with cfg's load, and a server
// for it.
func newLoopback(t testing.TB, cfg Config, store lease.Store, pool config.Range) *Generator {
	t.Helper()
	cfg.Local = netip.MustParseAddrPort("127.0.0.1:0")
	cfg.Server = netip.MustParseAddrPort("127.0.0.1:1") // replaced below
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	g.cfg.Server = loopbackServer(t, store, pool, g.LocalAddr().Port())
	return g
}

func pool(first, last string) config.Range {
	return config.Range{First: netip.MustParseAddr(first), Last: netip.MustParseAddr(last)}
}

func TestRunAgainstLeasedOnLoopback(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		pool config.Range
		// want is the expected result's counts; latencies are checked
		// for consistency only.
		want Result
		// bound is the number of leases the store must hold, one per
		// client, each for the address the generator saw ACKed.
		bound int
	}{
		{
			name:  "RFC2131 3.1 closed loop: every DORA ACKed, one address per client",
			cfg:   Config{Clients: 200, Outstanding: 32, Count: 2000},
			pool:  pool("127.0.0.10", "127.0.0.250"),
			want:  Result{Started: 2000, Offers: 2000, Requests: 2000, Acks: 2000},
			bound: 200,
		},
		{
			name:  "RFC2131 3.1 open loop at a rate: every DORA ACKed",
			cfg:   Config{Clients: 500, Rate: 5000, Count: 500}, // no client is reused: none can be busy
			pool:  pool("127.0.1.0", "127.0.2.255"),
			want:  Result{Started: 500, Offers: 500, Requests: 500, Acks: 500},
			bound: 500,
		},
		{
			name:  "RFC2131 4.3.1 DISCOVER only: OFFERs and nothing committed",
			cfg:   Config{Clients: 50, Outstanding: 8, Count: 300, DiscoverOnly: true},
			pool:  pool("127.0.0.10", "127.0.0.250"),
			want:  Result{DiscoverOnly: true, Started: 300, Offers: 300},
			bound: 0,
		},
		{
			name: "RFC2131 4.3.1 pool exhausted: the server stays silent and those exchanges are lost",
			cfg:  Config{Clients: 20, Outstanding: 20, Count: 20, Timeout: 2 * time.Second},
			pool: pool("127.0.0.10", "127.0.0.20"),
			// 11 addresses for 20 clients.
			want:  Result{Started: 20, Offers: 11, Requests: 11, Acks: 11, OfferTimeouts: 9},
			bound: 11,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.cfg.Timeout == 0 {
				tt.cfg.Timeout = testTimeout
			}
			store := &lease.Memory{}
			g := newLoopback(t, tt.cfg, store, tt.pool)
			res, err := g.Run(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			got := *res
			got.Elapsed, got.Offer, got.Ack, got.Exchange = 0, Latency{}, Latency{}, Latency{}
			if got != tt.want {
				t.Errorf("result\n got %+v\nwant %+v", got, tt.want)
			}
			if res.Offer.Count != res.Offers || res.Ack.Count != res.Acks || res.Exchange.Count != res.Acks {
				t.Errorf("latency counts %d/%d/%d, want %d/%d/%d", res.Offer.Count, res.Ack.Count, res.Exchange.Count, res.Offers, res.Acks, res.Acks)
			}
			for _, l := range []Latency{res.Offer, res.Ack, res.Exchange} {
				if l.Count > 0 && !(l.Min <= l.P50 && l.P50 <= l.P90 && l.P90 <= l.P99 && l.P99 <= l.Max && l.Min <= l.Mean && l.Mean <= l.Max) {
					t.Errorf("latency out of order: %+v", l)
				}
			}
			if res.Elapsed <= 0 || res.Rate() <= 0 {
				t.Errorf("elapsed %v, rate %v", res.Elapsed, res.Rate())
			}
			checkStore(t, g, store, tt.bound)
		})
	}
}

// checkStore checks that the store holds exactly bound leases, each bound
// to a different one of the generator's clients, at the address the
// generator saw ACKed to that client.
func checkStore(t *testing.T, g *Generator, store *lease.Memory, bound int) {
	t.Helper()
	seen := make(map[uint32]bool)
	n := 0
	store.All(func(l lease.Lease) bool {
		n++
		i, ok := clientOf(g.base, len(g.st.clients), l.HW.Bytes())
		switch {
		case l.State != lease.Bound:
			t.Errorf("lease %v in state %v", l.Addr, l.State)
		case !ok:
			t.Errorf("lease %v for %v, not one of the generator's clients", l.Addr, l.HW)
		case seen[i]:
			t.Errorf("client %d holds two leases", i)
		case g.st.clients[i].addr != l.Addr:
			t.Errorf("client %d: store has %v, generator saw %v ACKed", i, l.Addr, g.st.clients[i].addr)
		}
		seen[i] = true
		return true
	})
	if n != bound {
		t.Errorf("%d leases in the store, want %d", n, bound)
	}
}

// fakeServer answers like a broken server: every client gets the same
// address, clients with an odd index get a NAK instead of an ACK, and every
// OFFER is sent twice.
func fakeServer(t *testing.T, conn *net.UDPConn, base [macLen]byte) {
	t.Helper()
	buf := make([]byte, 1500)
	var req, reply dhcpv4.Packet
	for {
		n, from, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		if dhcpv4.Parse(buf[:n], &req) != nil {
			continue
		}
		i, _ := clientOf(base, 1<<20, req.HardwareAddr())
		reply.Reset()
		reply.Op, reply.XID, reply.GIAddr = dhcpv4.BootReply, req.XID, req.GIAddr
		reply.SetHardwareAddr(req.HType, req.HardwareAddr())
		reply.YIAddr = netip.MustParseAddr("198.18.1.1")
		reply.Options.SetAddr(dhcpv4.OptServerID, netip.MustParseAddr("198.18.0.1"))
		copies := 1
		switch req.MessageType() {
		case dhcpv4.Discover:
			reply.Options.SetMessageType(dhcpv4.Offer)
			copies = 2
		case dhcpv4.Request:
			if got, _ := req.Options.Addr(dhcpv4.OptRequestedIP); got != reply.YIAddr {
				t.Errorf("REQUEST for %v, offered %v", got, reply.YIAddr)
			}
			if sid, _ := req.Options.Addr(dhcpv4.OptServerID); sid != netip.MustParseAddr("198.18.0.1") {
				t.Errorf("REQUEST with server identifier %v", sid)
			}
			reply.Options.SetMessageType(dhcpv4.Ack)
			if i%2 == 1 {
				reply.Options.SetMessageType(dhcpv4.Nak)
			}
		default:
			continue
		}
		out, err := reply.Append(nil, 0)
		if err != nil {
			t.Error(err)
			return
		}
		for range copies {
			conn.WriteToUDPAddrPort(out, from)
		}
		// A stranger's reply, and a datagram that is not DHCP.
		if req.MessageType() == dhcpv4.Discover && i == 0 {
			stranger := append([]byte(nil), out...)
			stranger[offCHAddr] ^= 0xff
			conn.WriteToUDPAddrPort(stranger, from)
			conn.WriteToUDPAddrPort([]byte("not dhcp"), from)
		}
	}
}

func TestRunCountsWhatABrokenServerDoes(t *testing.T) {
	srv, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Skipf("cannot listen on loopback: %v", err)
	}
	defer srv.Close()
	base := [macLen]byte{0x02, 0x00, 0x00, 0x00, 0x00, 0x00}
	go fakeServer(t, srv, base)
	g, err := New(Config{
		Server:      srv.LocalAddr().(*net.UDPAddr).AddrPort(),
		Local:       netip.MustParseAddrPort("127.0.0.1:0"),
		Clients:     10,
		Outstanding: 1, // one at a time: which ACK conflicts is then known
		Count:       10,
		Timeout:     testTimeout,
	})
	if err != nil {
		t.Fatal(err)
	}
	res, err := g.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want uint64
	}{
		{"exchanges started", res.Started, 10},
		{"RFC2131 4.3.1 OFFERs matched by chaddr and xid", res.Offers, 10},
		{"RFC2131 4.3.2 REQUESTs sent in SELECTING", res.Requests, 10},
		{"RFC2131 4.3.2 ACKs", res.Acks, 5},
		{"RFC2131 4.3.2 NAKs end the exchange", res.Naks, 5},
		// Clients 0, 2, 4, 6, 8 are ACKed the same address in turn.
		{"an address ACKed to a second client is a conflict", res.Conflicts, 4},
		// 10 repeated OFFERs and one stranger's.
		{"repeated and foreign replies are unexpected", res.Unexpected, 11},
		{"a datagram that is not DHCP is malformed", res.Malformed, 1},
		{"no timeouts", res.OfferTimeouts + res.AckTimeouts, 0},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %d, want %d", c.name, c.got, c.want)
		}
	}
	if got := res.Loss(); got != 0.5 {
		t.Errorf("loss %v, want 0.5 (the NAKed half)", got)
	}
}

func TestRunLosesExchangesNobodyAnswers(t *testing.T) {
	// A socket that reads nothing: every DISCOVER times out.
	sink, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Skipf("cannot listen on loopback: %v", err)
	}
	defer sink.Close()
	var reports []Progress
	g, err := New(Config{
		Server:   sink.LocalAddr().(*net.UDPAddr).AddrPort(),
		Local:    netip.MustParseAddrPort("127.0.0.1:0"),
		Clients:  5,
		Count:    5,
		Timeout:  50 * time.Millisecond,
		Interval: 10 * time.Millisecond,
		Progress: func(p Progress) { reports = append(reports, p) },
	})
	if err != nil {
		t.Fatal(err)
	}
	res, err := g.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Started != 5 || res.OfferTimeouts != 5 || res.Offers != 0 || res.Loss() != 1 {
		t.Errorf("got %+v, want 5 started and 5 lost", res)
	}
	// The run lasts at least the timeout, so Progress ran at least once
	// and its totals never exceed the final ones.
	if len(reports) == 0 {
		t.Fatal("Progress never called")
	}
	for _, p := range reports {
		if p.Started > res.Started || p.Lost > res.OfferTimeouts || p.Completed != 0 {
			t.Errorf("progress %+v beyond the result %+v", p, res)
		}
	}
}

func TestRunStopsWhenContextEnds(t *testing.T) {
	sink, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Skipf("cannot listen on loopback: %v", err)
	}
	defer sink.Close()
	g, err := New(Config{
		Server:   sink.LocalAddr().(*net.UDPAddr).AddrPort(),
		Local:    netip.MustParseAddrPort("127.0.0.1:0"),
		Duration: time.Hour,
		Rate:     100,
		Timeout:  10 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err := g.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Started != 0 {
		t.Errorf("started %d exchanges after the context ended", res.Started)
	}
	if _, err := g.Run(context.Background()); err == nil {
		t.Error("a second Run succeeded")
	}
}

func TestConfigValidation(t *testing.T) {
	server := netip.MustParseAddrPort("198.18.0.1:0")
	local := netip.MustParseAddrPort("198.18.0.2:67")
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"defaults with a server, a local address and a duration", Config{Server: server, Local: local, Duration: time.Second}, true},
		{"a count is bound enough", Config{Server: server, Local: local, Count: 1}, true},
		{"0.0.0.0 with giaddr given", Config{Server: server, GIAddr: local.Addr(), Count: 1}, true},
		{"no server", Config{Local: local, Count: 1}, false},
		{"server 0.0.0.0", Config{Server: netip.MustParseAddrPort("0.0.0.0:67"), Local: local, Count: 1}, false},
		{"IPv6 server", Config{Server: netip.MustParseAddrPort("[2001:db8::1]:67"), Local: local, Count: 1}, false},
		{"RFC1542 4.1.1 giaddr unknown: 0.0.0.0 local without giaddr", Config{Server: server, Count: 1}, false},
		{"unbounded load", Config{Server: server, Local: local}, false},
		{"negative rate", Config{Server: server, Local: local, Count: 1, Rate: -1}, false},
		{"too many clients", Config{Server: server, Local: local, Count: 1, Clients: maxClients + 1}, false},
		{"hardware address not 6 bytes", Config{Server: server, Local: local, Count: 1, BaseMAC: net.HardwareAddr{1, 2, 3}}, false},
		{"clients past the last hardware address", Config{Server: server, Local: local, Count: 1, Clients: 2, BaseMAC: net.HardwareAddr{2, 0, 0xff, 0xff, 0xff, 0xff}}, false},
		{"batch too big", Config{Server: server, Local: local, Count: 1, Batch: 5000}, false},
		{"closed loop with more in flight than clients", Config{Server: server, Local: local, Count: 1, Clients: 10, Outstanding: 11}, false},
		{"open loop ignores Outstanding", Config{Server: server, Local: local, Count: 1, Clients: 10, Outstanding: 11, Rate: 5}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.cfg.withDefaults()
			if (err == nil) != tt.ok {
				t.Fatalf("error %v, want ok=%v", err, tt.ok)
			}
			if err == nil && (got.Server.Port() != udp4.ServerPort || got.Clients == 0 || got.Outstanding == 0 || got.Timeout != DefaultTimeout || got.Batch != DefaultBatch) {
				t.Errorf("defaults not applied: %+v", got)
			}
		})
	}
}

func TestTemplates(t *testing.T) {
	giaddr := netip.MustParseAddr("198.18.0.2")
	mac := macOf([macLen]byte{2, 0, 0, 0, 0, 0}, 0x01020304)
	tests := []struct {
		name      string
		typ       dhcpv4.MessageType
		sid, ip   netip.Addr
		hostNames bool
		wantName  string // option 12; "" for none
	}{
		{"RFC2131 4.4.1 DISCOVER, relayed per RFC1542 4.1.1", dhcpv4.Discover, netip.Addr{}, netip.Addr{}, false, ""},
		{"RFC2131 4.3.2 REQUEST in SELECTING: server identifier and requested address", dhcpv4.Request,
			netip.MustParseAddr("198.18.0.1"), netip.MustParseAddr("198.18.3.4"), false, ""},
		{"RFC2132 3.14 DISCOVER with the client's host name", dhcpv4.Discover, netip.Addr{}, netip.Addr{}, true, "lg01020304"},
		{"RFC2132 3.14 REQUEST with the client's host name", dhcpv4.Request,
			netip.MustParseAddr("198.18.0.1"), netip.MustParseAddr("198.18.3.4"), true, "lg01020304"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl, err := newTemplate(tt.typ, giaddr, tt.hostNames)
			if err != nil {
				t.Fatal(err)
			}
			b := make([]byte, len(tmpl.msg))
			tmpl.fill(b, 0xdeadbeef, &mac, tt.sid, tt.ip)
			var p dhcpv4.Packet
			if err := dhcpv4.Parse(b, &p); err != nil {
				t.Fatal(err)
			}
			if p.Op != dhcpv4.BootRequest || p.MessageType() != tt.typ || p.XID != 0xdeadbeef || p.Hops != 1 || p.GIAddr != giaddr {
				t.Errorf("got %v", &p)
			}
			if got := net.HardwareAddr(p.HardwareAddr()).String(); got != "02:00:01:02:03:04" || p.HType != 1 {
				t.Errorf("chaddr %s htype %d", got, p.HType)
			}
			if !p.Options.ParameterRequested(dhcpv4.OptRouter) {
				t.Error("no parameter request list")
			}
			sid, hasSID := p.Options.Addr(dhcpv4.OptServerID)
			ip, hasIP := p.Options.Addr(dhcpv4.OptRequestedIP)
			if tt.typ == dhcpv4.Request && (sid != tt.sid || ip != tt.ip) {
				t.Errorf("server identifier %v, requested %v", sid, ip)
			}
			if tt.typ == dhcpv4.Discover && (hasSID || hasIP) {
				t.Error("DISCOVER carries option 50 or 54")
			}
			if name, _ := p.Options.Get(dhcpv4.OptHostName); string(name) != tt.wantName {
				t.Errorf("host name %q, want %q", name, tt.wantName)
			}
		})
	}
}

func TestClientOf(t *testing.T) {
	base := [macLen]byte{2, 0, 0, 0, 0xff, 0xf0}
	tests := []struct {
		name string
		mac  []byte
		want uint32
		ok   bool
	}{
		{"client 0", []byte{2, 0, 0, 0, 0xff, 0xf0}, 0, true},
		{"client counted across a byte", []byte{2, 0, 0, 1, 0, 0x0f}, 31, true},
		{"last client", []byte{2, 0, 0, 1, 0, 0x53}, 99, true},
		{"one past the last", []byte{2, 0, 0, 1, 0, 0x54}, 0, false},
		{"below the base", []byte{2, 0, 0, 0, 0xff, 0xef}, 0, false},
		{"other prefix", []byte{4, 0, 0, 0, 0xff, 0xf0}, 0, false},
		{"not Ethernet-sized", []byte{2, 0, 0, 0, 0xff}, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := clientOf(base, 100, tt.mac)
			if got != tt.want || ok != tt.ok {
				t.Errorf("got %d %v, want %d %v", got, ok, tt.want, tt.ok)
			}
			if ok {
				if m := macOf(base, got); !equal(m[:], tt.mac) {
					t.Errorf("macOf(%d) = %x, want %x", got, m, tt.mac)
				}
			}
		})
	}
}

func equal(a, b []byte) bool { return string(a) == string(b) }

func TestRingKeepsOrderAcrossGrowth(t *testing.T) {
	var r ring
	next := uint32(0)
	want := uint32(0)
	// Interleave pushes and pops so that the ring wraps, then grows.
	for round := range 5 {
		for range 700 * (round + 1) {
			r.push(deadline{client: next})
			next++
		}
		for range 500 {
			if got := r.front().client; got != want {
				t.Fatalf("popped %d, want %d", got, want)
			}
			r.pop()
			want++
		}
	}
	if r.n != int(next-want) {
		t.Errorf("%d left, want %d", r.n, next-want)
	}
}

func TestHandleReplyRejects(t *testing.T) {
	g, err := New(Config{Server: netip.MustParseAddrPort("127.0.0.1:9"), Local: netip.MustParseAddrPort("127.0.0.1:0"), Clients: 4, Count: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	g.st.clients[1] = client{phase: discovering, xid: 7}
	reply := func(edit func(*dhcpv4.Packet)) []byte {
		p := &dhcpv4.Packet{Op: dhcpv4.BootReply, XID: 7, YIAddr: netip.MustParseAddr("198.18.1.9")}
		mac := macOf(g.base, 1)
		p.SetHardwareAddr(1, mac[:])
		p.Options.SetMessageType(dhcpv4.Offer)
		edit(p)
		b, err := p.Append(nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name string
		msg  []byte
		// want is the counter that must go up.
		want *uint64
	}{
		{"truncated", []byte{2, 1, 6}, &g.st.c.malformed},
		{"a request, not a reply", reply(func(p *dhcpv4.Packet) { p.Op = dhcpv4.BootRequest }), &g.st.c.malformed},
		{"other transaction ID", reply(func(p *dhcpv4.Packet) { p.XID = 8 }), &g.st.c.unexpected},
		{"ACK while an OFFER is awaited", reply(func(p *dhcpv4.Packet) { p.Options.SetMessageType(dhcpv4.Ack) }), &g.st.c.unexpected},
		{"client with no exchange in progress", reply(func(p *dhcpv4.Packet) { mac := macOf(g.base, 2); p.SetHardwareAddr(1, mac[:]) }), &g.st.c.unexpected},
	}
	var p dhcpv4.Packet
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := *tt.want
			if req, ended := g.handleReply(tt.msg, &p, 0); req != -1 || ended {
				t.Errorf("accepted: request %d, ended %v", req, ended)
			}
			if *tt.want != before+1 {
				t.Errorf("counter %d, want %d", *tt.want, before+1)
			}
			if c := g.st.clients[1]; c.phase != discovering {
				t.Errorf("client 1 moved to phase %d", c.phase)
			}
		})
	}
	if req, _ := g.handleReply(reply(func(*dhcpv4.Packet) {}), &p, 0); req != 1 || g.st.clients[1].phase != requesting {
		t.Errorf("the matching OFFER was not taken: %d, phase %d", req, g.st.clients[1].phase)
	}
}

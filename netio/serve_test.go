package netio

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"

	"leased/config"
	"leased/dhcpv4"
	"leased/lease"
	"leased/server"
)

// loopbackServer runs a real Server on 127.0.0.1 with an engine whose
// subnet holds 127.0.0.1, so that a UDP socket on loopback can play a
// relay agent. Replies to relays go to relayPort.
func loopbackServer(t *testing.T, relayPort uint16) (*Server, *lease.Memory) {
	t.Helper()
	return loopbackServerWith(t, relayPort, nil)
}

// loopbackServerWith is loopbackServer with options changed by set.
func loopbackServerWith(t *testing.T, relayPort uint16, set func(*Options)) (*Server, *lease.Memory) {
	t.Helper()
	cfg := &config.Config{
		OfferHold:        30 * time.Second,
		DeclineProbation: time.Minute,
		Subnets: []config.Subnet{{
			Prefix:    netip.MustParsePrefix("127.0.0.0/24"),
			Pools:     []config.Range{{First: netip.MustParseAddr("127.0.0.10"), Last: netip.MustParseAddr("127.0.0.20")}},
			LeaseTime: time.Hour,
		}},
	}
	store := &lease.Memory{}
	eng, err := server.New(cfg, store, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{Addr: netip.MustParseAddrPort("127.0.0.1:0"), Readers: 2, Committers: 4, RelayPort: relayPort}
	if set != nil {
		set(&opts)
	}
	srv, err := Listen(opts)
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
		case <-time.After(10 * time.Second):
			t.Error("Serve did not return after its context ended")
		}
	})
	return srv, store
}

func relayedRequest(t *testing.T, typ dhcpv4.MessageType, mac byte, extra func(*dhcpv4.Packet)) []byte {
	t.Helper()
	p := &dhcpv4.Packet{Op: dhcpv4.BootRequest, XID: 0xabc000 + uint32(mac), GIAddr: netip.MustParseAddr("127.0.0.1")}
	p.SetHardwareAddr(1, []byte{2, 0, 0, 0, 0, mac})
	p.Options.SetMessageType(typ)
	if extra != nil {
		extra(p)
	}
	b, err := p.Append(nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func exchange(t *testing.T, relay *net.UDPConn, to netip.AddrPort, msg []byte) *dhcpv4.Packet {
	t.Helper()
	if _, err := relay.WriteToUDPAddrPort(msg, to); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1500)
	relay.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, _, err := relay.ReadFromUDPAddrPort(buf)
	if err != nil {
		t.Fatalf("no reply: %v", err)
	}
	var p dhcpv4.Packet
	if err := dhcpv4.Parse(buf[:n], &p); err != nil {
		t.Fatalf("reply does not parse: %v", err)
	}
	return &p
}

func TestServeRelayedExchangeOnLoopback(t *testing.T) {
	relay, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer relay.Close()
	relayPort := uint16(relay.LocalAddr().(*net.UDPAddr).Port)
	srv, store := loopbackServer(t, relayPort)
	to := srv.LocalAddr()

	// Malformed datagrams first: each is dropped and counted, and the
	// server goes on serving.
	bad := [][]byte{
		make([]byte, 100), // shorter than 240 bytes
		func() []byte { b := relayedRequest(t, dhcpv4.Discover, 9, nil); b[236] = 0; return b }(),   // bad cookie
		func() []byte { b := relayedRequest(t, dhcpv4.Discover, 9, nil); b[241] = 250; return b }(), // option 53 length past the end
	}
	for _, b := range bad {
		if _, err := relay.WriteToUDPAddrPort(b, to); err != nil {
			t.Fatal(err)
		}
	}

	offer := exchange(t, relay, to, relayedRequest(t, dhcpv4.Discover, 1, nil))
	if offer.MessageType() != dhcpv4.Offer || !netip.MustParsePrefix("127.0.0.0/24").Contains(offer.YIAddr) {
		t.Fatalf("got %v", offer)
	}
	ack := exchange(t, relay, to, relayedRequest(t, dhcpv4.Request, 1, func(p *dhcpv4.Packet) {
		sid, _ := offer.Options.Addr(dhcpv4.OptServerID)
		p.Options.SetAddr(dhcpv4.OptServerID, sid)
		p.Options.SetAddr(dhcpv4.OptRequestedIP, offer.YIAddr)
	}))
	if ack.MessageType() != dhcpv4.Ack || ack.YIAddr != offer.YIAddr {
		t.Fatalf("got %v", ack)
	}
	if l, ok := store.Get(ack.YIAddr); !ok || l.State != lease.Bound {
		t.Errorf("ACK sent without the lease in the store: %+v", l)
	}

	// The server counts a reply once its send returned, which may be
	// after the relay read it.
	st := srv.Stats()
	for deadline := time.Now().Add(5 * time.Second); st.Replies < 2 && time.Now().Before(deadline); st = srv.Stats() {
		time.Sleep(time.Millisecond)
	}
	if st.Malformed != 3 {
		t.Errorf("malformed count %d, want 3", st.Malformed)
	}
	if st.ReceivedByType[dhcpv4.Discover] != 1 || st.ReceivedByType[dhcpv4.Request] != 1 ||
		st.SentByType[dhcpv4.Offer] != 1 || st.SentByType[dhcpv4.Ack] != 1 || st.Replies != 2 {
		t.Errorf("counters %+v", st)
	}
	if st.Outcomes["offer"] != 1 || st.Outcomes["ack"] != 1 {
		t.Errorf("outcomes %v", st.Outcomes)
	}
}

func TestServeStopsOnClose(t *testing.T) {
	srv, err := Listen(Options{Addr: netip.MustParseAddrPort("127.0.0.1:0"), Readers: 3, Committers: 2})
	if err != nil {
		t.Skipf("cannot listen: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(context.Background(), nil) }()
	time.Sleep(10 * time.Millisecond)
	if err := srv.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after Close")
	}
}

func TestIfaceTableRefreshesUnknownIndex(t *testing.T) {
	now := time.Unix(1000, 0)
	calls := 0
	tab := &ifaceTable{maxAge: 10 * time.Second, now: func() time.Time { return now }}
	tab.listAll = func() ([]net.Interface, error) {
		calls++
		if calls == 1 {
			return nil, nil
		}
		return []net.Interface{{Index: 7, Name: "eth7"}}, nil
	}
	tab.refresh()
	now = now.Add(2 * time.Second) // past the one-second refresh guard
	if info := tab.lookup(7); info == nil || info.name != "eth7" {
		t.Fatalf("lookup of a new interface: %+v", info)
	}
	if calls != 2 {
		t.Errorf("%d listings, want 2", calls)
	}
	if info := tab.lookup(7); info == nil || calls != 2 {
		t.Errorf("a fresh entry caused another listing (%d)", calls)
	}
}

package netio

import (
	"context"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"leased/config"
	"leased/dhcpv4"
	"leased/lease"
	"leased/server"
)

// fakePinger answers for the addresses in inUse at once, and for no other
// before ctx ends.
type fakePinger struct {
	mu     sync.Mutex
	inUse  map[netip.Addr]bool
	pinged []netip.Addr
}

func (f *fakePinger) Ping(ctx context.Context, a netip.Addr) bool {
	f.mu.Lock()
	f.pinged = append(f.pinged, a)
	answer := f.inUse[a]
	f.mu.Unlock()
	if answer {
		return true
	}
	<-ctx.Done()
	return false
}

func (f *fakePinger) Close() error { return nil }

func (f *fakePinger) pings() []netip.Addr {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]netip.Addr(nil), f.pinged...)
}

// pingServer runs a Server on loopback whose subnet 127.0.0.0/24 does
// ping checks with wait, through p.
func pingServer(t *testing.T, relayPort uint16, wait time.Duration, p Pinger) (*Server, *lease.Memory) {
	t.Helper()
	cfg := &config.Config{
		OfferHold:        30 * time.Second,
		DeclineProbation: time.Minute,
		Subnets: []config.Subnet{{
			Prefix:    netip.MustParsePrefix("127.0.0.0/24"),
			Pools:     []config.Range{{First: netip.MustParseAddr("127.0.0.10"), Last: netip.MustParseAddr("127.0.0.20")}},
			LeaseTime: time.Hour,
			PingCheck: wait,
		}},
	}
	store := &lease.Memory{}
	eng, err := server.New(cfg, store, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := Listen(Options{Addr: netip.MustParseAddrPort("127.0.0.1:0"), Readers: 1, Committers: 2, RelayPort: relayPort, Pinger: p})
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

func TestPingCheckBeforeOffer(t *testing.T) {
	const wait = 150 * time.Millisecond
	a := netip.MustParseAddr
	tests := []struct {
		name      string
		inUse     []string
		want      netip.Addr
		wantPings int
	}{
		{"nothing answers: the first address is offered after the wait", nil, a("127.0.0.10"), 1},
		{"the first address answers: set aside, the next one offered", []string{"127.0.0.10"}, a("127.0.0.11"), 2},
		{"every address answers: an offer leaves after a bounded number of checks", []string{
			"127.0.0.10", "127.0.0.11", "127.0.0.12", "127.0.0.13", "127.0.0.14", "127.0.0.15"}, a("127.0.0.14"), maxProbeRounds},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			relay, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				t.Fatal(err)
			}
			defer relay.Close()
			fake := &fakePinger{inUse: make(map[netip.Addr]bool)}
			for _, s := range tc.inUse {
				fake.inUse[a(s)] = true
			}
			srv, store := pingServer(t, uint16(relay.LocalAddr().(*net.UDPAddr).Port), wait, fake)
			start := time.Now()
			offer := exchange(t, relay, srv.LocalAddr(), relayedRequest(t, dhcpv4.Discover, 1, nil))
			took := time.Since(start)
			if offer.MessageType() != dhcpv4.Offer || offer.YIAddr != tc.want {
				t.Fatalf("got %v %v, want an offer of %v", offer.MessageType(), offer.YIAddr, tc.want)
			}
			if took > wait+time.Second {
				t.Errorf("the offer took %v, more than the wait %v (and a second of slack)", took, wait)
			}
			if got := fake.pings(); len(got) != tc.wantPings {
				t.Errorf("pinged %v, want %d pings", got, tc.wantPings)
			}
			for _, s := range tc.inUse {
				if a(s).Compare(tc.want) >= 0 {
					break
				}
				if l, ok := store.Get(a(s)); !ok || l.State != lease.Declined {
					t.Errorf("%s answered but is stored as %+v, want declined", s, l)
				}
			}
			st := srv.Stats()
			if want := uint64(min(len(tc.inUse), maxProbeRounds)); st.Outcomes["ping-in-use"] != want {
				t.Errorf("ping-in-use counted %d, want %d", st.Outcomes["ping-in-use"], want)
			}
			// The client's REQUEST of the checked address is not checked
			// again, nor its next DISCOVER.
			before := len(fake.pings())
			again := exchange(t, relay, srv.LocalAddr(), relayedRequest(t, dhcpv4.Discover, 1, nil))
			if again.YIAddr != offer.YIAddr || len(fake.pings()) != before {
				t.Errorf("rediscover: %v after %d more pings, want %v at once", again.YIAddr, len(fake.pings())-before, offer.YIAddr)
			}
		})
	}
}

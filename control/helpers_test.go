package control

import (
	"context"
	"errors"
	"net"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"leased/config"
	"leased/dhcpv4"
	"leased/lease"
	"leased/reservations"
	"leased/server"
)

var t0 = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

// testStore is a memory store whose commits can be made to fail, safely
// while a handler commits in another goroutine.
type testStore struct {
	lease.Memory
	fail atomic.Pointer[error]
}

func (s *testStore) Commit(ctx context.Context, ls ...lease.Lease) error {
	if p := s.fail.Load(); p != nil {
		return *p
	}
	return s.Memory.Commit(ctx, ls...)
}

func (s *testStore) failWith(err error) { s.fail.Store(&err) }

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

func mac(last byte) net.HardwareAddr { return net.HardwareAddr{2, 0, 0, 0, 0, last} }

// testConfig has two subnets: 198.18.0.0/24 with a pool of ten addresses,
// a router and a reservation, and 198.19.0.0/24 with a pool of two.
func testConfig() *config.Config {
	return &config.Config{
		Interfaces:       []string{"eth0"},
		OfferHold:        30 * time.Second,
		DeclineProbation: 10 * time.Minute,
		Defaults:         config.SubnetDefaults{LeaseTime: time.Hour},
		ClientClasses:    []config.ClientClass{{Name: "vip"}, {Name: "blocked", Ignore: true}},
		Subnets: []config.Subnet{
			{
				Prefix:       netip.MustParsePrefix("198.18.0.0/24"),
				Pools:        []config.Range{{First: mustAddr("198.18.0.100"), Last: mustAddr("198.18.0.109")}},
				LeaseTime:    time.Hour,
				Options:      []config.Option{{Code: dhcpv4.OptRouter, Value: mustAddr("198.18.0.1").AsSlice()}},
				Reservations: []config.Reservation{{HWAddr: mac(0x50), Addr: mustAddr("198.18.0.50"), Hostname: "printer"}},
			},
			{
				Prefix:    netip.MustParsePrefix("198.19.0.0/24"),
				Pools:     []config.Range{{First: mustAddr("198.19.0.100"), Last: mustAddr("198.19.0.101")}},
				LeaseTime: time.Hour,
			},
		},
	}
}

// link returns an arrival on the server's interface in prefix p (its .1).
func link(p string) server.Arrival {
	pfx := netip.MustParsePrefix(p)
	return server.Arrival{IfIndex: 2, IfName: "eth0",
		IfAddrs: []netip.Prefix{netip.PrefixFrom(pfx.Addr().Next(), pfx.Bits())},
		Src:     netip.MustParseAddrPort("0.0.0.0:68"), Dst: netip.MustParseAddr("255.255.255.255")}
}

// dhcpClient makes requests of one client.
type dhcpClient struct {
	mac      net.HardwareAddr
	cid      []byte
	hostname string
}

func (c *dhcpClient) packet(t dhcpv4.MessageType, opts func(*dhcpv4.Options)) *dhcpv4.Packet {
	p := &dhcpv4.Packet{Op: dhcpv4.BootRequest, XID: 0x5000 + uint32(c.mac[5])}
	p.SetHardwareAddr(1, c.mac)
	p.Options.SetMessageType(t)
	if c.cid != nil {
		p.Options.Set(dhcpv4.OptClientID, c.cid)
	}
	if c.hostname != "" {
		p.Options.SetString(dhcpv4.OptHostName, c.hostname)
	}
	if opts != nil {
		opts(&p.Options)
	}
	return p
}

// handle passes p through the wire format to the engine, as the sockets
// do.
func handle(t testing.TB, eng Engine, p *dhcpv4.Packet, in server.Arrival) server.Outcome {
	t.Helper()
	b, err := p.Append(nil, 1500)
	if err != nil {
		t.Fatal(err)
	}
	var req, reply dhcpv4.Packet
	if err := dhcpv4.Parse(b, &req); err != nil {
		t.Fatal(err)
	}
	return eng.(interface {
		Handle(context.Context, *dhcpv4.Packet, server.Arrival, *dhcpv4.Packet) server.Outcome
	}).Handle(context.Background(), &req, in, &reply)
}

// discover makes c's DHCPDISCOVER and returns the offered address.
func (c *dhcpClient) discover(t testing.TB, eng Engine, in server.Arrival) netip.Addr {
	t.Helper()
	out := handle(t, eng, c.packet(dhcpv4.Discover, nil), in)
	if out.Reason != server.ReasonOffer {
		t.Fatalf("DISCOVER from %v: %v", c.mac, out.Reason)
	}
	return out.Addr
}

// dora gets c a lease and returns its address.
func (c *dhcpClient) dora(t testing.TB, eng Engine, in server.Arrival) netip.Addr {
	t.Helper()
	a := c.discover(t, eng, in)
	sid := in.IfAddrs[0].Addr()
	out := handle(t, eng, c.packet(dhcpv4.Request, func(o *dhcpv4.Options) {
		o.SetAddr(dhcpv4.OptServerID, sid)
		o.SetAddr(dhcpv4.OptRequestedIP, a)
	}), in)
	if out.Reason != server.ReasonAck {
		t.Fatalf("REQUEST from %v for %v: %v (%v)", c.mac, a, out.Reason, out.Err)
	}
	return a
}

// release makes c's DHCPRELEASE of a.
func (c *dhcpClient) release(t testing.TB, eng Engine, a netip.Addr) {
	t.Helper()
	p := c.packet(dhcpv4.Release, nil)
	p.CIAddr = a
	if out := handle(t, eng, p, link("198.18.0.0/24")); out.Reason != server.ReasonReleased {
		t.Fatalf("RELEASE of %v: %v", a, out.Reason)
	}
}

// fixture is a running API over an engine with some leases:
//
//	alpha  02:00:00:00:00:01  bound     198.18.0.100  host name "alpha"
//	beta   02:00:00:00:00:02  bound     198.18.0.101  host name "Beta-Laptop", client identifier 01:02:00:00:00:00:02
//	gamma  02:00:00:00:00:03  offered   198.18.0.102
//	delta  02:00:00:00:00:04  released  198.18.0.103
//	omega  02:00:00:00:00:09  bound     198.19.0.100
type fixture struct {
	t       *testing.T
	store   *testStore
	eng     *server.Reloadable
	api     *Server
	http    *httptest.Server
	client  *Client
	resFile string
	reload  func() (ConfigStatus, error)
	leases  map[string]netip.Addr
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{t: t, store: &testStore{}, leases: map[string]netip.Addr{}}
	e, err := server.New(testConfig(), f.store, func() time.Time { return t0 })
	if err != nil {
		t.Fatal(err)
	}
	f.eng = server.NewReloadable(e)
	f.resFile = filepath.Join(t.TempDir(), reservations.FileName)
	net0 := link("198.18.0.0/24")
	f.leases["alpha"] = (&dhcpClient{mac: mac(1), hostname: "alpha"}).dora(t, f.eng, net0)
	f.leases["beta"] = (&dhcpClient{mac: mac(2), cid: []byte{1, 2, 0, 0, 0, 0, 2}, hostname: "Beta-Laptop"}).dora(t, f.eng, net0)
	f.leases["gamma"] = (&dhcpClient{mac: mac(3)}).discover(t, f.eng, net0)
	delta := &dhcpClient{mac: mac(4)}
	f.leases["delta"] = delta.dora(t, f.eng, net0)
	delta.release(t, f.eng, f.leases["delta"])
	f.leases["omega"] = (&dhcpClient{mac: mac(9)}).dora(t, f.eng, link("198.19.0.0/24"))

	f.api, err = NewServer(Options{
		Engine:  f.eng,
		Version: "1.2.3",
		Started: t0.Add(-90 * time.Second),
		Clock:   func() time.Time { return t0 },
		Config: func() ConfigStatus {
			return ConfigStatus{File: "leased.yaml", SHA256: "abc123", Loaded: t0.Add(-time.Minute), Subnets: 2}
		},
		Reload: func() (ConfigStatus, error) {
			if f.reload == nil {
				return ConfigStatus{}, errors.New("no reload set")
			}
			return f.reload()
		},
		Reservations: reservations.File{Path: f.resFile},
	})
	if err != nil {
		t.Fatal(err)
	}
	f.http = httptest.NewServer(f.api)
	t.Cleanup(f.http.Close)
	f.client = NewTCPClient(f.http.Listener.Addr().String(), "")
	return f
}

package client

import (
	"bytes"
	"net/netip"
	"slices"
	"testing"
	"time"

	"leased/dhcpv4"
)

// window is DefaultOfferWait: a REQUEST after the offer window is sent at
// t0+window, which is where leases start in these tests.
const window = DefaultOfferWait

func TestDiscoverContents(t *testing.T) {
	duid := ClientIDFromDUID(IAIDFromHardware(testMAC), DUIDLL(1, testMAC))
	for _, tc := range []struct {
		name  string
		edit  func(*Config)
		saved *Lease
		check func(t *testing.T, p *dhcpv4.Packet)
	}{
		{
			name: "RFC2131 4.4.1 DISCOVER: chaddr, ciaddr 0, secs 0, broadcast flag unset",
			check: func(t *testing.T, p *dhcpv4.Packet) {
				if p.Op != dhcpv4.BootRequest || p.HType != 1 || !bytes.Equal(p.HardwareAddr(), testMAC) {
					t.Errorf("op %v htype %d chaddr %x", p.Op, p.HType, p.HardwareAddr())
				}
				if !p.CIAddr.IsUnspecified() || !p.YIAddr.IsUnspecified() || p.Secs != 0 || p.Broadcast() {
					t.Errorf("ciaddr %v yiaddr %v secs %d broadcast %v", p.CIAddr, p.YIAddr, p.Secs, p.Broadcast())
				}
				if p.Options.Has(dhcpv4.OptRequestedIP) || p.Options.Has(dhcpv4.OptServerID) {
					t.Errorf("requested address or server id in a first DISCOVER: %v", p)
				}
				if p.Options.Has(dhcpv4.OptHostName) || p.Options.Has(dhcpv4.OptVendorClass) {
					t.Errorf("host name or vendor class not configured but sent: %v", p)
				}
			},
		},
		{
			name: "RFC2132 9.14 client identifier is hardware type and address by default",
			check: func(t *testing.T, p *dhcpv4.Packet) {
				id, _ := p.Options.Get(dhcpv4.OptClientID)
				if want := append([]byte{1}, testMAC...); !bytes.Equal(id, want) {
					t.Errorf("client id %x, want %x", id, want)
				}
			},
		},
		{
			name: "RFC4361 6.1 client identifier in the DUID form",
			edit: func(c *Config) { c.ClientID = duid },
			check: func(t *testing.T, p *dhcpv4.Packet) {
				id, _ := p.Options.Get(dhcpv4.OptClientID)
				want := []byte{255, 0x12, 0x00, 0x00, 0x01, 0, 3, 0, 1, 0x02, 0xc6, 0x12, 0x00, 0x00, 0x01}
				if !bytes.Equal(id, want) {
					t.Errorf("client id %x, want %x", id, want)
				}
			},
		},
		{
			name: "RFC2132 9.8 parameter request list asks for the configuration",
			check: func(t *testing.T, p *dhcpv4.Packet) {
				for _, c := range []dhcpv4.OptionCode{
					dhcpv4.OptSubnetMask, dhcpv4.OptRouter, dhcpv4.OptDNSServers, dhcpv4.OptDomainName,
					dhcpv4.OptDomainSearch, dhcpv4.OptBroadcastAddress, dhcpv4.OptNTPServers,
					dhcpv4.OptClasslessRoutes, dhcpv4.OptLeaseTime, dhcpv4.OptRenewalTime, dhcpv4.OptRebindingTime,
				} {
					if !p.Options.ParameterRequested(c) {
						t.Errorf("parameter request list lacks %v", c)
					}
				}
			},
		},
		{
			name: "RFC2132 3.14 and 9.13 host name and vendor class when given",
			edit: func(c *Config) { c.Hostname, c.VendorClass = "host1", "leased-test" },
			check: func(t *testing.T, p *dhcpv4.Packet) {
				if v, _ := p.Options.Get(dhcpv4.OptHostName); string(v) != "host1" {
					t.Errorf("host name %q", v)
				}
				if v, _ := p.Options.Get(dhcpv4.OptVendorClass); string(v) != "leased-test" {
					t.Errorf("vendor class %q", v)
				}
			},
		},
		{
			name: "RFC2132 9.10 maximum message size when given",
			edit: func(c *Config) { c.MaxMessageSize = 1500 },
			check: func(t *testing.T, p *dhcpv4.Packet) {
				if v, ok := p.Options.Uint16(dhcpv4.OptMaxMessageSize); !ok || v != 1500 {
					t.Errorf("maximum message size %d %v, want 1500", v, ok)
				}
			},
		},
		{
			name: "RFC2131 4.1 broadcast flag when asked for",
			edit: func(c *Config) { c.Broadcast = true },
			check: func(t *testing.T, p *dhcpv4.Packet) {
				if !p.Broadcast() {
					t.Errorf("broadcast flag unset")
				}
			},
		},
		{
			name:  "RFC2131 4.4.1 DISCOVER asks for the remembered (expired) address",
			saved: &Lease{Addr: netip.PrefixFrom(addrPrev, 24), LeaseTime: time.Hour, Start: t0.Add(-2 * time.Hour)},
			check: func(t *testing.T, p *dhcpv4.Packet) {
				if a, ok := p.Options.Addr(dhcpv4.OptRequestedIP); !ok || a != addrPrev {
					t.Errorf("requested address %v %v, want %v", a, ok, addrPrev)
				}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.edit)
			acts := h.start(tc.saved)
			p, to := sent(t, acts)
			if p.MessageType() != dhcpv4.Discover || to.IsValid() {
				t.Fatalf("sent %v to %v, want a broadcast DISCOVER", p, to)
			}
			h.wantState(Selecting)
			tc.check(t, p)
		})
	}
}

func TestNewRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"no hardware address", Config{}},
		{"hardware address over 16 bytes", Config{HardwareAddr: make([]byte, 17)}},
		{"client identifier of one byte", Config{HardwareAddr: testMAC, ClientID: []byte{1}}},
		{"host name over 255 bytes", Config{HardwareAddr: testMAC, Hostname: string(make([]byte, 256))}},
		{"inform address not unicast", Config{HardwareAddr: testMAC, Inform: netip.MustParsePrefix("255.255.255.255/32")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(tc.cfg); err == nil {
				t.Fatalf("New accepted %+v", tc.cfg)
			}
		})
	}
}

func TestDiscoverRetransmission(t *testing.T) {
	t.Run("RFC2131 4.1 backoff 4 8 16 32 64 64 with the same xid and secs counting", func(t *testing.T) {
		h := newHarness(t, nil)
		first, _ := sent(t, h.start(nil))
		waits := []time.Duration{4, 8, 16, 32, 64, 64, 64}
		at := time.Duration(0)
		for i, w := range waits {
			at += w * time.Second
			h.wantDeadline(at)
			h.at(at - time.Millisecond)
			if acts := h.timer(); acts != nil {
				t.Fatalf("retransmission %d: timer before the deadline acted: %q", i+1, kinds(acts))
			}
			p, _ := sent(t, h.fire())
			if p.MessageType() != dhcpv4.Discover || p.XID != first.XID {
				t.Fatalf("retransmission %d: %v, want DISCOVER xid %#x", i+1, p, first.XID)
			}
			if want := uint16(at / time.Second); p.Secs != want {
				t.Errorf("retransmission %d: secs %d, want %d", i+1, p.Secs, want)
			}
		}
		h.wantState(Selecting)
	})
	for _, tc := range []struct {
		name string
		pick func(int64) int64
		want time.Duration
	}{
		{"RFC2131 4.1 jitter at -1 second", func(n int64) int64 { return 0 }, 3 * time.Second},
		{"RFC2131 4.1 jitter at +1 second", func(n int64) int64 { return n - 1 }, 5 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, nil)
			h.rnd.pick = tc.pick
			h.start(nil)
			h.wantDeadline(tc.want)
		})
	}
	t.Run("jitter can be switched off", func(t *testing.T) {
		h := newHarness(t, func(c *Config) { c.Jitter = -1 })
		h.rnd.pick = func(int64) int64 { t.Fatal("random jitter drawn"); return 0 }
		h.start(nil)
		h.wantDeadline(4 * time.Second)
	})
}

func TestOfferChoice(t *testing.T) {
	type offer struct {
		at       time.Duration
		yiaddr   netip.Addr
		server   netip.Addr
		noServer bool
	}
	for _, tc := range []struct {
		name       string
		remembered netip.Addr
		offers     []offer
		// wantAt is when the REQUEST goes out; wantAddr and wantServer
		// what it asks for.
		wantAt             time.Duration
		wantAddr, wantFrom netip.Addr
	}{
		{
			name:   "RFC2131 4.4.1 first offer taken when the window ends",
			offers: []offer{{at: 100 * time.Millisecond, yiaddr: addrA, server: serverA}, {at: 200 * time.Millisecond, yiaddr: addrB, server: serverB}},
			wantAt: window, wantAddr: addrA, wantFrom: serverA,
		},
		{
			name:       "offer of the previous address taken at once",
			remembered: addrPrev,
			offers:     []offer{{at: 100 * time.Millisecond, yiaddr: addrPrev, server: serverB}},
			wantAt:     100 * time.Millisecond, wantAddr: addrPrev, wantFrom: serverB,
		},
		{
			name:       "offer of the previous address preferred to an earlier one",
			remembered: addrPrev,
			offers:     []offer{{at: 100 * time.Millisecond, yiaddr: addrA, server: serverA}, {at: 300 * time.Millisecond, yiaddr: addrPrev, server: serverB}},
			wantAt:     300 * time.Millisecond, wantAddr: addrPrev, wantFrom: serverB,
		},
		{
			name:       "without the previous address, the first of the window",
			remembered: addrPrev,
			offers:     []offer{{at: 100 * time.Millisecond, yiaddr: addrA, server: serverA}, {at: 300 * time.Millisecond, yiaddr: addrB, server: serverB}},
			wantAt:     window, wantAddr: addrA, wantFrom: serverA,
		},
		{
			name:   "offer after the window taken at once",
			offers: []offer{{at: 2 * time.Second, yiaddr: addrB, server: serverB}},
			wantAt: 2 * time.Second, wantAddr: addrB, wantFrom: serverB,
		},
		{
			name:   "RFC2131 4.3.1 offer without server identifier ignored",
			offers: []offer{{at: 100 * time.Millisecond, yiaddr: addrA, noServer: true}, {at: 200 * time.Millisecond, yiaddr: addrB, server: serverB}},
			wantAt: window, wantAddr: addrB, wantFrom: serverB,
		},
		{
			name:   "offer of 0.0.0.0 ignored",
			offers: []offer{{at: 100 * time.Millisecond, yiaddr: netip.IPv4Unspecified(), server: serverA}, {at: 200 * time.Millisecond, yiaddr: addrB, server: serverB}},
			wantAt: window, wantAddr: addrB, wantFrom: serverB,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, nil)
			var saved *Lease
			if tc.remembered.IsValid() {
				saved = &Lease{Addr: netip.PrefixFrom(tc.remembered, 24), LeaseTime: time.Hour, Start: t0.Add(-2 * time.Hour)}
			}
			disc, _ := sent(t, h.start(saved))
			var req *dhcpv4.Packet
			var reqAt time.Duration
			for _, o := range tc.offers {
				if req == nil && h.m.Deadline().Before(t0.Add(o.at)) {
					reqAt = h.m.Deadline().Sub(t0)
					if acts := h.fire(); len(acts) > 0 {
						req, _ = sent(t, acts)
					}
				}
				server := o.server
				if o.noServer {
					server = netip.Addr{}
				}
				h.at(o.at)
				if acts := h.recv(reply(disc, dhcpv4.Offer, o.yiaddr, server, leaseOpts(time.Hour))); len(acts) > 0 {
					if req != nil {
						t.Fatalf("a second REQUEST at %v", o.at)
					}
					req, _ = sent(t, acts)
					reqAt = o.at
				}
			}
			if req == nil {
				reqAt = h.m.Deadline().Sub(t0)
				req, _ = sent(t, h.fire())
			}
			if req.MessageType() != dhcpv4.Request {
				t.Fatalf("sent %v, want REQUEST", req)
			}
			if reqAt != tc.wantAt {
				t.Errorf("REQUEST at t0+%v, want t0+%v", reqAt, tc.wantAt)
			}
			a, _ := req.Options.Addr(dhcpv4.OptRequestedIP)
			s, _ := req.Options.Addr(dhcpv4.OptServerID)
			if a != tc.wantAddr || s != tc.wantFrom {
				t.Errorf("REQUEST for %v from %v, want %v from %v", a, s, tc.wantAddr, tc.wantFrom)
			}
			h.wantState(Requesting)
		})
	}
	t.Run("negative offer wait takes the first offer at once", func(t *testing.T) {
		h := newHarness(t, func(c *Config) { c.OfferWait = -1 })
		disc, _ := sent(t, h.start(nil))
		req, _ := sent(t, h.recv(reply(disc, dhcpv4.Offer, addrA, serverA, leaseOpts(time.Hour))))
		if req.MessageType() != dhcpv4.Request {
			t.Fatalf("sent %v, want REQUEST", req)
		}
	})
}

func TestRepliesNotOurs(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(p *dhcpv4.Packet)
	}{
		{"another transaction ID", func(p *dhcpv4.Packet) { p.XID++ }},
		{"another hardware address", func(p *dhcpv4.Packet) { p.SetHardwareAddr(1, otherMAC) }},
		{"another hardware type", func(p *dhcpv4.Packet) { p.HType = 6 }},
		{"RFC6842 another client identifier", func(p *dhcpv4.Packet) { p.Options.Set(dhcpv4.OptClientID, append([]byte{1}, otherMAC...)) }},
		{"a BOOTREQUEST", func(p *dhcpv4.Packet) { p.Op = dhcpv4.BootRequest }},
		{"an ACK in SELECTING", func(p *dhcpv4.Packet) { p.Options.SetMessageType(dhcpv4.Ack) }},
		{"a NAK in SELECTING", func(p *dhcpv4.Packet) { p.Options.SetMessageType(dhcpv4.Nak) }},
		{"BOOTP (no message type)", func(p *dhcpv4.Packet) { p.Options.Del(dhcpv4.OptMessageType) }},
	} {
		t.Run(tc.name+" is ignored", func(t *testing.T) {
			h := newHarness(t, func(c *Config) { c.OfferWait = -1 })
			disc, _ := sent(t, h.start(nil))
			deadline := h.m.Deadline()
			o := reply(disc, dhcpv4.Offer, addrA, serverA, leaseOpts(time.Hour))
			tc.change(o)
			if acts := h.recv(o); acts != nil {
				t.Fatalf("actions %q", kinds(acts))
			}
			h.wantState(Selecting)
			if !h.m.Deadline().Equal(deadline) {
				t.Errorf("deadline moved")
			}
		})
	}
	t.Run("RFC6842 our own client identifier echoed is accepted", func(t *testing.T) {
		h := newHarness(t, func(c *Config) { c.OfferWait = -1 })
		disc, _ := sent(t, h.start(nil))
		o := reply(disc, dhcpv4.Offer, addrA, serverA, leaseOpts(time.Hour))
		o.Options.Set(dhcpv4.OptClientID, append([]byte{1}, testMAC...))
		wantKinds(t, h.recv(o), "send-REQUEST")
	})
}

func TestRequesting(t *testing.T) {
	// selected returns a harness in REQUESTING with serverA's offer of
	// addrA, and the DISCOVER and REQUEST.
	selected := func(t *testing.T, edit func(*Config)) (*harness, *dhcpv4.Packet, *dhcpv4.Packet) {
		h := newHarness(t, edit)
		disc, _ := sent(t, h.start(nil))
		disc2, _ := sent(t, h.fire()) // retransmission at 4 s: secs 4
		h.at(6500 * time.Millisecond)
		// Past the offer window: taken at once.
		req, to := sent(t, h.recv(reply(disc, dhcpv4.Offer, addrA, serverA, leaseOpts(time.Hour))))
		if to.IsValid() {
			t.Fatalf("REQUEST unicast to %v, want broadcast", to)
		}
		return h, disc2, req
	}
	t.Run("RFC2131 4.4.1 REQUEST in SELECTING: xid and secs of the DISCOVER, requested address, server id, no ciaddr", func(t *testing.T) {
		h, disc, req := selected(t, func(c *Config) { c.Hostname = "host1" })
		h.wantState(Requesting)
		if req.XID != disc.XID || req.Secs != disc.Secs || disc.Secs != 4 { // not 6, the time of the REQUEST
			t.Errorf("REQUEST xid %#x secs %d, DISCOVER xid %#x secs %d", req.XID, req.Secs, disc.XID, disc.Secs)
		}
		if !req.CIAddr.IsUnspecified() || req.Broadcast() {
			t.Errorf("ciaddr %v broadcast %v", req.CIAddr, req.Broadcast())
		}
		if a, _ := req.Options.Addr(dhcpv4.OptRequestedIP); a != addrA {
			t.Errorf("requested %v", a)
		}
		if s, _ := req.Options.Addr(dhcpv4.OptServerID); s != serverA {
			t.Errorf("server id %v", s)
		}
		if v, _ := req.Options.Get(dhcpv4.OptHostName); string(v) != "host1" || !req.Options.Has(dhcpv4.OptParameterRequestList) {
			t.Errorf("host name %q, parameter request list %v", v, req.Options.Has(dhcpv4.OptParameterRequestList))
		}
	})
	t.Run("RFC2131 4.1 REQUEST retransmitted 4 8 16 32 then INIT after the last wait", func(t *testing.T) {
		h, _, req := selected(t, nil)
		start := h.now
		for i, w := range []time.Duration{4, 8, 16, 32} {
			if got := h.m.Deadline().Sub(h.now); got != w*time.Second {
				t.Fatalf("wait %d: %v, want %v", i+1, got, w*time.Second)
			}
			p, _ := sent(t, h.fire())
			if p.MessageType() != dhcpv4.Request || p.XID != req.XID {
				t.Fatalf("retransmission %d: %v", i+1, p)
			}
		}
		if got := h.m.Deadline().Sub(h.now); got != 64*time.Second {
			t.Fatalf("last wait %v, want 64s", got)
		}
		p, _ := sent(t, h.fire())
		if p.MessageType() != dhcpv4.Discover || p.XID == req.XID {
			t.Fatalf("after %v of silence sent %v, want a new DISCOVER", h.now.Sub(start), p)
		}
		h.wantState(Selecting)
	})
	t.Run("OFFER in REQUESTING ignored", func(t *testing.T) {
		h, disc, _ := selected(t, nil)
		if acts := h.recv(reply(disc, dhcpv4.Offer, addrB, serverB, leaseOpts(time.Hour))); acts != nil {
			t.Fatalf("actions %q", kinds(acts))
		}
		h.wantState(Requesting)
	})
	t.Run("ACK from another server ignored", func(t *testing.T) {
		h, _, req := selected(t, nil)
		if acts := h.recv(reply(req, dhcpv4.Ack, addrA, serverB, leaseOpts(time.Hour))); acts != nil {
			t.Fatalf("actions %q", kinds(acts))
		}
		h.wantState(Requesting)
	})
	t.Run("ACK of another address ignored", func(t *testing.T) {
		h, _, req := selected(t, nil)
		if acts := h.recv(reply(req, dhcpv4.Ack, addrB, serverA, leaseOpts(time.Hour))); acts != nil {
			t.Fatalf("actions %q", kinds(acts))
		}
		h.wantState(Requesting)
	})
	t.Run("ACK without lease time takes the offer's", func(t *testing.T) {
		h, _, req := selected(t, func(c *Config) { c.NoProbe = true })
		acts := h.recv(reply(req, dhcpv4.Ack, addrA, serverA))
		wantKinds(t, acts, "configure save hook-BOUND")
		if l := h.m.Lease(); l.LeaseTime != time.Hour {
			t.Errorf("lease time %v, want the offer's 1h", l.LeaseTime)
		}
	})
	t.Run("ACK with no lease time at all ignored", func(t *testing.T) {
		h := newHarness(t, func(c *Config) { c.OfferWait = -1 })
		disc, _ := sent(t, h.start(nil))
		req, _ := sent(t, h.recv(reply(disc, dhcpv4.Offer, addrA, serverA)))
		if acts := h.recv(reply(req, dhcpv4.Ack, addrA, serverA)); acts != nil {
			t.Fatalf("actions %q", kinds(acts))
		}
		h.wantState(Requesting)
	})
}

func TestBinding(t *testing.T) {
	t.Run("RFC2131 4.4.1 ACK, ARP probe, then BOUND with the lease configured, saved, hooked", func(t *testing.T) {
		h := newHarness(t, nil)
		disc, _ := sent(t, h.start(nil))
		h.recv(reply(disc, dhcpv4.Offer, addrA, serverA, leaseOpts(time.Hour)))
		req, _ := sent(t, h.fire())
		h.at(time.Second)
		acts := h.recv(reply(req, dhcpv4.Ack, addrA, serverA, leaseOpts(time.Hour)))
		wantKinds(t, acts, "probe")
		if p := find[Probe](t, acts); p.Addr != addrA {
			t.Errorf("probe %v, want %v", p.Addr, addrA)
		}
		h.wantState(Probing)
		h.wantNoDeadline()
		if h.m.Lease() != nil {
			t.Errorf("a lease before the probe's answer")
		}
		h.at(3 * time.Second)
		acts = h.probe(addrA, false)
		wantKinds(t, acts, "configure save hook-BOUND")
		l := find[Configure](t, acts).Lease
		if find[Configure](t, acts).Old != nil {
			t.Errorf("configure replaces an old lease")
		}
		if find[Save](t, acts).Lease != l || find[RunHook](t, acts).Hook.Lease != l {
			t.Errorf("save and hook are about another lease")
		}
		want := &Lease{
			Interface: "eth0",
			Addr:      netip.MustParsePrefix("198.18.0.100/24"),
			ServerID:  serverA,
			Routers:   []netip.Addr{routerAddr},
			DNS:       addrs("198.18.0.53", "198.18.0.54"),
			Domain:    "example.net",
			LeaseTime: time.Hour,
			T1:        30 * time.Minute,
			T2:        52*time.Minute + 30*time.Second,
			Start:     t0.Add(window), // RFC 2131 4.4.1: from the REQUEST
		}
		if !leaseEqual(l, want) {
			t.Errorf("lease\n got %+v\nwant %+v", l, want)
		}
		h.wantState(Bound)
		h.wantDeadline(window + 30*time.Minute)
	})
	t.Run("probe result for another address ignored", func(t *testing.T) {
		h := newHarness(t, nil)
		disc, _ := sent(t, h.start(nil))
		h.recv(reply(disc, dhcpv4.Offer, addrA, serverA, leaseOpts(time.Hour)))
		req, _ := sent(t, h.fire())
		h.recv(reply(req, dhcpv4.Ack, addrA, serverA, leaseOpts(time.Hour)))
		if acts := h.probe(addrB, true); acts != nil {
			t.Fatalf("actions %q", kinds(acts))
		}
		h.wantState(Probing)
	})
	t.Run("no probe: ACK binds at once", func(t *testing.T) {
		h := newHarness(t, func(c *Config) { c.NoProbe = true })
		h.bound(time.Hour)
	})
	t.Run("RFC2131 4.4.5 T1 and T2 from options 58 and 59", func(t *testing.T) {
		h := newHarness(t, nil)
		l := h.bound(time.Hour, withDuration(dhcpv4.OptRenewalTime, 10*time.Minute), withDuration(dhcpv4.OptRebindingTime, 20*time.Minute))
		if l.T1 != 10*time.Minute || l.T2 != 20*time.Minute {
			t.Errorf("T1 %v T2 %v, want 10m 20m", l.T1, l.T2)
		}
		h.wantDeadline(window + 10*time.Minute)
	})
	t.Run("RFC2131 3.3 infinite lease: no timer", func(t *testing.T) {
		h := newHarness(t, nil)
		l := h.bound(dhcpv4.Infinite)
		if !l.Infinite() || !l.Expiry().IsZero() {
			t.Errorf("lease %v infinite %v expiry %v", l.LeaseTime, l.Infinite(), l.Expiry())
		}
		h.wantNoDeadline()
	})
}

func TestDecline(t *testing.T) {
	t.Run("RFC2131 4.4.1 conflict: DECLINE, forget, INIT for 10 s, then DISCOVER without the address", func(t *testing.T) {
		h := newHarness(t, nil)
		disc, _ := sent(t, h.start(nil))
		h.recv(reply(disc, dhcpv4.Offer, addrA, serverA, leaseOpts(time.Hour)))
		req, _ := sent(t, h.fire())
		h.at(time.Second)
		h.recv(reply(req, dhcpv4.Ack, addrA, serverA, leaseOpts(time.Hour)))
		h.at(3 * time.Second)
		acts := h.probe(addrA, true)
		wantKinds(t, acts, "send-DECLINE forget")
		dec, to := sent(t, acts)
		if to.IsValid() {
			t.Errorf("DECLINE unicast to %v, want broadcast", to)
		}
		if a, _ := dec.Options.Addr(dhcpv4.OptRequestedIP); a != addrA {
			t.Errorf("DECLINE requested address %v, want %v", a, addrA)
		}
		if s, _ := dec.Options.Addr(dhcpv4.OptServerID); s != serverA {
			t.Errorf("DECLINE server id %v, want %v", s, serverA)
		}
		if !dec.CIAddr.IsUnspecified() || dec.Options.Has(dhcpv4.OptParameterRequestList) {
			t.Errorf("DECLINE ciaddr %v, parameter list %v (RFC 2131 Table 5: neither)", dec.CIAddr, dec.Options.Has(dhcpv4.OptParameterRequestList))
		}
		if id, _ := dec.Options.Get(dhcpv4.OptClientID); len(id) == 0 {
			t.Errorf("DECLINE without client identifier")
		}
		h.wantState(Init)
		h.wantDeadline(3*time.Second + DefaultDeclineWait)
		if h.m.Lease() != nil {
			t.Errorf("a lease after DECLINE")
		}
		d, _ := sent(t, h.fire())
		if d.MessageType() != dhcpv4.Discover || d.Options.Has(dhcpv4.OptRequestedIP) {
			t.Errorf("after the pause sent %v, want DISCOVER without requested address", d)
		}
		h.wantState(Selecting)
	})
	t.Run("decline wait configurable", func(t *testing.T) {
		h := newHarness(t, func(c *Config) { c.DeclineWait = 2 * time.Second; c.OfferWait = -1 })
		disc, _ := sent(t, h.start(nil))
		req, _ := sent(t, h.recv(reply(disc, dhcpv4.Offer, addrA, serverA, leaseOpts(time.Hour))))
		h.recv(reply(req, dhcpv4.Ack, addrA, serverA, leaseOpts(time.Hour)))
		h.probe(addrA, true)
		h.wantDeadline(2 * time.Second)
	})
}

func TestLeaseTimers(t *testing.T) {
	// A one-day lease: T1 12h, T2 21h after the start at t0+window.
	const lt = 24 * time.Hour
	start := window
	t1, t2, exp := start+12*time.Hour, start+21*time.Hour, start+lt

	t.Run("RFC2131 4.4.5 RENEWING at T1: unicast REQUEST with ciaddr, no server id or requested address", func(t *testing.T) {
		h := newHarness(t, nil)
		l := h.bound(lt)
		h.wantDeadline(t1)
		acts := h.fire()
		h.wantState(Renewing)
		p, to := sent(t, acts)
		if to != serverA {
			t.Errorf("renewal to %v, want unicast to %v", to, serverA)
		}
		if p.MessageType() != dhcpv4.Request || p.CIAddr != l.Addr.Addr() || p.Broadcast() || p.Secs != 0 {
			t.Errorf("renewal %v", p)
		}
		if p.Options.Has(dhcpv4.OptRequestedIP) || p.Options.Has(dhcpv4.OptServerID) {
			t.Errorf("renewal with requested address or server id (RFC 2131 Table 5 forbids): %v", p)
		}
	})
	t.Run("RFC2131 4.4.5 RENEWING retransmits at half the time to T2, down to 60 s, until T2", func(t *testing.T) {
		h := newHarness(t, nil)
		h.bound(lt)
		first, _ := sent(t, h.fire())
		at := t1
		for i := 0; ; i++ {
			left := t2 - at
			next := at + max(left/2, time.Minute)
			if next > t2 {
				next = t2
			}
			h.wantDeadline(next)
			if next == t2 {
				break
			}
			p, to := sent(t, h.fire())
			if to != serverA || p.XID != first.XID || p.CIAddr != addrA {
				t.Fatalf("retransmission %d: %v to %v", i+1, p, to)
			}
			if want := uint16((next - t1) / time.Second); p.Secs != want {
				t.Errorf("retransmission %d: secs %d, want %d", i+1, p.Secs, want)
			}
			at = next
			if i > 30 {
				t.Fatal("no end to the retransmissions")
			}
		}
	})
	t.Run("RFC2131 4.4.5 REBINDING message and retransmissions until expiry, then EXPIRE and INIT", func(t *testing.T) {
		h := newHarness(t, nil)
		l := h.bound(lt)
		var rebind *dhcpv4.Packet
		var renewXID uint32
		for i := 0; rebind == nil; i++ {
			if i > 50 {
				t.Fatal("never REBINDING")
			}
			acts := h.fire()
			p, to := sent(t, acts)
			if h.m.State() == Rebinding {
				if to.IsValid() {
					t.Fatalf("rebinding unicast to %v", to)
				}
				rebind = p
			} else {
				renewXID = p.XID
			}
		}
		if rebind.CIAddr != addrA || rebind.XID == renewXID || rebind.Options.Has(dhcpv4.OptServerID) || rebind.Options.Has(dhcpv4.OptRequestedIP) {
			t.Errorf("rebinding %v", rebind)
		}
		if want := uint16((t2 - t1) / time.Second); rebind.Secs != want {
			t.Errorf("rebinding secs %d, want %d (since renewing began)", rebind.Secs, want)
		}
		at := t2
		for i := 0; ; i++ {
			if i > 50 {
				t.Fatal("no end to the retransmissions")
			}
			next := min(at+max((exp-at)/2, time.Minute), exp)
			h.wantDeadline(next)
			if next == exp {
				break
			}
			p, to := sent(t, h.fire())
			if to.IsValid() || p.XID != rebind.XID {
				t.Fatalf("rebinding retransmission %v to %v", p, to)
			}
			at = next
		}
		acts := h.fire()
		wantKinds(t, acts, "deconfigure hook-EXPIRE send-DISCOVER")
		if d := find[Deconfigure](t, acts); d.Lease != l {
			t.Errorf("deconfigure %v, want the lease", d.Lease)
		}
		if hk := find[RunHook](t, acts).Hook; hk.Lease != l {
			t.Errorf("hook lease %v", hk.Lease)
		}
		d, _ := sent(t, acts)
		if a, _ := d.Options.Addr(dhcpv4.OptRequestedIP); a != addrA {
			t.Errorf("DISCOVER after expiry asks for %v, want the old %v", a, addrA)
		}
		h.wantState(Selecting)
		if h.m.Lease() != nil {
			t.Errorf("lease kept after expiry")
		}
	})
	t.Run("late timer after T2 goes straight to REBINDING", func(t *testing.T) {
		h := newHarness(t, nil)
		h.bound(lt)
		h.at(t2 + time.Hour)
		_, to := sent(t, h.timer())
		h.wantState(Rebinding)
		if to.IsValid() {
			t.Errorf("unicast to %v", to)
		}
	})
	t.Run("late timer after expiry expires", func(t *testing.T) {
		h := newHarness(t, nil)
		h.bound(lt)
		h.at(exp + time.Hour)
		wantKinds(t, h.timer(), "deconfigure hook-EXPIRE send-DISCOVER")
	})
}

func TestRenewalAck(t *testing.T) {
	const lt = time.Hour
	for _, tc := range []struct {
		name     string
		rebind   bool
		yiaddr   netip.Addr
		wantWhy  Reason
		wantAddr netip.Addr
	}{
		{"RFC2131 4.4.5 ACK in RENEWING extends the lease: RENEW", false, addrA, ReasonRenew, addrA},
		{"RFC2131 4.4.5 ACK in REBINDING extends the lease: REBIND", true, addrA, ReasonRebind, addrA},
		{"ACK in REBINDING with another address: BOUND replacing the old", true, addrB, ReasonBound, addrB},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, nil)
			old := h.bound(lt)
			req, _ := sent(t, h.fire())
			if tc.rebind {
				for i := 0; h.m.State() != Rebinding; i++ {
					if i > 50 {
						t.Fatal("never REBINDING")
					}
					req, _ = sent(t, h.fire())
				}
			}
			sentAt := h.now
			h.now = h.now.Add(2 * time.Second)
			acts := h.recv(reply(req, dhcpv4.Ack, tc.yiaddr, serverB, leaseOpts(lt)))
			wantKinds(t, acts, "configure save hook-"+string(tc.wantWhy))
			c := find[Configure](t, acts)
			if c.Old != old || c.Lease.Addr.Addr() != tc.wantAddr {
				t.Errorf("configure %v replacing %v, want %v replacing the old lease", c.Lease.Addr, c.Old, tc.wantAddr)
			}
			if hk := find[RunHook](t, acts).Hook; hk.Old != old {
				t.Errorf("hook without the old lease")
			}
			if !c.Lease.Start.Equal(sentAt) {
				t.Errorf("lease starts t0+%v, want when the request was sent, t0+%v", c.Lease.Start.Sub(t0), sentAt.Sub(t0))
			}
			if c.Lease.ServerID != serverB {
				t.Errorf("server id %v, want the acknowledging %v", c.Lease.ServerID, serverB)
			}
			h.wantState(Bound)
			if got, want := h.m.Deadline(), sentAt.Add(lt/2); !got.Equal(want) {
				t.Errorf("next T1 t0+%v, want t0+%v", got.Sub(t0), want.Sub(t0))
			}
		})
	}
	t.Run("ACK in RENEWING without a server id keeps the old one", func(t *testing.T) {
		h := newHarness(t, nil)
		h.bound(lt)
		req, _ := sent(t, h.fire())
		acts := h.recv(reply(req, dhcpv4.Ack, addrA, netip.Addr{}, leaseOpts(lt)))
		if l := find[Configure](t, acts).Lease; l.ServerID != serverA {
			t.Errorf("server id %v, want %v", l.ServerID, serverA)
		}
	})
	t.Run("ACK to an earlier renewal xid ignored", func(t *testing.T) {
		h := newHarness(t, nil)
		h.bound(lt)
		renew, _ := sent(t, h.fire())
		h.fireUntil(Rebinding)
		if acts := h.recv(reply(renew, dhcpv4.Ack, addrA, serverA, leaseOpts(lt))); acts != nil {
			t.Fatalf("actions %q", kinds(acts))
		}
	})
}

func TestNak(t *testing.T) {
	const lt = time.Hour
	// Each setup returns the harness in the state under test and the last
	// request sent.
	requesting := func(t *testing.T) (*harness, *dhcpv4.Packet) {
		h := newHarness(t, nil)
		disc, _ := sent(t, h.start(nil))
		h.recv(reply(disc, dhcpv4.Offer, addrA, serverA, leaseOpts(lt)))
		req, _ := sent(t, h.fire())
		return h, req
	}
	renewing := func(t *testing.T) (*harness, *dhcpv4.Packet) {
		h := newHarness(t, nil)
		h.bound(lt)
		req, _ := sent(t, h.fire())
		return h, req
	}
	rebinding := func(t *testing.T) (*harness, *dhcpv4.Packet) {
		h, req := renewing(t)
		for i := 0; h.m.State() != Rebinding; i++ {
			if i > 50 {
				t.Fatal("never REBINDING")
			}
			req, _ = sent(t, h.fire())
		}
		return h, req
	}
	rebooting := func(t *testing.T) (*harness, *dhcpv4.Packet) {
		h := newHarness(t, nil)
		req, _ := sent(t, h.start(&Lease{Addr: netip.PrefixFrom(addrA, 24), ServerID: serverA, LeaseTime: lt, Start: t0.Add(-time.Minute)}))
		return h, req
	}
	for _, tc := range []struct {
		name   string
		setup  func(*testing.T) (*harness, *dhcpv4.Packet)
		server netip.Addr
		want   string // actions; "" means ignored
	}{
		{"RFC2131 3.1 step 5 NAK in REQUESTING from the chosen server restarts", requesting, serverA, "hook-NAK forget send-DISCOVER"},
		{"RFC2131 4.4.1 NAK in REQUESTING from a server not chosen ignored", requesting, serverB, ""},
		{"NAK in REQUESTING without server id accepted", requesting, netip.Addr{}, "hook-NAK forget send-DISCOVER"},
		{"RFC2131 4.4.5 NAK in RENEWING removes the address and restarts", renewing, serverA, "deconfigure hook-NAK forget send-DISCOVER"},
		{"NAK in RENEWING from another server ignored", renewing, serverB, ""},
		{"RFC2131 4.4.5 NAK in REBINDING from any server removes the address", rebinding, serverB, "deconfigure hook-NAK forget send-DISCOVER"},
		{"RFC2131 3.2 NAK in REBOOTING removes the remembered lease and restarts", rebooting, serverB, "deconfigure hook-NAK forget send-DISCOVER"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, req := tc.setup(t)
			before, lease := h.m.State(), h.m.Lease()
			if before == Rebooting {
				lease = h.m.remembered
			}
			acts := h.recv(reply(req, dhcpv4.Nak, netip.IPv4Unspecified(), tc.server))
			if tc.want == "" {
				if acts != nil {
					t.Fatalf("actions %q, want the NAK ignored", kinds(acts))
				}
				h.wantState(before)
				return
			}
			wantKinds(t, acts, tc.want)
			if hk := find[RunHook](t, acts).Hook; hk.Lease != lease {
				t.Errorf("hook lease %v, want %v", hk.Lease, lease)
			}
			d, _ := sent(t, acts)
			if d.Options.Has(dhcpv4.OptRequestedIP) {
				t.Errorf("DISCOVER after NAK asks for an address: %v", d)
			}
			h.wantState(Selecting)
			if h.m.Lease() != nil {
				t.Errorf("lease kept after NAK")
			}
		})
	}
	t.Run("repeated NAKs back off 4 s then 8 s", func(t *testing.T) {
		h, req := requesting(t)
		h.recv(reply(req, dhcpv4.Nak, netip.IPv4Unspecified(), serverA))
		for i, wait := range []time.Duration{4 * time.Second, 8 * time.Second} {
			disc, _ := sent(t, h.fire())
			h.recv(reply(disc, dhcpv4.Offer, addrA, serverA, leaseOpts(lt)))
			req, _ := sent(t, h.fire())
			acts := h.recv(reply(req, dhcpv4.Nak, netip.IPv4Unspecified(), serverA))
			wantKinds(t, acts, "hook-NAK forget")
			h.wantState(Init)
			if got := h.m.Deadline().Sub(h.now); got != wait {
				t.Errorf("NAK %d: pause %v, want %v", i+2, got, wait)
			}
		}
		d, _ := sent(t, h.fire())
		if d.MessageType() != dhcpv4.Discover {
			t.Errorf("after the pause: %v", d)
		}
	})
	t.Run("NAK in BOUND (no exchange) ignored", func(t *testing.T) {
		h := newHarness(t, nil)
		h.bound(lt)
		p := &dhcpv4.Packet{Op: dhcpv4.BootRequest}
		p.SetHardwareAddr(1, testMAC)
		p.XID = h.m.xid
		if acts := h.recv(reply(p, dhcpv4.Nak, netip.IPv4Unspecified(), serverA)); acts != nil {
			t.Fatalf("actions %q", kinds(acts))
		}
		h.wantState(Bound)
	})
}

func TestInitReboot(t *testing.T) {
	saved := &Lease{
		Addr: netip.PrefixFrom(addrPrev, 24), ServerID: serverA,
		LeaseTime: time.Hour, T1: 30 * time.Minute, T2: 52*time.Minute + 30*time.Second,
		Start: t0.Add(-10 * time.Minute),
	}
	t.Run("RFC2131 4.4.2 unexpired saved lease: broadcast REQUEST with requested address, no server id, no ciaddr", func(t *testing.T) {
		h := newHarness(t, nil)
		acts := h.start(saved)
		h.wantState(Rebooting)
		p, to := sent(t, acts)
		if to.IsValid() || p.MessageType() != dhcpv4.Request {
			t.Fatalf("sent %v to %v", p, to)
		}
		if a, _ := p.Options.Addr(dhcpv4.OptRequestedIP); a != addrPrev {
			t.Errorf("requested %v, want %v", a, addrPrev)
		}
		if p.Options.Has(dhcpv4.OptServerID) || !p.CIAddr.IsUnspecified() {
			t.Errorf("server id or ciaddr in INIT-REBOOT: %v", p)
		}
		h.wantDeadline(4 * time.Second)
	})
	t.Run("RFC2131 4.4.2 ACK probes and binds with REBOOT", func(t *testing.T) {
		h := newHarness(t, nil)
		req, _ := sent(t, h.start(saved))
		h.at(time.Second)
		acts := h.recv(reply(req, dhcpv4.Ack, addrPrev, serverA, leaseOpts(time.Hour)))
		wantKinds(t, acts, "probe")
		acts = h.probe(addrPrev, false)
		wantKinds(t, acts, "configure save hook-REBOOT")
		if l := h.m.Lease(); l.Addr.Addr() != addrPrev || !l.Start.Equal(t0) {
			t.Errorf("lease %v from t0+%v", l.Addr, l.Start.Sub(t0))
		}
	})
	t.Run("ACK of another address in REBOOTING ignored", func(t *testing.T) {
		h := newHarness(t, nil)
		req, _ := sent(t, h.start(saved))
		if acts := h.recv(reply(req, dhcpv4.Ack, addrA, serverA, leaseOpts(time.Hour))); acts != nil {
			t.Fatalf("actions %q", kinds(acts))
		}
	})
	t.Run("no answer: retransmit 4 s later, give up at 10 s and DISCOVER for the address", func(t *testing.T) {
		h := newHarness(t, nil)
		first, _ := sent(t, h.start(saved))
		p, _ := sent(t, h.fire())
		if p.XID != first.XID || p.Secs != 4 || !h.now.Equal(t0.Add(4*time.Second)) {
			t.Errorf("retransmission at t0+%v: %v", h.now.Sub(t0), p)
		}
		h.wantDeadline(DefaultRebootTimeout)
		d, _ := sent(t, h.fire())
		if d.MessageType() != dhcpv4.Discover {
			t.Fatalf("after the reboot timeout: %v", d)
		}
		if a, _ := d.Options.Addr(dhcpv4.OptRequestedIP); a != addrPrev {
			t.Errorf("DISCOVER asks for %v, want %v", a, addrPrev)
		}
		h.wantState(Selecting)
	})
	t.Run("after giving up REBOOTING, the next binding replaces the remembered lease", func(t *testing.T) {
		h := newHarness(t, func(c *Config) { c.NoProbe = true; c.OfferWait = -1 })
		h.start(saved)
		h.fire()
		disc, _ := sent(t, h.fire()) // 10 s: DISCOVER
		req, _ := sent(t, h.recv(reply(disc, dhcpv4.Offer, addrA, serverA, leaseOpts(time.Hour))))
		acts := h.recv(reply(req, dhcpv4.Ack, addrA, serverA, leaseOpts(time.Hour)))
		c := find[Configure](t, acts)
		if c.Old != saved || c.Lease.Addr.Addr() != addrA {
			t.Errorf("configure %v replacing %v, want %v replacing the remembered lease", c.Lease.Addr, c.Old, addrA)
		}
	})
	t.Run("release after giving up REBOOTING releases the remembered lease", func(t *testing.T) {
		h := newHarness(t, nil)
		h.start(saved)
		h.fire()
		h.fire()
		h.wantState(Selecting)
		acts := h.m.Release(h.now)
		wantKinds(t, acts, "send-RELEASE@198.18.0.1 deconfigure hook-RELEASE forget")
		if p, _ := sent(t, acts); p.CIAddr != addrPrev {
			t.Errorf("RELEASE of %v, want %v", p.CIAddr, addrPrev)
		}
	})
	t.Run("probe conflict in REBOOTING declines and forgets", func(t *testing.T) {
		h := newHarness(t, nil)
		req, _ := sent(t, h.start(saved))
		h.recv(reply(req, dhcpv4.Ack, addrPrev, serverA, leaseOpts(time.Hour)))
		acts := h.probe(addrPrev, true)
		wantKinds(t, acts, "send-DECLINE deconfigure forget")
		if d := find[Deconfigure](t, acts); d.Lease.Addr.Addr() != addrPrev {
			t.Errorf("deconfigures %v, want the remembered %v, which may still be configured", d.Lease.Addr, addrPrev)
		}
		h.wantState(Init)
		d, _ := sent(t, h.fire())
		if d.MessageType() != dhcpv4.Discover || d.Options.Has(dhcpv4.OptRequestedIP) {
			t.Errorf("after the pause sent %v, want DISCOVER not asking for the declined address", d)
		}
	})
	t.Run("expired saved lease: DISCOVER asking for it", func(t *testing.T) {
		h := newHarness(t, nil)
		old := saved.Clone()
		old.Start = t0.Add(-2 * time.Hour)
		p, _ := sent(t, h.start(old))
		if p.MessageType() != dhcpv4.Discover {
			t.Fatalf("sent %v", p)
		}
		h.wantState(Selecting)
	})
	t.Run("start delay: INIT-REBOOT waits for the deadline", func(t *testing.T) {
		h := newHarness(t, func(c *Config) { c.InitDelay = 10 * time.Second })
		if acts := h.start(saved); acts != nil {
			t.Fatalf("actions at start %q", kinds(acts))
		}
		h.wantState(InitReboot)
		h.wantDeadline(5*time.Second + 1)
		p, _ := sent(t, h.fire())
		if p.MessageType() != dhcpv4.Request {
			t.Errorf("sent %v", p)
		}
		h.wantState(Rebooting)
	})
	t.Run("RFC2131 4.4.1 start delay before the first DISCOVER", func(t *testing.T) {
		h := newHarness(t, func(c *Config) { c.InitDelay = 10 * time.Second })
		if acts := h.start(nil); acts != nil {
			t.Fatalf("actions at start %q", kinds(acts))
		}
		h.wantState(Init)
		wantKinds(t, h.fire(), "send-DISCOVER")
	})
	t.Run("Start twice does nothing the second time", func(t *testing.T) {
		h := newHarness(t, nil)
		h.start(nil)
		if acts := h.start(saved); acts != nil {
			t.Fatalf("actions %q", kinds(acts))
		}
	})
}

func TestRelease(t *testing.T) {
	t.Run("RFC2131 4.4.6 RELEASE unicast to the server with ciaddr, then deconfigure, hook, forget, STOPPED", func(t *testing.T) {
		h := newHarness(t, nil)
		l := h.bound(time.Hour)
		xid := h.m.xid
		acts := h.m.Release(h.now)
		wantKinds(t, acts, "send-RELEASE@198.18.0.1 deconfigure hook-RELEASE forget")
		p, _ := sent(t, acts)
		if p.CIAddr != addrA || p.XID == xid {
			t.Errorf("RELEASE ciaddr %v xid %#x (old %#x)", p.CIAddr, p.XID, xid)
		}
		if s, _ := p.Options.Addr(dhcpv4.OptServerID); s != serverA {
			t.Errorf("RELEASE server id %v", s)
		}
		if p.Options.Has(dhcpv4.OptRequestedIP) || p.Options.Has(dhcpv4.OptParameterRequestList) {
			t.Errorf("RELEASE with requested address or parameter list (RFC 2131 Table 5 forbids): %v", p)
		}
		if find[Deconfigure](t, acts).Lease != l {
			t.Errorf("deconfigures another lease")
		}
		h.wantState(Stopped)
		h.wantNoDeadline()
		if h.m.Lease() != nil {
			t.Errorf("lease kept after release")
		}
		if acts := h.m.Release(h.now); acts != nil {
			t.Errorf("second release: %q", kinds(acts))
		}
	})
	t.Run("RFC2131 4.4.6 release while renewing", func(t *testing.T) {
		h := newHarness(t, nil)
		h.bound(time.Hour)
		h.fire()
		h.wantState(Renewing)
		wantKinds(t, h.m.Release(h.now), "send-RELEASE@198.18.0.1 deconfigure hook-RELEASE forget")
	})
	t.Run("release while selecting sends nothing and stops", func(t *testing.T) {
		h := newHarness(t, nil)
		h.start(nil)
		if acts := h.m.Release(h.now); acts != nil {
			t.Fatalf("actions %q", kinds(acts))
		}
		h.wantState(Stopped)
		h.wantNoDeadline()
	})
	t.Run("release while probing gives the acknowledged address back", func(t *testing.T) {
		h := newHarness(t, func(c *Config) { c.OfferWait = -1 })
		disc, _ := sent(t, h.start(nil))
		req, _ := sent(t, h.recv(reply(disc, dhcpv4.Offer, addrA, serverA, leaseOpts(time.Hour))))
		h.recv(reply(req, dhcpv4.Ack, addrA, serverA, leaseOpts(time.Hour)))
		wantKinds(t, h.m.Release(h.now), "send-RELEASE@198.18.0.1 forget")
		if acts := h.probe(addrA, false); acts != nil {
			t.Errorf("probe result after release: %q", kinds(acts))
		}
	})
	t.Run("resume a saved lease, then release it", func(t *testing.T) {
		h := newHarness(t, nil)
		l := &Lease{Addr: netip.PrefixFrom(addrA, 24), ServerID: serverA, LeaseTime: time.Hour, T1: 30 * time.Minute, T2: 50 * time.Minute, Start: t0}
		if acts := h.m.Resume(h.now, l); acts != nil {
			t.Fatalf("resume actions %q", kinds(acts))
		}
		h.wantState(Bound)
		h.wantDeadline(30 * time.Minute)
		wantKinds(t, h.m.Release(h.now), "send-RELEASE@198.18.0.1 deconfigure hook-RELEASE forget")
	})
	t.Run("resume past T2 rebinds at the first timer", func(t *testing.T) {
		h := newHarness(t, nil)
		l := &Lease{Addr: netip.PrefixFrom(addrA, 24), ServerID: serverA, LeaseTime: time.Hour, T1: 30 * time.Minute, T2: 50 * time.Minute, Start: t0.Add(-55 * time.Minute)}
		h.m.Resume(h.now, l)
		_, to := sent(t, h.timer())
		h.wantState(Rebinding)
		if to.IsValid() {
			t.Errorf("unicast to %v", to)
		}
	})
}

func TestInform(t *testing.T) {
	static := netip.MustParsePrefix("198.18.0.10/24")
	t.Run("RFC2131 4.4.3 INFORM with ciaddr, no requested address, then INFORMED with the options", func(t *testing.T) {
		h := newHarness(t, func(c *Config) { c.Inform = static })
		acts := h.start(nil)
		h.wantState(Informing)
		p, to := sent(t, acts)
		if p.MessageType() != dhcpv4.Inform || p.CIAddr != static.Addr() || to.IsValid() {
			t.Fatalf("sent %v to %v", p, to)
		}
		if p.Options.Has(dhcpv4.OptRequestedIP) || p.Options.Has(dhcpv4.OptServerID) || !p.Options.Has(dhcpv4.OptParameterRequestList) {
			t.Errorf("INFORM options: %v", p)
		}
		again, _ := sent(t, h.fire())
		if again.XID != p.XID || again.Secs != 4 {
			t.Errorf("retransmission %v", again)
		}
		ack := reply(again, dhcpv4.Ack, netip.IPv4Unspecified(), serverA, leaseOpts(time.Hour))
		acts = h.recv(ack)
		wantKinds(t, acts, "hook-INFORM")
		l := find[RunHook](t, acts).Hook.Lease
		if l.Addr != static || !equalAddrs(l.DNS, addrs("198.18.0.53", "198.18.0.54")) || l.Domain != "example.net" {
			t.Errorf("informed %+v", l)
		}
		h.wantState(Informed)
		h.wantNoDeadline()
	})
}

func TestTimerBeforeDeadline(t *testing.T) {
	h := newHarness(t, nil)
	h.bound(time.Hour)
	h.at(10 * time.Minute)
	if acts := h.timer(); acts != nil {
		t.Fatalf("stale timer acted: %q", kinds(acts))
	}
	h.wantState(Bound)
}

func TestEffectiveTimes(t *testing.T) {
	const lt = 100 * time.Second
	for _, tc := range []struct {
		name           string
		t1, t2         time.Duration
		wantT1, wantT2 time.Duration
	}{
		{"RFC2131 4.4.5 defaults 1/2 and 7/8, in whole seconds", 0, 0, 50 * time.Second, 87 * time.Second},
		{"both sent and consistent", 20 * time.Second, 40 * time.Second, 20 * time.Second, 40 * time.Second},
		{"T1 alone", 30 * time.Second, 0, 30 * time.Second, 87 * time.Second},
		{"T2 alone", 0, 90 * time.Second, 50 * time.Second, 90 * time.Second},
		{"T1 after T2: T1 dropped", 95 * time.Second, 90 * time.Second, 50 * time.Second, 90 * time.Second},
		{"T2 at the lease time: T2 dropped", 20 * time.Second, 100 * time.Second, 20 * time.Second, 87 * time.Second},
		{"both past the lease: defaults", 200 * time.Second, 300 * time.Second, 50 * time.Second, 87 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t1, t2 := effectiveTimes(lt, tc.t1, tc.t2)
			if t1 != tc.wantT1 || t2 != tc.wantT2 {
				t.Errorf("effectiveTimes(%v, %v, %v) = %v, %v, want %v, %v", lt, tc.t1, tc.t2, t1, t2, tc.wantT1, tc.wantT2)
			}
		})
	}
}

func TestStateString(t *testing.T) {
	for s, want := range map[State]string{Init: "INIT", InitReboot: "INIT-REBOOT", Rebinding: "REBINDING", Stopped: "STOPPED", State(99): "state(99)"} {
		if got := s.String(); got != want {
			t.Errorf("State(%d).String() = %q, want %q", s, got, want)
		}
	}
}

// leaseEqual compares leases field by field.
func leaseEqual(a, b *Lease) bool {
	return a.Interface == b.Interface && a.Addr == b.Addr && a.ServerID == b.ServerID &&
		slices.Equal(a.Routers, b.Routers) && slices.Equal(a.Routes, b.Routes) &&
		slices.Equal(a.DNS, b.DNS) && a.Domain == b.Domain && slices.Equal(a.Search, b.Search) &&
		slices.Equal(a.NTP, b.NTP) && a.Broadcast == b.Broadcast && a.MTU == b.MTU &&
		a.Hostname == b.Hostname && a.LeaseTime == b.LeaseTime && a.T1 == b.T1 && a.T2 == b.T2 &&
		a.Start.Equal(b.Start)
}

package dhcpv4

import (
	"net/netip"
	"slices"
	"testing"
	"time"
)

// goldenMsg returns the golden packet name.
func goldenMsg(tb testing.TB, name string) []byte {
	tb.Helper()
	for _, g := range loadGolden(tb) {
		if g.name == name {
			return g.msg
		}
	}
	tb.Fatalf("no golden packet %s", name)
	return nil
}

// The messages a server parses and builds most.
var benchParse = []struct{ name, file string }{
	{"DISCOVER", "dhclient-discover"},
	{"REQUEST", "dhclient-request-selecting"},
	{"ACK", "dnsmasq-ack"},
}

// replyValues are the encoded option values of a typical subnet's replies.
type replyValues struct {
	yiaddr, server, mask, bcast netip.Addr
	routers, dns                []netip.Addr
	search                      []byte
	routes                      []byte
	relay                       []byte
}

func newReplyValues(tb testing.TB) *replyValues {
	search, err := AppendDomainList(nil, []string{"golden.test", "eng.golden.test"})
	if err != nil {
		tb.Fatal(err)
	}
	routes, err := AppendClasslessRoutes(nil, []Route{
		{netip.MustParsePrefix("198.19.0.0/16"), addr("198.18.0.254")},
		{netip.MustParsePrefix("0.0.0.0/0"), addr("198.18.0.1")},
	})
	if err != nil {
		tb.Fatal(err)
	}
	return &replyValues{
		yiaddr:  addr("198.18.0.187"),
		server:  addr("198.18.0.1"),
		mask:    addr("255.255.255.0"),
		bcast:   addr("198.18.0.255"),
		routers: []netip.Addr{addr("198.18.0.1")},
		dns:     []netip.Addr{addr("198.18.0.53"), addr("198.18.0.54")},
		search:  search,
		routes:  routes,
		relay:   slices.Concat(AppendSubOption(nil, RelayCircuitID, []byte("eth0:7")), AppendSubOption(nil, RelayRemoteID, []byte{1, 2, 3, 4, 5, 6})),
	}
}

// fillReply makes reply a server's answer of type t to req, as a server
// engine would: Reset, the fixed fields, then the options.
func fillReply(reply, req *Packet, t MessageType, v *replyValues) {
	reply.Reset()
	reply.Op, reply.HType, reply.HLen = BootReply, req.HType, req.HLen
	reply.XID, reply.Flags, reply.GIAddr, reply.CHAddr = req.XID, req.Flags, req.GIAddr, req.CHAddr
	reply.YIAddr, reply.SIAddr = v.yiaddr, v.server
	o := &reply.Options
	o.SetMessageType(t)
	o.SetAddr(OptServerID, v.server)
	o.SetDuration(OptLeaseTime, 2*time.Hour)
	o.SetDuration(OptRenewalTime, time.Hour)
	o.SetDuration(OptRebindingTime, 105*time.Minute)
	o.SetAddr(OptSubnetMask, v.mask)
	o.SetAddr(OptBroadcastAddress, v.bcast)
	o.SetAddrs(OptRouter, v.routers)
	o.SetAddrs(OptDNSServers, v.dns)
	o.SetString(OptDomainName, "golden.test")
	o.Set(OptDomainSearch, v.search)
	o.Set(OptClasslessRoutes, v.routes)
	o.Set(OptRelayAgentInfo, v.relay)
}

func BenchmarkParse(b *testing.B) {
	for _, bc := range benchParse {
		b.Run(bc.name, func(b *testing.B) {
			msg := goldenMsg(b, bc.file)
			var p Packet
			if err := Parse(msg, &p); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(msg)))
			for b.Loop() {
				if err := Parse(msg, &p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkAppend(b *testing.B) {
	v := newReplyValues(b)
	var req Packet
	if err := Parse(goldenMsg(b, "dhclient-request-selecting"), &req); err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name   string
		t      MessageType
		maxLen int
		extra  int // bytes of an extra option, to force overloading
	}{
		{"OFFER", Offer, DefaultMaxMessageSize, 0},
		{"ACK", Ack, 1500, 0},
		{"ACK-overloaded", Ack, 400, 200},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var reply Packet
			fillReply(&reply, &req, bc.t, v)
			if bc.extra > 0 {
				reply.Options.Set(OptVendorSpecific, make([]byte, bc.extra))
			}
			buf := make([]byte, 0, 1500)
			out, err := reply.Append(buf, bc.maxLen)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(out)))
			for b.Loop() {
				if _, err := reply.Append(buf[:0], bc.maxLen); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkReplyOptions(b *testing.B) {
	v := newReplyValues(b)
	var req, reply Packet
	if err := Parse(goldenMsg(b, "dhclient-discover"), &req); err != nil {
		b.Fatal(err)
	}
	fillReply(&reply, &req, Offer, v)
	b.ReportAllocs()
	for b.Loop() {
		fillReply(&reply, &req, Offer, v)
	}
}

// BenchmarkDiscoverToOffer is the whole wire-format share of answering a
// DISCOVER: parse it, fill the reply, build the OFFER.
func BenchmarkDiscoverToOffer(b *testing.B) {
	v := newReplyValues(b)
	msg := goldenMsg(b, "dhclient-discover")
	var req, reply Packet
	buf := make([]byte, 0, 1500)
	b.ReportAllocs()
	for b.Loop() {
		if err := Parse(msg, &req); err != nil {
			b.Fatal(err)
		}
		fillReply(&reply, &req, Offer, v)
		if _, err := reply.Append(buf[:0], req.MaxMessageSize()); err != nil {
			b.Fatal(err)
		}
	}
}

// TestHotPathAllocatesNothing checks what the benchmarks show: once a
// Packet and a buffer have been used, parsing, filling a reply and
// building it allocate nothing.
func TestHotPathAllocatesNothing(t *testing.T) {
	v := newReplyValues(t)
	var req, reply Packet
	buf := make([]byte, 0, 1500)
	vendor := make([]byte, 200)
	msgs := make([][]byte, len(benchParse))
	for i, bc := range benchParse {
		msgs[i] = goldenMsg(t, bc.file)
	}
	tests := []struct {
		name string
		f    func()
	}{
		{"Parse DISCOVER, REQUEST, ACK", func() {
			for _, m := range msgs {
				if err := Parse(m, &req); err != nil {
					t.Fatal(err)
				}
			}
		}},
		{"Reset and Set reply options", func() { fillReply(&reply, &req, Ack, v) }},
		{"Append", func() {
			if _, err := reply.Append(buf[:0], 1500); err != nil {
				t.Fatal(err)
			}
		}},
		{"Append overloaded", func() {
			reply.Options.Set(OptVendorSpecific, vendor)
			if _, err := reply.Append(buf[:0], 400); err != nil {
				t.Fatal(err)
			}
		}},
		{"typed getters", func() {
			_, _ = req.Options.Addr(OptServerID)
			_, _ = req.Options.Duration(OptLeaseTime)
			_ = req.Options.ParameterRequested(OptClasslessRoutes)
			_ = req.MaxMessageSize()
			info, _ := reply.Options.Get(OptRelayAgentInfo)
			_, _ = SubOption(info, RelayRemoteID)
		}},
	}
	for _, tc := range tests {
		tc.f() // warm the buffers
		if n := testing.AllocsPerRun(100, tc.f); n != 0 {
			t.Errorf("%s: %.1f allocations per run, want 0", tc.name, n)
		}
	}
}
